# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_compare, format_date

from .omni_charge_attempt import RESEND_DELAY

_logger = logging.getLogger(__name__)

INSTALLMENT_STATES = [
    ("scheduled", "Scheduled"),
    ("processing", "Processing"),
    ("paid", "Paid"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
# Attempt states after which an installment failed (the dunning takes over).
FAILED_ATTEMPT_STATES = (
    "failed",
    "error",
    "skipped",
    "not_chargeable",
    "requires_action",
    "cancelled",
)


class OmniInstallment(models.Model):
    _name = "omni.installment"
    _inherit = ["omni.batch.mixin"]
    _description = "Installment"
    _order = "date, sequence, id"

    plan_id = fields.Many2one(
        comodel_name="omni.installment.plan",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    partner_id = fields.Many2one(related="plan_id.partner_id", store=True, string="Customer")
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    plan_state = fields.Selection(related="plan_id.state", string="Plan Status")
    sequence = fields.Integer(default=1, readonly=True)
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True, currency_field="currency_id")
    amount_paid = fields.Monetary(
        compute="_compute_amount_paid", currency_field="currency_id", compute_sudo=True
    )
    state = fields.Selection(
        selection=INSTALLMENT_STATES, required=True, default="scheduled", readonly=True, index=True
    )
    attempt_ids = fields.One2many(
        comodel_name="omni.charge.attempt",
        inverse_name="installment_id",
        string="Charge Attempts",
        readonly=True,
    )
    reason = fields.Char(readonly=True)
    paid_on = fields.Date(readonly=True)

    @api.depends("attempt_ids.state", "attempt_ids.amount")
    def _compute_amount_paid(self):
        for installment in self:
            installment.amount_paid = sum(
                installment.attempt_ids.filtered(lambda a: a.state == "done").mapped("amount")
            )

    @api.depends("plan_id.name", "sequence")
    def _compute_display_name(self):
        for installment in self:
            installment.display_name = self.env._(
                "%(plan)s, #%(number)s",
                plan=installment.plan_id.name or "",
                number=installment.sequence,
            )

    # === CRUD === #

    def write(self, vals):  # pylint: disable=method-required-super
        """Only scheduled installments may change date or amount; each change is logged on
        the plan's chatter and the schedule is checked again."""
        res = self._edit(vals)
        if {"date", "amount"} & set(vals):
            self.plan_id._check_schedule()
        return res

    def _edit(self, vals):
        """``write()`` without the check of the whole schedule: the private path of the
        plan's form, which edits several installments and checks the schedule once after
        (moving an amount from one installment to another is two writes). Never a context
        key: a caller could pass it."""
        edited = {"date", "amount"} & set(vals)
        if not edited:
            # super() from this class: only the check of the schedule is skipped (a private
            # path by design, hence the other method name); write() calls it.
            return super().write(vals)  # pylint: disable=super-method-mismatch
        if any(installment.state != "scheduled" for installment in self):
            raise UserError(
                self.env._(
                    "Only scheduled installments can be changed: a paid, processing, failed or "
                    "cancelled installment keeps its date and amount."
                )
            )
        before = {i.id: (i.date, i.amount) for i in self}
        res = super().write(vals)  # pylint: disable=super-method-mismatch
        changed_dates = self.filtered(lambda i: i.date != before[i.id][0])
        for installment in self:
            old_date, old_amount = before[installment.id]
            if (old_date, old_amount) == (installment.date, installment.amount):
                continue
            currency = installment.currency_id
            installment.plan_id._omni_log(
                self.env._(
                    "Installment %(number)s changed: %(old_date)s, %(old_amount)s → %(date)s, "
                    "%(amount)s.",
                    number=installment.sequence,
                    old_date=format_date(self.env, old_date),
                    old_amount=currency.format(old_amount),
                    date=format_date(self.env, installment.date),
                    amount=currency.format(installment.amount),
                )
            )
        today = fields.Date.context_today(self)
        for installment in changed_dates.filtered(lambda i: i.date < today):
            raise ValidationError(
                self.env._(
                    "%(date)s is in the past: an installment cannot be scheduled before today.",
                    date=format_date(self.env, installment.date),
                )
            )
        return res

    # === BUSINESS METHODS === #

    def _omni_remaining(self):
        self.ensure_one()
        return self.amount - self.amount_paid

    def _charge_installment(self, origin="installment", token=None):
        """Charge what is left of the installment on the plan's open invoices (oldest first)
        with the plan's method. Returns the attempts."""
        self.ensure_one()
        plan = self.plan_id
        invoices = plan._open_invoices()
        if not invoices:
            plan._follow_invoices()
            return self.env["omni.charge.attempt"]
        # sudo: the job (or a manager retrying the dunning) charges for the customer; the
        # engine reads the provider's configuration and creates transactions (payment
        # administrators only). The attempts created are linked to this installment.
        attempts = (
            self.env["omni.charge.attempt"]
            .sudo()
            ._charge_invoices(
                invoices,
                (token or plan.token_id).sudo(),
                amount=self._omni_remaining(),
                origin=origin,
                installment=self.sudo(),
            )
        )
        self._sync_state()
        return attempts

    def _retry_token(self, origin, case):
        """The method a dunning retry charges: the plan's, unless the customer set a new
        default method (or the plan's can no longer be charged): then the new default, which
        the plan keeps for its next installments."""
        self.ensure_one()
        plan = self.plan_id
        token = plan.token_id
        default = plan.partner_id._omni_default_token(plan.company_id)
        usable = token.active and token.omni_authorized and not case.hard_decline
        if (
            default
            and default != token
            and default.omni_authorized
            and (origin == "method" or not usable)
        ):
            plan.token_id = default
            plan._omni_log(
                self.env._(
                    "The installments are now charged to %(method)s (the customer's new "
                    "default method).",
                    method=default._omni_issuer_label(),
                )
            )
            return default
        return token

    def _sync_state(self):
        """Move the installments after their attempts: paid when the attempts paid its amount,
        processing while a debit is in flight, failed (with the reason) when the last one did
        not go through. An attempt left "Not sent" changes nothing: it is sent again later."""
        today = fields.Date.context_today(self)
        plans = self.env["omni.installment.plan"]
        for installment in self.filtered(
            lambda i: i.state in ("scheduled", "processing", "failed")
        ):
            attempts = installment.attempt_ids.sorted("id")
            if not attempts:
                continue
            rounding = installment.currency_id.rounding
            last = attempts[-1]
            fully_paid = (
                float_compare(
                    installment.amount_paid, installment.amount, precision_rounding=rounding
                )
                >= 0
            )
            if (
                not fully_paid
                and last.state == "done"
                and "processing" not in attempts.mapped("state")
            ):
                # The invoices needed less than the installment (paid meanwhile by other
                # means): nothing more is owed for it.
                fully_paid = not installment.plan_id._open_invoices()
            if fully_paid:
                values = {"state": "paid", "paid_on": today, "reason": False}
            elif "processing" in attempts.mapped("state"):
                values = {"state": "processing", "reason": False}
            elif last.state in FAILED_ATTEMPT_STATES:
                values = {"state": "failed", "reason": last.reason}
            else:
                continue
            if values["state"] == installment.state and values.get("reason") == installment.reason:
                continue
            previous = installment.state
            # The job's bookkeeping, not an edit: the date/amount rules do not apply.
            installment.write(values)
            plans |= installment.plan_id
            if values["state"] != previous:
                installment.plan_id._omni_log(installment._state_note())
        plans._check_done()

    def _state_note(self):
        self.ensure_one()
        currency = self.currency_id
        if self.state == "paid":
            return self.env._(
                "Installment %(number)s (%(amount)s) paid.",
                number=self.sequence,
                amount=currency.format(self.amount),
            )
        if self.state == "processing":
            return self.env._(
                "Installment %(number)s (%(amount)s) is processing (bank debit).",
                number=self.sequence,
                amount=currency.format(self.amount),
            )
        return self.env._(
            "Installment %(number)s (%(amount)s) failed: %(reason)s",
            number=self.sequence,
            amount=currency.format(self.amount),
            reason=self.reason or "-",
        )

    # === CRON === #

    @api.model
    def _due_installments(self, today, limit=None, lock=False):
        """Scheduled installments due by ``today`` of running plans. One whose charge was not
        confirmed by Stripe ("Not sent") is taken again once ``RESEND_DELAY`` has passed (by
        a later run, with the same idempotency key); one whose invoice has a charge in
        flight (a debit processing, a payment waiting for the customer) waits for it."""
        query = SQL(
            """
            SELECT i.id
              FROM omni_installment i
              JOIN omni_installment_plan p ON p.id = i.plan_id
             WHERE i.state = 'scheduled'
               AND i.date <= %(today)s
               AND p.state = 'running'
               AND p.company_id IN %(companies)s
               AND NOT EXISTS (
                    SELECT 1 FROM omni_charge_attempt a
                     WHERE a.installment_id = i.id
                       AND a.state IN ('not_sent', 'unknown')
                       AND a.last_sent_at >= %(resend_after)s
               )
               AND NOT EXISTS (
                    SELECT 1 FROM omni_installment_plan_invoice_rel r
                      JOIN omni_charge_attempt a ON a.invoice_id = r.move_id
                     WHERE r.plan_id = p.id
                       AND a.state IN ('processing', 'requires_action')
               )
             ORDER BY i.date, i.id
             %(limit)s
             %(lock)s
            """,
            today=today,
            companies=tuple(self.env.companies.ids),
            resend_after=fields.Datetime.now() - RESEND_DELAY,
            limit=SQL("LIMIT %s", limit) if limit else SQL(),
            lock=SQL("FOR NO KEY UPDATE OF i SKIP LOCKED") if lock else SQL(),
        )
        self.flush_model(["state", "date", "plan_id"])
        self.env["omni.installment.plan"].flush_model(["state", "company_id", "invoice_ids"])
        self.env["omni.charge.attempt"].flush_model(
            ["state", "installment_id", "invoice_id", "last_sent_at"]
        )
        return self.browse(row[0] for row in self.env.execute_query(query))

    @api.model
    def _cron_charge_installments(self, batch_size=50):
        """Charge the installments due today, a bounded batch per call, each in its own
        savepoint (a failure is recorded on its attempt and the batch goes on). Locked rows
        (another worker) are skipped."""
        today = fields.Date.context_today(self)

        def crashed(installment, error):
            _logger.exception("installment %s failed", installment.display_name)

        return self._omni_batch_run(
            lambda limit: self._due_installments(today, limit=limit, lock=True),
            lambda: len(self._due_installments(today)),
            batch_size,
            process=lambda installment: installment._charge_installment(),
            on_crash=crashed,
        ).batch
