# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class OmniBulkChargeWizardLine(models.TransientModel):
    _name = "omni.bulk.charge.wizard.line"
    _description = "Customer in the bulk charge preview"
    _order = "skip desc, id"

    wizard_id = fields.Many2one(
        comodel_name="omni.bulk.charge.wizard", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer", readonly=True)
    invoice_ids = fields.Many2many(comodel_name="account.move", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    amount = fields.Monetary(string="Open Amount", currency_field="currency_id", readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    skip = fields.Boolean(string="Skipped", readonly=True)
    reason = fields.Char(string="Why Skipped", readonly=True)
