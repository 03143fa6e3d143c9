from . import omni_make_payment_wizard
from . import omni_make_payment_installment_line
from . import omni_bulk_charge_wizard
from . import omni_bulk_charge_wizard_line
from . import account_payment_register_compat
from . import omni_bulk_charge_preview
