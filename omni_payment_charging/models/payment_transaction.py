# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    omni_charge_attempt_id = fields.Many2one(
        comodel_name="omni.charge.attempt",
        string="Automatic Charge",
        readonly=True,
        index="btree_not_null",
        copy=False,
    )

    def _stripe_create_intent(self):
        """Override of `payment_stripe`: the addon's automatic charges send their
        PaymentIntent through the SDK with the key of their attempt (invoice + attempt
        number), so that no retry, crash or second worker ever charges twice."""
        if self.omni_charge_attempt_id and self.operation == "offline":
            return self.omni_charge_attempt_id._create_payment_intent(self)
        return super()._stripe_create_intent()

    def _omni_before_payment_data(self, payment_data):
        """Refuse payment data about the addon's automatic charge that does not match the
        PaymentIntent the addon sent, before Odoo changes anything (models/payment_compat.py:
        before 18.0's ``_process_notification_data``, 19.0's ``_validate_amount``).

        Note: ``self.ensure_one()`` from the callers
        """
        res = super()._omni_before_payment_data(payment_data)
        if self.omni_charge_attempt_id and self.provider_code == "stripe":
            self.omni_charge_attempt_id._check_notification(self, payment_data)
        return res

    def _omni_after_payment_data(self, payment_data=None):
        """Keep the automatic charge attempt in step with its transaction (a bank debit
        confirmed or failed later by a webhook, a charge whose answer was lost). Called once
        Odoo applied the provider's payment data to the transaction (models/payment_compat.py:
        18.0's ``_process_notification_data``, 19.0's ``_process``).

        A failure reported later (a bank debit returned) is classified from the return code
        in ``payment_data``: a closed account is a hard decline, insufficient funds a soft one.

        Note: ``self.ensure_one()`` from the callers

        :param dict payment_data: the provider's data (``payment_intent``...), or None
        """
        res = super()._omni_after_payment_data(payment_data)
        if self.omni_charge_attempt_id:
            attempt = self.omni_charge_attempt_id
            previous = attempt.state
            intent = (payment_data or {}).get("payment_intent")
            if previous == "processing" and self.state == "error" and isinstance(intent, dict):
                attempt._record_payment_failure(intent)
            attempt._update_from_transaction(self)
            # A debit confirmed later, a charge whose answer was lost found by its webhook or
            # by the next run's lookup, a payment the customer authenticated: its outcome is
            # acted on once.
            if (
                previous in ("processing", "unknown", "requires_action")
                and attempt.state != previous
            ):
                attempt._charge_outcome()
        return res
