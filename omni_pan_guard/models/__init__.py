from . import omni_pan_guard
from . import mail_activity
from . import mail_message
from . import res_partner
