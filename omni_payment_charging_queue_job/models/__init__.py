from . import omni_bulk_charge
from . import omni_charge_attempt
