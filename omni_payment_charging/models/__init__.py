from . import account_move
from . import account_partial_reconcile
from . import omni_charge_attempt

# The features that follow the charges extend the engine (after it): the customer's
# authentication, installments, dunning, bulk charges.
from . import omni_charge_attempt_authentication
from . import omni_charge_attempt_installment
from . import omni_charge_attempt_dunning
from . import omni_charge_attempt_bulk
from . import omni_dunning_level
from . import omni_dunning_policy
from . import omni_dunning_case
from . import omni_bulk_charge
from . import omni_bulk_charge_line
from . import omni_installment_plan
from . import omni_installment
from . import omni_payment_link
from . import omni_stripe_pacing
from . import payment_transaction
from . import res_config_settings
from . import res_partner
