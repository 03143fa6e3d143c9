from . import payment_token_delete_wizard
