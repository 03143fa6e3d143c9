# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.omni_payment_methods.tests.common import TODAY

from .charge_common import ChargeCommon


@tagged("post_install", "-at_install")
class TestMakePayment(ChargeCommon):
    """Staff take a payment with a saved method ("Make a payment")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="omni_pay_manager",
            groups="account.group_account_invoice,"
            "omni_payment_methods.group_omni_payment_method_manager",
        )
        cls.viewer = new_test_user(
            cls.env,
            login="omni_pay_viewer",
            groups="account.group_account_invoice,"
            "omni_payment_methods.group_omni_payment_method_viewer",
        )
        cls.Wizard = cls.env["omni.make.payment.wizard"]

    def _wizard(self, records, user=None, **values):
        user = user or self.manager
        context = {"active_model": records._name, "active_ids": records.ids}
        if records._name == "res.partner":
            context["active_id"] = records.id
        wizard = self.Wizard.with_user(user).with_context(**context).create(values)
        if "amount" not in values:
            wizard._onchange_invoice_ids()
        return wizard

    def _state(self):
        """What a refused payment must not change."""
        return (
            self.Attempt.search_count([]),
            self.env["payment.transaction"].search_count([]),
            self.env["account.payment"].search_count([]),
        )

    def test_from_the_invoice_with_the_default_method(self):
        token = self._authorized_token()
        invoice = self._invoice(amount=80.0)
        wizard = self._wizard(invoice)
        self.assertEqual(wizard.token_id, token, "the default method is preselected")
        self.assertEqual((wizard.invoice_ids, wizard.amount, wizard.balance), (invoice, 80, 80))
        with self._fake_stripe() as fake:
            action = wizard.action_charge()
        self.assertEqual(action["params"]["type"], "success")
        attempt = self._attempts(invoice)
        self.assertEqual((attempt.state, attempt.origin, attempt.amount), ("done", "payment", 80))
        self.assertEqual(fake.requests[0][1]["amount"], 8000)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # The receipts: Odoo's payment message on the invoice, the audit note on the customer.
        self.assertTrue(
            any("has been posted" in body for body in invoice.message_ids.mapped("body"))
        )
        self.assertIn("charged", self.customer.message_ids[0].body)

    def test_from_the_customer_an_amount_pays_the_oldest_first(self):
        self._authorized_token()
        old = self._invoice(amount=100.0, due=TODAY - datetime.timedelta(days=60))
        new = self._invoice(amount=50.0, due=TODAY - datetime.timedelta(days=30))
        other_card = self._authorized_token(last4="5555", brand="mastercard")
        wizard = self._wizard(self.customer, amount=120.0)
        self.assertEqual(wizard.invoice_ids, old | new)
        wizard.token_id = other_card  # another method than the default, for this payment
        with self._fake_stripe() as fake:
            wizard.action_charge()
        self.assertEqual([r[1]["amount"] for r in fake.requests], [10000, 2000])
        self.assertEqual(self._attempts(old).token_id, other_card)
        self.assertIn(old.payment_state, ("paid", "in_payment"))
        self.assertEqual(new.payment_state, "partial")
        self.assertEqual(new.amount_residual, 30.0)

    def test_manual_mode_customer_can_pay_by_phone(self):
        self._authorized_token()
        self.customer.omni_payment_mode = "manual"
        invoice = self._invoice()
        with self._fake_stripe():
            self._wizard(invoice).action_charge()
        self.assertEqual(self._attempts(invoice).state, "done")

    def test_declined_payment_starts_no_dunning(self):
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = ("decline", "insufficient_funds")
            action = self._wizard(invoice).action_charge()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("insufficient_funds", action["params"]["message"])
        self.assertEqual(self._attempts(invoice).state, "failed")
        self.assertFalse(self.customer.omni_dunning_case_ids)
        self.assertEqual(self.customer.omni_dunning_state, "active")
        # The automatic job still charges the invoice later (a staff attempt does not count).
        self.assertIn(invoice, self.Attempt._due_invoices(invoice.invoice_date_due))

    def test_available_credit_is_shown(self):
        self._authorized_token()
        invoice = self._invoice()
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": TODAY - datetime.timedelta(days=30),
                "invoice_line_ids": [
                    Command.create({"name": "Goodwill", "quantity": 1, "price_unit": 15.0})
                ],
            }
        )
        refund.action_post()
        self.assertEqual(self._wizard(invoice).available_credit, 15.0)

    def test_bad_input_is_refused_and_changes_nothing(self):
        token = self._authorized_token()
        unauthorized = self._omni_token(self.customer, last4="1111")
        archived = self._authorized_token(last4="2222")
        archived.with_context(omni_keep_in_stripe=True).action_archive()  # no Stripe here
        invoice = self._invoice(amount=60.0)
        before = self._state()
        cases = [
            ({"amount": 0.0}, "greater than zero"),
            ({"amount": -5.0}, "greater than zero"),
            ({"amount": 60.01}, "more than the open balance"),
            ({"token_id": False}, "Choose a saved payment method"),
            ({"token_id": unauthorized.id}, "no recorded authorization"),
            ({"token_id": archived.id}, "deleted or has no recorded authorization"),
            ({"invoice_ids": [Command.clear()], "amount": 10.0}, "Select the invoices"),
        ]
        with self._fake_stripe() as fake:
            for values, message in cases:
                wizard = self._wizard(invoice, **values)
                with self.assertRaisesRegex(ValidationError, message):
                    wizard.action_charge()
            with self.assertRaises(AccessError):
                self._wizard(invoice, user=self.viewer).action_charge()
            inr = self.env.ref("base.INR")
            inr.active = True
            self.stripe.available_currency_ids = self.company.currency_id
            rupees = self._invoice(amount=60.0, currency=inr)
            with self.assertRaisesRegex(ValidationError, "is in INR, which .* does not accept"):
                self._wizard(rupees).action_charge()
            with self.assertRaisesRegex(ValidationError, "one currency"):
                self._wizard(invoice | rupees).action_charge()
            # A method of another company (forged through RPC: the form does not offer it).
            other_company = self.env["res.company"].create({"name": "Omni Other Company"})
            other_provider = self.stripe.copy({"company_id": other_company.id})
            foreign = self._authorized_token(last4="3333", provider_id=other_provider.id)
            with self.assertRaisesRegex(ValidationError, "must belong to one company"):
                self._wizard(invoice, token_id=foreign.id).action_charge()
        self.assertFalse(fake.requests)
        self.assertEqual(self._state(), before)
        self.assertEqual(self._wizard(invoice).token_id, token)

    def test_pending_charge_is_not_taken_again(self):
        token = self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "processing"
            self._run_charges()
            before = self._state()
            with self.assertRaisesRegex(UserError, "not settled yet"):
                self._wizard(invoice).action_charge()
        self.assertEqual(len(fake.requests), 1)
        self.assertEqual(self._state(), before)

    def test_invoices_of_several_customers_are_refused(self):
        other = self.env["res.partner"].create({"name": "Someone else"})
        invoices = self._invoice() | self._invoice(other)
        with self.assertRaisesRegex(UserError, "one customer"):
            self._wizard(invoices)
