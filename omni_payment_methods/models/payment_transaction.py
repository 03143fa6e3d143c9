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

    def _process_notification_data(self, notification_data):
        """Override of `payment`: keep the automatic charge attempt in step with its
        transaction (a bank debit confirmed or failed later by a webhook). A notification
        that does not match the PaymentIntent the addon sent is refused before anything
        changes."""
        if self.omni_charge_attempt_id and self.provider_code == "stripe":
            self.omni_charge_attempt_id._omni_check_notification(self, notification_data)
        res = super()._process_notification_data(notification_data)
        if self.omni_charge_attempt_id:
            attempt = self.omni_charge_attempt_id
            previous = attempt.state
            attempt._omni_update_from_transaction(self)
            if previous == "processing" and attempt.state != previous:
                attempt._omni_charge_outcome()
        return res

    def _stripe_tokenize_from_notification_data(self, notification_data):
        """Override of `payment_stripe` to capture the card details of the new token."""
        super()._stripe_tokenize_from_notification_data(notification_data)
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
        token._omni_capture_stripe_details(notification_data.get("payment_method"))
