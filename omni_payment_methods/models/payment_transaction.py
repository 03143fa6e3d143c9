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
            return self.omni_charge_attempt_id._omni_create_payment_intent(self)
        return super()._stripe_create_intent()

    def _omni_before_payment_data(self, payment_data):
        """Refuse payment data about the addon's automatic charge that does not match the
        PaymentIntent the addon sent, before Odoo changes anything (models/payment_compat.py:
        before 18.0's ``_process_notification_data``, 19.0's ``_validate_amount``).

        Note: ``self.ensure_one()`` from the callers
        """
        if self.omni_charge_attempt_id and self.provider_code == "stripe":
            self.omni_charge_attempt_id._omni_check_notification(self, payment_data)

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
        if self.omni_charge_attempt_id:
            attempt = self.omni_charge_attempt_id
            previous = attempt.state
            intent = (payment_data or {}).get("payment_intent")
            if previous == "processing" and self.state == "error" and isinstance(intent, dict):
                attempt._omni_record_payment_failure(intent)
            attempt._omni_update_from_transaction(self)
            # A debit confirmed later, a charge whose answer was lost found by its webhook or
            # by the next run's lookup, a payment the customer authenticated: its outcome is
            # acted on once.
            if (
                previous in ("processing", "unknown", "requires_action")
                and attempt.state != previous
            ):
                attempt._omni_charge_outcome()

    def _omni_after_stripe_tokenize(self, payment_data):
        """Capture the card details of the token payment_stripe just created from
        ``payment_data`` (models/payment_compat.py: after 18.0's
        ``_stripe_tokenize_from_notification_data``, 19.0's ``_tokenize``).

        :param dict payment_data: the Stripe objects of the payment (``payment_method``...)
        """
        token = self.token_id
        if not token or token.stripe_sync_state:
            return
        # Saved while paying online (Odoo's checkout); the addon's own forms create their
        # tokens themselves (omni.payment.setup). Never from the context.
        channel = "checkout"
        token._omni_system_write(
            {
                "added_channel": channel,
                # The transaction's creator is the person who entered the method (the webhook
                # or return route runs as another user).
                "added_by_id": self.create_uid.id,
            }
        )
        # Odoo only saves a method the customer asked it to save at checkout: that is the
        # consent to future charges (other channels record their own wording).
        if channel == "checkout":
            token._omni_record_authorization()
        token._omni_capture_stripe_details(payment_data.get("payment_method"))
