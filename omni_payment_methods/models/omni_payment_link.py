# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import hashlib
import secrets

from odoo import api, fields, models
from odoo.tools import SQL

from ..compat import orm as compat_orm

LINK_VALIDITY_DAYS = 30


def _digest(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@compat_orm.sql_constraints(
    ("token_hash_uniq", "UNIQUE(token_hash)", "A link secret is used once only."),
)
class OmniPaymentLink(models.Model):
    """A single-use link that lets a customer act without an account: see and add payment
    methods (``purpose`` "methods"). Other modules add purposes (``selection_add``) with the
    fields their links need, given to ``_issue(values=...)``.

    Only the SHA-256 of the random secret is stored: the database never holds a usable link.
    The link is consumed when a method is successfully added through it (or when the charge
    is paid); viewing the page does not consume it. A link serves its purpose only.
    """

    _name = "omni.payment.link"
    _description = "Single-use link to add a payment method"
    _order = "id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        readonly=True,
        index=True,
        help="The company that sent the link (record rules: its users only).",
    )
    purpose = fields.Selection(
        selection=[("methods", "Payment methods")],
        required=True,
        default="methods",
        readonly=True,
    )
    token_hash = fields.Char(required=True, index=True, readonly=True, copy=False)
    expires_on = fields.Datetime(required=True, readonly=True)
    used_on = fields.Datetime(readonly=True, copy=False)
    used_token_id = fields.Many2one(
        comodel_name="payment.token", string="Method Added", readonly=True, copy=False
    )
    state = fields.Selection(
        selection=[("valid", "Valid"), ("used", "Used"), ("expired", "Expired")],
        compute="_compute_state",
    )

    @api.depends("used_on", "expires_on")
    def _compute_state(self):
        now = fields.Datetime.now()
        for link in self:
            if link.used_on:
                link.state = "used"
            elif link.expires_on and link.expires_on < now:
                link.state = "expired"
            else:
                link.state = "valid"

    @api.model
    def _issue(self, partner, validity_days=LINK_VALIDITY_DAYS, company=None, values=None):
        """Create a link for ``partner``'s commercial entity, sent by ``company``; return its
        secret (for the URL).

        :param values: more values of the link (another ``purpose`` and its fields)
        """
        return self._issue_many([(partner, company)], validity_days, values=values)[0]

    @api.model
    def _issue_many(self, requests, validity_days=LINK_VALIDITY_DAYS, values=None):
        """``_issue`` for each ``(partner, company)`` of ``requests``, in one insert;
        return the secrets in the same order."""
        issued = [secrets.token_urlsafe(32) for _request in requests]
        expires_on = fields.Datetime.now() + datetime.timedelta(days=validity_days)
        self.create(
            [
                {
                    "partner_id": partner.commercial_partner_id.id,
                    "company_id": (company or self.env.company).id,
                    "purpose": "methods",
                    "token_hash": _digest(secret),
                    "expires_on": expires_on,
                    **(values or {}),
                }
                for (partner, company), secret in zip(requests, issued, strict=True)
            ]
        )
        return issued

    @api.model
    def _find(self, secret, purpose="methods"):
        """Return the link of ``secret`` for ``purpose`` whatever its state (empty if unknown
        or issued for another purpose)."""
        if not secret or not isinstance(secret, str) or len(secret) > 128:
            return self.browse()
        return self.search(
            [("token_hash", "=", _digest(secret)), ("purpose", "=", purpose)], limit=1
        )

    def _is_usable(self):
        self.ensure_one()
        return self.state == "valid" and bool(self.partner_id.exists())

    def _consume(self, token):
        """Mark the link used by ``token``; False if another request consumed it first."""
        self.ensure_one()
        # One UPDATE guarded on used_on: two concurrent additions cannot both consume it.
        self.env.cr.execute(
            SQL(
                "UPDATE omni_payment_link SET used_on = now() at time zone 'UTC', "
                "used_token_id = %s WHERE id = %s AND used_on IS NULL AND expires_on > "
                "now() at time zone 'UTC' RETURNING id",
                token.id,
                self.id,
            )
        )
        consumed = bool(self.env.cr.fetchone())
        self.invalidate_recordset(["used_on", "used_token_id"])
        return consumed

    def _use(self):
        """Mark the links used (the payment they were sent for is made)."""
        self.filtered(lambda link: not link.used_on).write({"used_on": fields.Datetime.now()})

    @api.autovacuum
    def _gc_expired_links(self):
        """Forget links that expired or were used more than 90 days ago."""
        limit = fields.Datetime.now() - datetime.timedelta(days=90)
        self.search(
            ["|", ("expires_on", "<", limit), ("used_on", "<", limit)], limit=10000
        ).unlink()
