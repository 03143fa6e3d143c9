"""Point the demo database's Stripe provider at the development Stripe and seed its cards.

Run by ``tools/omnictl.py run`` through ``odoo-bin shell`` (``env`` is Odoo's environment).
Reads OMNI_STRIPE_API_BASE (localstripe URL; empty for Stripe itself),
OMNI_STRIPE_SECRET_KEY and OMNI_STRIPE_PUBLISHABLE_KEY from the environment.

The demo cards of the addon carry placeholder Stripe ids; this script creates a Stripe
customer per demo customer and a PaymentMethod per demo card (from Stripe's public test card
numbers, which only a test server accepts raw), then stores the real ids and details.

It then adds what the demo data cannot hold because it needs Stripe:
- a customer paying by SEPA Direct Debit (a bank-account method);
- Jane Cooper and Acme Robotics in automatic payment mode (Brian Holt stays manual);
- one customer in each dunning stage (grace, warning, suspended, terminated) and one waiting
  for the customer's authentication (3-D Secure): each gets an authorized card that Stripe
  declines at charge time and a posted overdue invoice; the addon's own charging code
  fails on it, then the case is moved back in time and run again by the dunning code, so
  the emails, activities and chatter notes are the real ones.
"""

import datetime
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
            "state": "test",
            "is_published": True,
        }
    )
    client = provider._omni_stripe_client()
    tokens = env["payment.token"].search([("stripe_payment_method", "=like", "pm_demo_%")])
    customers = {}
    for token in tokens.sorted(lambda t: (not t.omni_is_default, t.id)):
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
                            "exp_month": token.omni_card_exp_month,
                            "exp_year": token.omni_card_exp_year,
                            "cvc": "123",
                        },
                        "billing_details": {"name": token.omni_holder_name or partner.name},
                    }
                )
                pm = client.v1.payment_methods.attach(pm["id"], {"customer": customer_id})
            else:
                pm = client.v1.payment_methods.attach(
                    TEST_PAYMENT_METHODS[last4], {"customer": customer_id}
                )
            token._omni_system_write(
                {"provider_ref": customer_id, "stripe_payment_method": pm["id"]}
            )
            details = token._omni_values_from_payment_method(pm)
            # Keep the demo expiry (Stripe's test cards have their own). localstripe also
            # says "visa", "credit", "FR" for every number: keep the demo's brand and funding.
            kept = ["omni_card_exp_month", "omni_card_exp_year"]
            if api_base:
                kept += ["omni_card_brand", "omni_card_funding", "omni_card_country_id"]
            for name in kept:
                details.pop(name, None)
            token._omni_system_write(details)
            if token.omni_is_default:
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
    for xmlid in ("res_partner_demo_jane", "res_partner_demo_acme"):
        env.ref(f"omni_payment_methods.{xmlid}").omni_payment_mode = "automatic"
    env.ref("omni_payment_methods.res_partner_demo_brian").omni_payment_mode = "manual"
    env.cr.commit()
    for step in (seed_sepa_customer, seed_dunning_customers):
        try:
            step(env, provider, client, api_base)
            env.cr.commit()
        except Exception as exc:  # noqa: BLE001 - the rest of the demo still works
            env.cr.rollback()
            print(f"demo setup: {step.__name__} failed: {exc}")


# Charge-time failures: localstripe declines 4000000000000341 when it is charged (the card
# attaches fine) and asks 4000002500003155 for authentication; real Stripe has test
# PaymentMethods for the same.
DECLINED_AT_CHARGE = ("4000000000000341", "pm_card_chargeCustomerFail")
NEEDS_AUTHENTICATION = ("4000002500003155", "pm_card_authenticationRequired")
SEPA_IBAN = "DE89370400440532013000"

# (name, email, dunning day to reach, card, wanted state)
DUNNING_CUSTOMERS = [
    ("Northwind Traders", "ap@northwind.example.com", 2, DECLINED_AT_CHARGE, "grace"),
    ("Blue Harbor Cafe", "owner@blueharbor.example.com", 5, DECLINED_AT_CHARGE, "warning"),
    ("Lumen Studio", "billing@lumen-studio.example.com", 10, DECLINED_AT_CHARGE, "suspended"),
    ("Oak & Iron Ltd", "accounts@oak-iron.example.com", 16, DECLINED_AT_CHARGE, "terminated"),
    ("Delta Fitness", "finance@delta-fitness.example.com", 1, NEEDS_AUTHENTICATION, "waiting"),
]


