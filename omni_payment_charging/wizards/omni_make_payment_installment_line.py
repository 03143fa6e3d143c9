# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class OmniMakePaymentInstallmentLine(models.TransientModel):
    _name = "omni.make.payment.installment.line"
    _description = "Installment to schedule"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        comodel_name="omni.make.payment.wizard", required=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=1)
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(currency_field="currency_id")
