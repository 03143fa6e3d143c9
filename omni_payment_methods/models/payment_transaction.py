# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _omni_before_payment_data(self, payment_data):
        """Hook: the provider's ``payment_data`` is about to be applied to the transaction
        (models/payment_compat.py: before 18.0's ``_process_notification_data``, 19.0's
        ``_validate_amount``); raise to refuse it before Odoo changes anything.

        Note: ``self.ensure_one()`` from the callers
        """

    def _omni_after_payment_data(self, payment_data=None):
        """Hook: Odoo applied the provider's ``payment_data`` to the transaction
        (models/payment_compat.py: 18.0's ``_process_notification_data``, 19.0's
        ``_process``).

        Note: ``self.ensure_one()`` from the callers
        """

    def _omni_after_stripe_tokenize(self, payment_data):
        """Capture the card details of the token payment_stripe just created from
        ``payment_data`` (models/payment_compat.py: after 18.0's
        ``_stripe_tokenize_from_notification_data``, 19.0's ``_tokenize``).

        :param dict payment_data: the Stripe objects of the payment (``payment_method``...)
        """
        token = self.token_id
        if not token or token.omni_stripe_sync_state:
            return
        # Saved while paying online (Odoo's checkout); the addon's own forms create their
        # tokens themselves (omni.payment.setup). Never from the context.
        channel = "checkout"
        token._omni_system_write(
            {
                "omni_added_channel": channel,
                # The transaction's creator is the person who entered the method (the webhook
                # or return route runs as another user).
                "omni_added_by_id": self.create_uid.id,
            }
        )
        # Odoo only saves a method the customer asked it to save at checkout: that is the
        # consent to future charges (other channels record their own wording).
        if channel == "checkout":
            token._omni_record_authorization()
        token._omni_capture_stripe_details(payment_data.get("payment_method"))
