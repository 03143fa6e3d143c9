from . import omni_payment_reminder
from . import omni_stripe_event
from . import payment_provider
from . import payment_token
from . import payment_transaction
from . import res_config_settings
from . import res_partner