def _stripe_method(client, api_base, customer_id, params, test_pm):
    """Create and attach a PaymentMethod: raw details on localstripe, Stripe's test
    PaymentMethod ``test_pm`` on the real API."""
    if api_base:
        pm = client.v1.payment_methods.create(params)
        return client.v1.payment_methods.attach(pm["id"], {"customer": customer_id})
    return client.v1.payment_methods.attach(test_pm, {"customer": customer_id})


def _token(env, provider, partner, customer_id, pm, method_xmlid, nickname=False):
    """A token as the addon makes it: details read from Stripe, consent recorded."""
    token = env["payment.token"].create(
        {
            "provider_id": provider.id,
            "payment_method_id": env.ref(method_xmlid).id,
            "partner_id": partner.id,
            "payment_details": (pm.get("card") or pm.get("sepa_debit") or {}).get("last4"),
            "provider_ref": customer_id,
            "stripe_payment_method": pm["id"],
            "omni_added_channel": "staff",
            "omni_nickname": nickname,
        }
    )
    token._omni_capture_stripe_details(pm)
    token._omni_record_authorization()
    return token


def seed_sepa_customer(env, provider, client, api_base):
    partner = env["res.partner"].create(
        {
            "name": "Müller Maschinenbau GmbH",
            "is_company": True,
            "email": "buchhaltung@mueller-maschinenbau.example.com",
            "city": "Stuttgart",
            "country_id": env.ref("base.de").id,
            "omni_payment_mode": "automatic",
        }
    )
    customer_id = client.v1.customers.create({"name": partner.name, "email": partner.email})["id"]
    params = {
        "type": "sepa_debit",
        "sepa_debit": {"iban": SEPA_IBAN},
        "billing_details": {"name": partner.name, "email": partner.email},
    }
    # Stripe's test IBAN is accepted raw by localstripe and by the real API in test mode.
    pm = client.v1.payment_methods.create(params)
    pm = client.v1.payment_methods.attach(pm["id"], {"customer": customer_id})
    pm = pm.to_dict() if hasattr(pm, "to_dict") else dict(pm)
    token = _token(
        env,
        provider,
        partner,
        customer_id,
        pm,
        "payment.payment_method_sepa_direct_debit",
        nickname="Company account",
    )
    if not token.omni_bank_name or token.omni_bank_name.isdigit():
        # Stripe's sepa_debit details carry the bank code (stored when there is no name):
        # the demo shows the name of the test IBAN's bank.
        # (a stored method's details change only through the addon's own writes)
        token._omni_system_write({"omni_bank_name": "Commerzbank"})
    print(f"demo setup: {partner.name}: {token._omni_issuer_label()} (SEPA Direct Debit)")


def seed_dunning_customers(env, provider, client, api_base):
    Attempt = env["omni.charge.attempt"]
    today = datetime.date.today()
    company = env.company
    for name, email, day, (number, test_pm), wanted in DUNNING_CUSTOMERS:
        started_on = today - datetime.timedelta(days=day - 1)
        partner = env["res.partner"].create(
            {"name": name, "is_company": True, "email": email, "omni_payment_mode": "automatic"}
        )
        customer_id = client.v1.customers.create({"name": name, "email": email})["id"]
        params = {
            "type": "card",
            "card": {"number": number, "exp_month": 9, "exp_year": today.year + 3, "cvc": "123"},
            "billing_details": {"name": name},
        }
        pm = _stripe_method(client, api_base, customer_id, params, test_pm)
        pm = pm.to_dict() if hasattr(pm, "to_dict") else dict(pm)
        _token(env, provider, partner, customer_id, pm, "payment.payment_method_card")
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": started_on - datetime.timedelta(days=30),
                "invoice_date_due": started_on,
                "currency_id": company.currency_id.id,
                "invoice_line_ids": [
                    (0, 0, {"name": "Monthly subscription", "quantity": 1, "price_unit": 149.0})
                ],
            }
        )
        invoice.action_post()
        invoice.invoice_date_due = started_on
        attempt = Attempt._charge(invoice)
        case = attempt.case_id
        if case and day > 1:
            # The first failure happened `day - 1` days ago: the dunning job catches up
            # level by level (retrying where the policy says so, with the real card).
            case.started_on = started_on
            for _run in range(4):
                if partner.omni_dunning_state == wanted:
                    break
                case.last_run_at = False
                case._omni_run()
        env.cr.commit()
        state = case.state if wanted == "waiting" else partner.omni_dunning_state
        print(
            f"demo setup: {name}: dunning {state} (day {case.day if case else '-'}, "
            f"{attempt.state}: {attempt.reason or '-'})"
        )


main(env)  # noqa: F821 - provided by odoo-bin shell
