# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    omni_installment_plan_ids = fields.Many2many(
        comodel_name="omni.installment.plan",
        relation="omni_installment_plan_invoice_rel",
        column1="move_id",
        column2="plan_id",
        string="Installment Plans",
        readonly=True,
        copy=False,
        groups="omni_payment_methods.group_omni_payment_method_viewer",
    )
    omni_installment_count = fields.Integer(
        string="Installments",
        compute="_compute_omni_installment_count",
        groups="omni_payment_methods.group_omni_payment_method_viewer",
    )

    def _compute_omni_installment_count(self):
        for move in self:
            move.omni_installment_count = len(move.omni_installment_plan_ids.installment_ids)

    def _omni_installment_due(self):
        """{invoice id: part of its open amount that is due} for those of ``self`` under a
        running plan of installments: only its failed installments are due (the later ones
        are not, and the ones being charged are in flight). The failed amount is spread over
        the plan's invoices oldest first, as the charges are."""
        due = {}
        # sudo: the dunning of any reader (its amount, its links) follows the plans, which
        # only payment method staff may open.
        plans = self.sudo().omni_installment_plan_ids.filtered(lambda p: p.state == "running")
        for plan in plans:
            failed = sum(
                i.amount - i.amount_paid for i in plan.installment_ids if i.state == "failed"
            )
            for invoice in plan._open_invoices():
                part = max(min(invoice.amount_residual, failed), 0.0)
                due[invoice.id] = due.get(invoice.id, 0.0) + part
                failed -= part
        return due

    def action_omni_open_installments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "omni_payment_charging.omni_installment_action"
        )
        action["domain"] = [("plan_id", "in", self.omni_installment_plan_ids.ids)]
        action["context"] = {}
        return action
