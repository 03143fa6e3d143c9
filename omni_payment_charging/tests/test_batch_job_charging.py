# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from .charge_common import ChargeCommon


@tagged("post_install", "-at_install")
class TestChargingJobCrashes(ChargeCommon):
    """The charging job on the batch runner: an invoice whose charge crashes, in either
    phase of the batch, gets its visible trace; the other invoices of the batch are
    charged."""

    QUIET = "odoo.addons.omni_payment_charging.models.omni_charge_attempt"

    def _two_invoices(self):
        other = self.env["res.partner"].create(
            {"name": "Other payer", "omni_payment_mode": "automatic"}
        )
        self._authorized_token()
        self._authorized_token(other)
        return self._invoice(), self._invoice(other)

    def _assert_crash_recorded(self, crashed, charged):
        self.assertEqual(self._attempts(charged).state, "done")
        self.assertIn(charged.payment_state, ("paid", "in_payment"))
        attempt = self._attempts(crashed)
        self.assertEqual(len(attempt), 1)
        self.assertEqual(attempt.state, "not_sent")
        self.assertIn("Unexpected error while charging", attempt.reason)
        self.assertEqual(crashed.payment_state, "not_paid")

    @mute_logger(QUIET)
    def test_crash_while_preparing(self):
        crashed, charged = self._two_invoices()
        Attempt = self.registry["omni.charge.attempt"]
        prepare = Attempt._charge_prepare

        def crash_on_first(model, invoice, *args, **kwargs):
            if invoice == crashed:
                raise RuntimeError("cannot prepare")
            return prepare(model, invoice, *args, **kwargs)

        with (
            self._fake_stripe() as fake,
            patch.object(Attempt, "_charge_prepare", crash_on_first),
        ):
            self._run_charges()
        self.assertEqual(len(fake.charges), 1)
        self._assert_crash_recorded(crashed, charged)

    @mute_logger(QUIET)
    def test_crash_while_applying_stripe_answer(self):
        crashed, charged = self._two_invoices()
        Attempt = self.registry["omni.charge.attempt"]
        outcome = Attempt._charge_outcome

        def crash_on_first(attempt, *args, **kwargs):
            if attempt.invoice_id == crashed:
                raise RuntimeError("cannot apply")
            return outcome(attempt, *args, **kwargs)

        with (
            self._fake_stripe() as fake,
            patch.object(Attempt, "_charge_outcome", crash_on_first),
        ):
            self._run_charges()
        # Both requests were sent at once: the next run sends the crashed one again with
        # its key (Stripe answers with its first result).
        self.assertEqual(len(fake.charges), 2)
        self._assert_crash_recorded(crashed, charged)
