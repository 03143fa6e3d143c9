# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

# The link to authenticate a payment the customer's bank held (3-D Secure off-session).
AUTHENTICATION_LINK_VALIDITY_DAYS = 14


class OmniPaymentLink(models.Model):
    """Links that let the customer authenticate and pay the charge of an invoice that the
    customer's bank held for 3-D Secure (``purpose`` "authentication", one charge attempt)."""

    _inherit = "omni.payment.link"

    purpose = fields.Selection(
        selection_add=[("authentication", "Payment authentication")],
        ondelete={"authentication": "cascade"},
    )
    attempt_id = fields.Many2one(
        comodel_name="omni.charge.attempt",
        string="Charge to Authenticate",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )
