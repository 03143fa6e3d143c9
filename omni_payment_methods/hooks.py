# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tools import SQL


def post_init_hook(env):
    """Give tokens that existed before the install their default mark and channel.

    No consent to automatic charges is recorded for them: staff confirm it per method or all
    at once in Settings, and are recorded as having done so.

    Card details of those tokens are fetched from Stripe by the "Fetch details from Stripe"
    action, not here: an install must not depend on Stripe being reachable.
    """
    # The addon's own records (its demo methods) are not "saved before the install".
    own = env["ir.model.data"].search(
        [("module", "=", "omni_payment_methods"), ("model", "=", "payment.token")]
    )
    env["payment.token"].with_context(active_test=True).search(
        [("id", "not in", own.mapped("res_id"))]
    )._omni_init_existing()


def uninstall_hook(env):
    """Remove what the addon created outside its records.

    The indexes on payment_token (one default per customer, card expiry) and the settings
    stored as system parameters (reminder offsets, card number guard) have no xml id, so
    Odoo's uninstall would leave them. Dropping the addon's columns would drop the indexes
    too; they are dropped by name here so that nothing depends on the order of that cleanup.
    """
    env.cr.execute(
        SQL(
            "DROP INDEX IF EXISTS payment_token_omni_one_default_uniq, "
            "payment_token_omni_card_expiry_index"
        )
    )
    env["ir.config_parameter"].search([("key", "=like", "omni_payment_methods.%")]).unlink()
