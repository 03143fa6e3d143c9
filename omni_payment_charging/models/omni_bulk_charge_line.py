# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models

from odoo.addons.omni_payment_methods.compat import orm as compat_orm

from .omni_bulk_charge import LINE_STATES, OPEN_INVOICE_DOMAIN
from .omni_charge_attempt import RESEND_DELAY

_logger = logging.getLogger(__name__)


@compat_orm.sql_constraints(
    (
        "run_partner_uniq",
        "UNIQUE(run_id, partner_id)",
        "A customer appears once in a bulk charge.",
    ),
)
class OmniBulkChargeLine(models.Model):
    _name = "omni.bulk.charge.line"
    _description = "Customer of a Bulk Charge"
    _order = "id"
    _rec_name = "partner_id"

    run_id = fields.Many2one(
        comodel_name="omni.bulk.charge",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True, readonly=True, index=True
    )
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        relation="omni_bulk_charge_line_invoice_rel",
        column1="line_id",
        column2="invoice_id",
        string="Invoices",
        readonly=True,
        help="The selected invoices; empty: the customer's open balance in the company.",
    )
    token_id = fields.Many2one(comodel_name="payment.token", string="Payment Method", readonly=True)
    state = fields.Selection(
        selection=LINE_STATES, required=True, readonly=True, default="to_do", index=True
    )
    reason = fields.Char(readonly=True)
    amount_open = fields.Monetary(
        string="Open Amount",
        readonly=True,
        currency_field="currency_id",
        help="What the customer owed (or the selected invoices) when the run started.",
    )
    amount = fields.Monetary(
        string="Charged",
        readonly=True,
        currency_field="currency_id",
        help="The amount Stripe accepted (paid, or a bank debit processing).",
    )
    charged_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Invoices Charged",
        compute="_compute_charged_invoice_ids",
    )
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    attempt_ids = fields.Many2many(
        comodel_name="omni.charge.attempt",
        relation="omni_bulk_charge_line_attempt_rel",
        column1="line_id",
        column2="attempt_id",
        string="Charge Attempts",
        readonly=True,
    )
    retry_after = fields.Datetime(
        readonly=True,
        help="Stripe did not confirm the charge: a later batch sends it again (same key).",
    )

    @api.depends("attempt_ids.invoice_id")
    def _compute_charged_invoice_ids(self):
        for line in self:
            line.charged_invoice_ids = line.attempt_ids.invoice_id

    def _open_invoices(self):
        """The line's invoices still open, else the customer's open customer invoices of the
        run's company."""
        self.ensure_one()
        company = self.run_id.company_id
        if self.invoice_ids:
            return self.invoice_ids.filtered_domain(OPEN_INVOICE_DOMAIN)
        if self.run_id.source == "invoices":
            return self.env["account.move"]
        return self.env["account.move"].search(
            [
                *OPEN_INVOICE_DOMAIN,
                ("commercial_partner_id", "=", self.partner_id.id),
                ("company_id", "=", company.id),
            ]
        )

    def _charge(self):
        """Charge the customer's default authorized method for the line's open invoices."""
        self.ensure_one()
        company = self.run_id.company_id
        token = self.partner_id._omni_default_token(company)
        if not token or not token.omni_authorized:
            reason = (
                self.env._(
                    "%(method)s has no recorded authorization for automatic charges.",
                    method=token._omni_issuer_label(),
                )
                if token
                else self.env._(
                    "The customer has no default payment method in %(company)s.",
                    company=company.name,
                )
            )
            self.write({"state": "skipped", "reason": reason, "token_id": token.id})
            return
        invoices = self._open_invoices()
        if not invoices:
            self.write(
                {
                    "state": "skipped",
                    "reason": self.env._("Nothing open to charge anymore."),
                    "token_id": token.id,
                }
            )
            return
        # sudo: the run was started by a manager (checked by the wizard); the charging
        # engine reads the provider's configuration and creates the transactions, which only
        # payment administrators may do.
        attempts = (
            self.env["omni.charge.attempt"].sudo()._charge_invoices(invoices, token, origin="bulk")
        )
        self.write(
            {"token_id": token.id, "attempt_ids": [fields.Command.link(a.id) for a in attempts]}
        )
        if not attempts:
            # Another worker is charging one of the invoices (e.g. the automatic charge).
            self.write(
                {
                    "retry_after": fields.Datetime.now() + RESEND_DELAY,
                    "reason": self.env._("The invoices are being charged by another process."),
                }
            )
            return
        self._update_from_attempts()

    def _update_from_attempts(self):
        """The line's state follows its attempts: all paid -> succeeded; a decline -> failed;
        a bank debit processing or an authentication asked -> pending; Stripe unreachable ->
        to do again by a later batch."""
        for line in self:
            attempts = line.attempt_ids.sorted("id")
            states = set(attempts.mapped("state"))
            accepted = attempts.filtered(lambda a: a.state in ("done", "processing"))
            values = {
                "amount": sum(accepted.mapped("amount")),
                "currency_id": accepted[:1].currency_id.id or line.currency_id.id,
            }
            failure = attempts.filtered(
                lambda a: a.state in ("failed", "error", "skipped", "not_chargeable")
            )
            if failure:
                values.update(state="failed", reason=failure[-1:].reason)
            elif states & {"not_sent", "unknown"}:
                not_sent = attempts.filtered(lambda a: a.state in ("not_sent", "unknown"))[-1:]
                values.update(
                    state="to_do",
                    reason=not_sent.reason,
                    retry_after=fields.Datetime.now() + RESEND_DELAY,
                )
            elif states & {"processing", "requires_action"}:
                waiting = attempts.filtered(lambda a: a.state in ("processing", "requires_action"))[
                    -1:
                ]
                values.update(
                    state="pending",
                    reason=waiting.reason
                    or self.env._("Bank debit processing: Stripe confirms it later."),
                )
            else:
                values.update(state="succeeded", reason=False, retry_after=False)
            line.write(values)
