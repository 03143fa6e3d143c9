# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import time

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.omni_payment_methods.tests.common import (
    stripe_event,
    stripe_signature,
)
from odoo.addons.omni_payment_methods.tests.test_bank_accounts import FAILING_IBAN
from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_stripe.controllers.main import StripeController

from .charge_common import ChargeCommon, LocalStripeChargeCommon


@tagged("post_install", "-at_install")
class TestSepaDebitWebhooks(LocalStripeChargeCommon, PaymentHttpCommon):
    """A SEPA debit charged through localstripe stays "processing"; Stripe's signed
    payment_intent.* event, posted to Odoo's own webhook route, settles the attempt."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret = cls.stripe.stripe_webhook_secret
        cls.euro = cls.env.ref("base.EUR")
        cls.euro.active = True
        cls.sepa_method = cls.env.ref("payment.payment_method_sepa_direct_debit")
        cls.sepa_method.supported_currency_ids = cls.euro

    def _sepa_token(self, iban):
        customer_id = self.client.v1.customers.create({"name": "SEPA", "email": "s@x.org"})["id"]
        pm = self.client.v1.payment_methods.create(
            {
                "type": "sepa_debit",
                "sepa_debit": {"iban": iban},
                "billing_details": {"name": "SEPA Customer", "email": "s@x.org"},
            }
        )
        pm = self.client.v1.payment_methods.attach(pm["id"], {"customer": customer_id})
        token = self.Token.create(
            {
                "provider_id": self.stripe.id,
                "payment_method_id": self.sepa_method.id,
                "partner_id": self.customer.id,
                "payment_details": iban[-4:],
                "provider_ref": customer_id,
                "stripe_payment_method": pm["id"],
            }
        )
        token._omni_capture_stripe_details(pm.to_dict())
        token._omni_record_authorization(self.Token._omni_mandate_wording("sepa_debit"))
        return token

    def _charge_processing(self, iban):
        token = self._sepa_token(iban)
        self.assertEqual(token.omni_method_kind, "bank")
        invoice = self._invoice(currency=self.euro)
        self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.token_id, token)
        self.assertEqual((attempt.state, attempt.transaction_id.state), ("processing", "pending"))
        return invoice, attempt

    def _settled_intent(self, attempt, status):
        """The PaymentIntent once localstripe settled the debit (it does so 0.5 s later)."""
        for _i in range(40):
            intent = self.client.v1.payment_intents.retrieve(attempt.stripe_payment_intent)
            if intent["status"] != "processing":
                break
            time.sleep(0.1)
        intent = intent.to_dict()
        self.assertEqual(intent["status"], status)
        # Stripe returns the description Odoo sent (localstripe drops it).
        intent["description"] = attempt.reference
        return intent

    def _post_event(self, event_type, intent):
        body = json.dumps(stripe_event(event_type, intent))
        self.env.flush_all()
        response = self.url_open(
            StripeController._webhook_url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_signature(body, self.secret, int(time.time())),
            },
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200)

    def test_processing_then_succeeded(self):
        # localstripe settles a good IBAN at once: Stripe's "processing" is modelled by the
        # SDK-level fake here; the confirmation goes through the real webhook route.
        token = self._authorized_token(
            omni_method_kind="bank",
            omni_stripe_pm_type="sepa_debit",
            payment_method_id=self.sepa_method.id,
            omni_card_brand=False,
            omni_card_exp_month=0,
            omni_card_exp_year=0,
            omni_bank_name="Commerzbank",
        )
        invoice = self._invoice(currency=self.euro)
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "processing"
            self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual((attempt.state, attempt.transaction_id.state), ("processing", "pending"))
        # Until Stripe confirms, the customer's invoice shows the payment as pending (Odoo's
        # portal) and staff see the charge "Processing".
        self.env.flush_all()
        page = self.url_open(invoice.get_portal_url()).text
        self.assertRegex(page, r'class="[^"]*badge[^"]*">\s*(?:<[^>]*>\s*)*Pending')
        self.assertEqual(
            dict(self.Attempt._fields["state"]._description_selection(self.env))[attempt.state],
            "Processing",
        )
        intent = dict(
            fake.by_key[attempt.idempotency_key]["intent"],
            status="succeeded",
            description=attempt.reference,
        )
        self._post_event("payment_intent.succeeded", intent)
        self.assertEqual((attempt.state, attempt.transaction_id.state), ("done", "done"))
        self.assertFalse(attempt.case_id)
        self.assertNotIn(attempt, self.Attempt.search(self._failed_domain()))

    def test_processing_then_failed_lands_in_failed_payments(self):
        invoice, attempt = self._charge_processing(FAILING_IBAN)
        intent = self._settled_intent(attempt, "requires_payment_method")
        intent.setdefault("last_payment_error", None)
        intent["last_payment_error"] = intent["last_payment_error"] or {
            "code": "insufficient_funds",
            "message": "The account has insufficient funds.",
        }
        self._post_event("payment_intent.payment_failed", intent)
        self.assertEqual((attempt.state, attempt.transaction_id.state), ("failed", "error"))
        self.assertTrue(attempt.reason)
        self.assertEqual(attempt.case_id.stage, "grace")
        # The Failed Payments list staff work from shows it, with the reason.
        failed = self.Attempt.search(self._failed_domain())
        self.assertIn(attempt, failed)
        self.assertEqual(attempt.invoice_payment_state, "not_paid")
        self.assertEqual(invoice.payment_state, "not_paid")

    def _failed_domain(self):
        action = self.env.ref("omni_payment_charging.omni_charge_attempt_action_failed")
        domain = safe_eval(action.domain)
        context = safe_eval(action.context)
        self.assertEqual(context, {"search_default_filter_unpaid": 1})
        return [*domain, ("invoice_payment_state", "in", ("not_paid", "partial"))]


@tagged("post_install", "-at_install")
class TestFailedPaymentsAndAuthorized(ChargeCommon):
    """The Failed Payments list and the "Authorized for automatic charges" filter."""

    def test_failed_payments_action_lists_failures_only(self):
        declined = self._authorized_token()
        paid_customer = self.env["res.partner"].create(
            {"name": "Pays", "omni_payment_mode": "automatic", "email": "p@x.org"}
        )
        ok = self._authorized_token(partner=paid_customer)
        bad_invoice = self._invoice()
        good_invoice = self._invoice(partner=paid_customer)
        with self._fake_stripe() as fake:
            fake.script[declined.stripe_payment_method] = ("decline", "insufficient_funds")
            fake.script[ok.stripe_payment_method] = "succeed"
            self._run_charges()
        failed_attempt = self._attempts(bad_invoice)
        self.assertEqual(failed_attempt.state, "failed")
        self.assertEqual(self._attempts(good_invoice).state, "done")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "omni_payment_charging.omni_charge_attempt_action_failed"
        )
        self.assertEqual(action["res_model"], "omni.charge.attempt")
        found = self.Attempt.search(safe_eval(action["domain"]))
        self.assertEqual(found, failed_attempt)
        self.assertIn(
            "insufficient_funds", failed_attempt.reason + (failed_attempt.decline_code or "")
        )
        # The list shows the reason, invoice, customer, method and date.
        arch = self.Attempt.get_view(action["views"][0][0], "list")["arch"]
        for field in ("reason", "invoice_id", "partner_id", "token_id", "write_date"):
            self.assertIn(f'name="{field}"', arch)
        # Staff reach it from Invoicing > Customers.
        menu = self.env.ref("omni_payment_charging.omni_charge_attempt_failed_menu")
        self.assertEqual(menu.parent_id, self.env.ref("account.menu_finance_receivables"))
        self.assertEqual(
            menu.action, self.env.ref("omni_payment_charging.omni_charge_attempt_action_failed")
        )

    def test_account_awaiting_verification_is_never_charged(self):
        token = self._authorized_token(
            omni_method_kind="bank",
            omni_stripe_pm_type="us_bank_account",
            omni_card_brand=False,
            omni_card_exp_month=0,
            omni_card_exp_year=0,
            omni_bank_name="STRIPE TEST BANK",
            omni_awaiting_verification=True,
        )
        self.assertTrue(token.omni_is_default)
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(fake.requests, [])
        self.assertEqual(attempt.state, "skipped")
        self.assertIn("awaiting verification", attempt.reason)
        # Odoo's own flows (checkout, Register Payment) do not offer it either.
        self.assertNotIn(token, self.Token._get_available_tokens(self.stripe.ids, self.customer.id))

    def test_token_saved_before_install_is_charged_with_its_own_type(self):
        """A SEPA token payment_stripe saved before the addon was installed has no Stripe
        type stored: the charge names the type of its Odoo payment method, not "card"."""
        euro = self.env.ref("base.EUR")
        euro.active = True
        sepa_method = self.env.ref("payment.payment_method_sepa_direct_debit")
        sepa_method.supported_currency_ids = euro
        token = self.Token.create(
            {
                "provider_id": self.stripe.id,
                "payment_method_id": sepa_method.id,
                "partner_id": self.customer.id,
                "payment_details": "3000",
                "provider_ref": "cus_before_install",
                "stripe_payment_method": "pm_before_install",
            }
        )
        token._omni_init_existing()
        token.action_omni_confirm_authorization()  # staff confirm the customer's consent
        invoice = self._invoice(currency=euro)
        with self._fake_stripe() as fake:
            self._run_charges()
        self.assertEqual(self._attempts(invoice).token_id, token)
        (_key, params) = fake.requests[0]
        self.assertEqual(params["payment_method_types"], ["sepa_debit"])
        self.assertRecordValues(
            token, [{"omni_stripe_pm_type": "sepa_debit", "omni_method_kind": "bank"}]
        )

    def test_authorized_filter(self):
        Partner = self.env["res.partner"]
        unauthorized = Partner.create({"name": "No consent", "is_company": True})
        self._omni_token(unauthorized)  # saved without a recorded consent
        contact = Partner.create({"name": "Contact", "parent_id": self.customer.id})
        self._authorized_token()
        nothing = Partner.create({"name": "Nothing saved"})
        found = Partner.search(
            [
                ("omni_has_authorized_method", "=", True),
                ("id", "in", (unauthorized | contact | nothing | self.customer).ids),
            ]
        )
        self.assertEqual(found, self.customer | contact)
        self.assertTrue(contact.omni_has_authorized_method)
        self.assertFalse(unauthorized.omni_has_authorized_method)
        not_found = Partner.search(
            [("omni_has_authorized_method", "=", False), ("id", "in", (unauthorized | nothing).ids)]
        )
        self.assertEqual(not_found, unauthorized | nothing)
        arch = Partner.get_view(self.env.ref("base.view_res_partner_filter").id, "search")["arch"]
        self.assertIn('name="omni_has_authorized_method"', arch)
        # The customer's Payment Methods list shows which methods are authorized.
        list_arch = self.Token.get_view(
            self.env.ref("omni_payment_methods.payment_token_view_list_omni").id, "list"
        )["arch"]
        self.assertIn('name="omni_authorized"', list_arch)
