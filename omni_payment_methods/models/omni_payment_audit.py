# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import html2plaintext

from .payment_token import CHANNELS

EVENTS = [
    ("added", "Added"),
    ("default", "Default changed"),
    ("renamed", "Renamed"),
    ("deleted", "Deleted"),
    ("updated", "Updated by Stripe"),
    ("charged", "Charged"),
    ("failed", "Charge failed"),
    ("other", "Other"),
]

# Channels of a change: how a method was added (CHANNELS) plus who else changes methods.
AUDIT_CHANNELS = [
    *CHANNELS,
    ("stripe", "Stripe (webhook or synchronization)"),
    ("system", "Automatic (scheduled job)"),
]


class OmniPaymentAudit(models.Model):
    """One row per change of a stored payment method, as on the customer's chatter.

    Written only by the addon (``payment.token._omni_log``) with superuser rights; nobody
    may create, change or delete a row through the interface or RPC. Brand and last 4 at most.
    """

    _name = "omni.payment.audit"
    _description = "Payment Method Audit Log"
    _order = "date desc, id desc"
    _rec_name = "summary"

    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True, index=True)
    token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Payment Method",
        ondelete="set null",
        readonly=True,
        index="btree_not_null",
        context={"active_test": False},
    )
    commercial_partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", readonly=True, index=True
    )
    company_id = fields.Many2one(comodel_name="res.company", readonly=True, index=True)
    event = fields.Selection(selection=EVENTS, required=True, readonly=True, index=True)
    channel = fields.Selection(selection=AUDIT_CHANNELS, readonly=True)
    user_id = fields.Many2one(comodel_name="res.users", string="By", readonly=True)
    summary = fields.Char(readonly=True, help="What happened: brand and last 4 at most.")
    message_id = fields.Many2one(
        comodel_name="mail.message", string="Chatter Note", readonly=True, ondelete="set null"
    )

    @api.model_create_multi
    def create(self, vals_list):
        # Nobody has the create, write or unlink right (ir.model.access): rows come from
        # ``payment.token._omni_log`` only, with superuser rights.
        for vals in vals_list:
            if vals.get("summary"):
                vals["summary"] = html2plaintext(vals["summary"]).strip()[:500]
        return super().create(vals_list)
