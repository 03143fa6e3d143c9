# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _stripe_tokenize_from_notification_data(self, notification_data):
        """Override of `payment_stripe` to capture the card details of the new token."""
        super()._stripe_tokenize_from_notification_data(notification_data)
        token = self.token_id
        if not token or token.stripe_sync_state:
            return
        channel = self.env.context.get("omni_channel") or "checkout"
        token.with_context(omni_stripe_sync=True).write(
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
