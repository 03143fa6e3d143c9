# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Card declines as Stripe reports them: decline code, error code, Stripe's advice code and
the card network's advice code (Mastercard MAC, Visa category)."""

import contextlib
import datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.omni_payment_methods.tests.common import TODAY

from .charge_common import ChargeCommon, FakeClient, FakePaymentIntents


class AdviceFakePaymentIntents(FakePaymentIntents):
    """The SDK-level fake whose declines also carry the error fields Stripe adds to a card
    error (``advice_code``, ``network_advice_code``...): script a payment method with
    ``("decline", decline_code, {field: value})``; a field set to None is left out."""

    def _outcome(self, behaviour, params):
        extra = {}
        if isinstance(behaviour, tuple) and len(behaviour) > 2:
            behaviour, extra = behaviour[:2], behaviour[2]
        outcome = super()._outcome(behaviour, params)
        if extra:
            error = {key: value for key, value in {**outcome["error"], **extra}.items() if value}
            intent = dict(outcome["intent"], last_payment_error=dict(error))
            error.pop("payment_intent", None)
            intent["last_payment_error"].pop("payment_intent", None)
            outcome.update(intent=intent, error=dict(error, payment_intent=intent))
        return outcome


@tagged("post_install", "-at_install")
class TestDeclineAdvice(ChargeCommon):
    @contextlib.contextmanager
    def _fake_stripe(self):
        intents = AdviceFakePaymentIntents()
        client = FakeClient(intents)
        with patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: client
        ):
            yield intents

    def _decline(self, reason, brand="visa", **error):
        """Charge a new customer's due invoice with a card declining with the decline code
        ``reason`` (and the error fields ``error``); returns the attempt."""
        partner = self.env["res.partner"].create(
            {"name": f"Decline {reason or error}", "omni_payment_mode": "automatic"}
        )
        token = self._authorized_token(partner, brand=brand)
        invoice = self._invoice(partner)
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = ("decline", reason, error)
            self._run_charges()
        return self._attempts(invoice)

    def test_advice_codes_are_recorded_and_read(self):
        attempt = self._decline(
            "insufficient_funds",
            brand="mastercard",
            advice_code="do_not_try_again",
            network_advice_code="03",
        )
        self.assertEqual(
            (attempt.advice_code, attempt.network_advice_code), ("do_not_try_again", "03")
        )
        self.assertEqual((attempt.state, attempt.failure_kind), ("failed", "hard"))
        self.assertTrue(attempt.case_id.hard_decline)

    def test_network_advice_alone_makes_a_decline_hard(self):
        # Mastercard MAC 21: the cardholder cancelled the recurring payments.
        attempt = self._decline("generic_decline", brand="mastercard", network_advice_code="21")
        self.assertEqual(attempt.network_advice_code, "21")
        self.assertEqual(attempt.failure_kind, "hard")

    def test_retry_later_advice(self):
        attempt = self._decline(
            "generic_decline", brand="mastercard", advice_code="try_again_later"
        )
        self.assertEqual(attempt.advice_code, "try_again_later")
        self.assertEqual(attempt.failure_kind, "retry_later")
        self.assertFalse(attempt.case_id.hard_decline)

    def test_card_data_errors_are_hard(self):
        """A CVC, expiry or postal code refused: the same stored data cannot succeed."""
        for code in ("incorrect_cvc", "invalid_expiry_year", "expired_card"):
            attempt = self._decline(None, code=code, decline_code=None)
            self.assertEqual(attempt.decline_code, code)
            self.assertEqual(attempt.failure_kind, "hard", code)
        attempt = self._decline("incorrect_zip")
        self.assertEqual(attempt.failure_kind, "hard")

    def test_do_not_honor_is_soft_and_other_invoices_are_charged(self):
        """Visa 05 "do not honor" is retryable: the case is not a hard decline, and the
        customer's next invoice is charged as usual."""
        token = self._authorized_token()
        first = self._invoice()
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = ("decline", "do_not_honor")
            self._run_charges()
            attempt = self._attempts(first)
            self.assertEqual((attempt.state, attempt.failure_kind), ("failed", "soft"))
            self.assertFalse(attempt.case_id.hard_decline)
            fake.script[token.stripe_payment_method] = "succeed"
            with freeze_time(TODAY + datetime.timedelta(days=1)):
                second = self._invoice(due=TODAY)
                self._run_charges()
        self.assertEqual(self._attempts(second).state, "done")

    def test_retry_after_advice_waits_before_the_next_retry(self):
        """Mastercard MAC 27, "retry after 4 days", on day 1: no retry on the policy's days 2
        and 4, one on day 5."""
        attempt = self._decline("generic_decline", brand="mastercard", network_advice_code="27")
        self.assertEqual(attempt.failure_kind, "retry_later")
        case = attempt.case_id
        with self._fake_stripe() as fake:
            for number in (2, 3, 4, 5):
                with freeze_time(case.started_on + datetime.timedelta(days=number - 1)):
                    self.Case._cron_run_dunning()
                if number == 4:
                    self.assertFalse(fake.requests, "no retry before the advised day")
        self.assertEqual(len(fake.requests), 1)
        self.assertEqual(len(self._attempts(attempt.invoice_id)), 2)
