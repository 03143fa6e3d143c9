# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# Each feature's part of a charge lives with the feature and extends the engine, which
# names none of them (the outcome hook): not merged into the engine's class, on purpose.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.tools import SQL


class OmniChargeAttempt(models.Model):
    """What the installments add to the charging engine: the installment an attempt pays,
    invoices under a running plan left to their plan, installments moving with their
    attempts."""

    _inherit = "omni.charge.attempt"

    installment_id = fields.Many2one(
        comodel_name="omni.installment",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )

    @api.model
    def _due_invoices_conditions(self):
        """Override: an invoice under a running plan of installments is charged by its
        plan, not by the automatic charge."""
        self.env["omni.installment.plan"].flush_model(["state", "invoice_ids"])
        return [
            *super()._due_invoices_conditions(),
            SQL(
                """NOT EXISTS (
                    SELECT 1 FROM omni_installment_plan_invoice_rel r
                      JOIN omni_installment_plan pl ON pl.id = r.plan_id
                     WHERE r.move_id = m.id AND pl.state = 'running'
                )"""
            ),
        ]

    @api.model
    def _new_attempt_links(self, invoice, installment=None):
        """Override: a charge for an installment of ``invoice``'s plan is linked to it."""
        values = super()._new_attempt_links(invoice, installment=installment)
        if installment and invoice in installment.plan_id.invoice_ids:
            values["installment_id"] = installment.id
        return values

    def _on_charge_outcome(self):
        """Override: the installments move with their attempts (paid, processing, failed),
        before super: the dunning, after, looks at the customer's balance."""
        self.installment_id._sync_state()
        return super()._on_charge_outcome()
