# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class PaymentMethod(models.Model):
    _inherit = "payment.method"

    def write(self, vals):
        """Override of `payment`: the tokens Odoo archives with a payment method that is
        archived, detached from a provider or stops supporting tokenization stay attached in
        Stripe (``payment.token._handle_archiving``)."""
        return super(PaymentMethod, self.with_context(omni_keep_in_stripe=True)).write(vals)
