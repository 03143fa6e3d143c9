# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `account`: an invoice paid by any means (card, transfer, credit note)
        may end its customer's dunning."""
        partials = super().create(vals_list)
        moves = (partials.debit_move_id | partials.credit_move_id).move_id.filtered(
            lambda m: m.move_type == "out_invoice"
        )
        if moves:
            # sudo: whoever reconciles, the customer's dunning must follow the payment.
            cases = (
                self.env["omni.dunning.case"]
                .sudo()
                .search(
                    [
                        ("invoice_ids", "in", moves.ids),
                        ("state", "!=", "resolved"),
                    ]
                )
            )
            cases._check_resolved()
            # sudo: whoever reconciles, the plans of installments must follow the payment
            # (paid by other means: the remaining installments are cancelled).
            plans = (
                self.env["omni.installment.plan"]
                .sudo()
                .search([("invoice_ids", "in", moves.ids), ("state", "=", "running")])
            )
            plans._follow_invoices()
        return partials
