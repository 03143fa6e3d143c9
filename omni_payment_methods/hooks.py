# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def post_init_hook(env):
    """Give tokens that existed before the install their default mark and channel.

    Card details of those tokens are fetched from Stripe by the "Fetch details from Stripe"
    action, not here: an install must not depend on Stripe being reachable.
    """
    env["payment.token"].with_context(active_test=True).search([])._omni_init_existing()
