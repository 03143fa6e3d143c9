# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class PaymentTokenDeleteWizard(models.TransientModel):
    _name = "omni.payment.token.delete.wizard"
    _description = "Confirm the deletion of a saved payment method"

    token_id = fields.Many2one(comodel_name="payment.token", required=True, ondelete="cascade")
    is_last = fields.Boolean(readonly=True)
    message = fields.Text(compute="_compute_message")

    @api.depends("token_id", "is_last")
    def _compute_message(self):
        for wizard in self:
            token = wizard.token_id
            if token.omni_method_kind == "card" and token.omni_expiry_display:
                text = self.env._(
                    "Delete %(method)s (expires %(expiry)s)? It is removed from Stripe and "
                    "cannot be undone.",
                    method=token._omni_issuer_label(),
                    expiry=token.omni_expiry_display,
                )
            else:
                text = self.env._(
                    "Delete %(method)s? It is removed from Stripe and cannot be undone.",
                    method=token._omni_issuer_label(),
                )
            if wizard.is_last:
                text += "\n\n" + self.env._(
                    "This is the customer's last payment method: automatic billing stops "
                    "until a new method is added."
                )
            wizard.message = text

    def action_confirm(self):
        self.ensure_one()
        label = self.token_id._omni_delete()
        return self.token_id._omni_notify(
            self.env._("%(method)s has been deleted.", method=label), reload=True
        )
