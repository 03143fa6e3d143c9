# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A bank debit (SEPA, ACH, ACSS) comes back "processing"; days later Stripe's webhook says
it failed, with the bank's return code. Returns that the networks forbid to re-present (closed
or unknown account, no authorization) are hard; insufficient funds may be re-presented."""

import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.omni_payment_methods.tests import compat
from odoo.addons.omni_payment_methods.tests.common import TODAY

from .charge_common import ChargeCommon

DAY_1 = datetime.datetime.combine(TODAY, datetime.time(9, 0))


@tagged("post_install", "-at_install")
class TestBankReturns(ChargeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.euro = cls.env.ref("base.EUR")
        cls.euro.active = True
        cls.sepa_method = cls.env.ref("payment.payment_method_sepa_direct_debit")
        cls.sepa_method.supported_currency_ids = cls.euro

    def _debit_processing(self):
        """A SEPA debit charged on day 1, "processing" at Stripe; returns (attempt, intent)."""
        token = self._authorized_token(
            omni_method_kind="bank",
            omni_stripe_pm_type="sepa_debit",
            payment_method_id=self.sepa_method.id,
            omni_card_brand=False,
            omni_card_exp_month=0,
            omni_card_exp_year=0,
            omni_bank_name="Commerzbank",
        )
        with freeze_time(DAY_1):
            invoice = self._invoice(currency=self.euro, due=DAY_1.date())
        fake_cm = self._fake_stripe()
        self.fake = fake_cm.__enter__()
        self.addCleanup(fake_cm.__exit__, None, None, None)
        self.fake.script[token.stripe_payment_method] = "processing"
        with freeze_time(DAY_1):
            self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "processing")
        intent = dict(
            self.fake.by_key[attempt.idempotency_key]["intent"],
            status="requires_payment_method",
            description=attempt.reference,
        )
        return attempt, intent

    def _failed(self, attempt, intent):
        """Stripe's payment_intent.payment_failed, as the webhook hands it to Odoo."""
        with freeze_time(DAY_1):
            compat.process_payment_data(
                attempt.transaction_id, {"reference": attempt.reference, "payment_intent": intent}
            )
        self.assertEqual((attempt.state, attempt.transaction_id.state), ("failed", "error"))

    def _requests_on(self, number):
        with freeze_time(DAY_1 + datetime.timedelta(days=number - 1)):
            self.Case._cron_run_dunning()
        return len(self.fake.requests)

    def test_closed_account_is_hard_and_never_represented(self):
        attempt, intent = self._debit_processing()
        intent["last_payment_error"] = {
            "type": "invalid_request_error",
            "code": "account_closed",
            "message": "The bank account has been closed.",
        }
        self._failed(attempt, intent)
        self.assertEqual((attempt.decline_code, attempt.failure_kind), ("account_closed", "hard"))
        case = attempt.case_id
        self.assertTrue(case.hard_decline)
        # No re-presentment on any later day of the policy.
        for number in range(2, 16):
            self.assertEqual(self._requests_on(number), 1, f"day {number}")

    def test_charge_failure_code_of_the_webhook_version_is_read(self):
        """The webhook endpoint's version (2019-05-16) lists the PaymentIntent's charges: the
        return code is the charge's failure_code when the error names no code."""
        attempt, intent = self._debit_processing()
        intent["last_payment_error"] = {"message": "The debit was not authorized."}
        intent["charges"] = {
            "object": "list",
            "data": [
                {
                    "id": "py_fake_1",
                    "object": "charge",
                    "status": "failed",
                    "failure_code": "debit_not_authorized",
                    "failure_message": "The debit was not authorized.",
                }
            ],
        }
        self._failed(attempt, intent)
        self.assertEqual(attempt.decline_code, "debit_not_authorized")
        self.assertEqual(attempt.failure_kind, "hard")
        self.assertTrue(attempt.case_id.hard_decline)

    def test_insufficient_funds_is_soft_and_represented(self):
        attempt, intent = self._debit_processing()
        intent["last_payment_error"] = {
            "code": "insufficient_funds",
            "message": "The account has insufficient funds.",
        }
        self._failed(attempt, intent)
        self.assertEqual(
            (attempt.decline_code, attempt.failure_kind), ("insufficient_funds", "soft")
        )
        self.assertFalse(attempt.case_id.hard_decline)
        self.assertEqual(self._requests_on(4), 2, "re-presented")

    def test_insufficient_funds_is_represented_at_most_twice(self):
        """NACHA: a debit returned for insufficient funds may be re-presented twice. Each
        re-presentment is processing for days, then returned again."""
        attempt, intent = self._debit_processing()
        insufficient = {"code": "insufficient_funds", "message": "Insufficient funds."}
        self._failed(attempt, dict(intent, last_payment_error=insufficient))
        invoice = attempt.invoice_id
        for number in range(2, 31):
            self._requests_on(number)
            last = self._attempts(invoice)[-1]
            if last.state == "processing":
                retried = dict(
                    self.fake.by_key[last.idempotency_key]["intent"],
                    status="requires_payment_method",
                    description=last.reference,
                    last_payment_error=insufficient,
                )
                self._failed(last, retried)
        attempts = self._attempts(invoice)
        self.assertEqual(attempts.mapped("origin"), ["auto", "retry", "retry"])
        self.assertEqual(len(self.fake.requests), 3)
