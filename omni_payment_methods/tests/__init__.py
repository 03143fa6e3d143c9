from . import test_token_capture
from . import test_default_rules
from . import test_delete_rules
from . import test_card_number_guard
from . import test_security
from . import test_security_rpc
from . import test_webhooks
