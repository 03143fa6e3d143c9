"""Point the demo database's Stripe provider at the development Stripe and seed its cards.

Run by ``tools/omnictl.py run`` through ``odoo-bin shell`` (``env`` is Odoo's environment).
Reads OMNI_STRIPE_API_BASE (localstripe URL; empty for Stripe itself),
OMNI_STRIPE_SECRET_KEY and OMNI_STRIPE_PUBLISHABLE_KEY from the environment.

The demo cards of the addon carry placeholder Stripe ids; this script creates a Stripe
customer per demo customer and a PaymentMethod per demo card (from Stripe's public test card
numbers, which only a test server accepts raw), then stores the real ids and details.
"""

import os

# Public Stripe test numbers, by the last 4 the demo cards show.
TEST_NUMBERS = {
    "4242": "4242424242424242",
    "4444": "5555555555554444",
    "3222": "2223003122003222",
    "5556": "4000056655665556",
    "1117": "6011111111111117",
}
# With real Stripe test keys raw numbers are refused: Stripe's test PaymentMethods instead.
TEST_PAYMENT_METHODS = {
    "4242": "pm_card_visa",
    "4444": "pm_card_mastercard",
    "3222": "pm_card_mastercard",
    "5556": "pm_card_visa_debit",
    "1117": "pm_card_discover",
}


def main(env):
    api_base = os.environ.get("OMNI_STRIPE_API_BASE") or False
    secret = os.environ["OMNI_STRIPE_SECRET_KEY"]
    publishable = os.environ["OMNI_STRIPE_PUBLISHABLE_KEY"]
    provider = env.ref("payment.payment_provider_stripe")
    provider.write(
        {
            "stripe_secret_key": secret,
            "stripe_publishable_key": publishable,
            "omni_stripe_api_base": api_base,
            "state": "test",
            "is_published": True,
        }
    )
    client = provider._omni_stripe_client()
    tokens = env["payment.token"].search([("stripe_payment_method", "=like", "pm_demo_%")])
    customers = {}
    for token in tokens.sorted(lambda t: (not t.is_default, t.id)):
        partner = token.commercial_partner_id
        try:
            if partner.id not in customers:
                customers[partner.id] = client.v1.customers.create(
                    {"name": partner.name, "email": partner.email or None}
                )["id"]
            customer_id = customers[partner.id]
            last4 = token.payment_details
            if api_base:
                pm = client.v1.payment_methods.create(
                    {
                        "type": "card",
                        "card": {
                            "number": TEST_NUMBERS[last4],
                            "exp_month": token.card_exp_month,
                            "exp_year": token.card_exp_year,
                            "cvc": "123",
                        },
                        "billing_details": {"name": token.holder_name or partner.name},
                    }
                )
                pm = client.v1.payment_methods.attach(pm["id"], {"customer": customer_id})
            else:
                pm = client.v1.payment_methods.attach(
                    TEST_PAYMENT_METHODS[last4], {"customer": customer_id}
                )
            token.with_context(omni_stripe_sync=True).write(
                {"provider_ref": customer_id, "stripe_payment_method": pm["id"]}
            )
            details = token._omni_values_from_payment_method(pm)
            # Keep the demo expiry (Stripe's test cards have their own). localstripe also
            # says "visa", "credit", "FR" for every number: keep the demo's brand and funding.
            kept = ["card_exp_month", "card_exp_year"]
            if api_base:
                kept += ["card_brand", "card_funding", "card_country_id"]
            for name in kept:
                details.pop(name, None)
            token.with_context(omni_stripe_sync=True).write(details)
            if token.is_default:
                client.v1.customers.update(
                    customer_id, {"invoice_settings": {"default_payment_method": pm["id"]}}
                )
            print(f"demo setup: {token._omni_issuer_label()} -> {pm['id']} ({customer_id})")
        except Exception as exc:  # noqa: BLE001 - a demo card that fails stays 'to synchronize'
            print(f"demo setup: {token._omni_issuer_label()} not created in Stripe: {exc}")
    env.cr.commit()
    portal = env.ref("omni_payment_methods.res_users_demo_portal_jane", raise_if_not_found=False)
    if portal:
        print(f"demo setup: portal login {portal.login} / password jane-demo")


main(env)  # noqa: F821 - provided by odoo-bin shell
