# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_compare

from ..lib import dunning as dunning_lib

_logger = logging.getLogger(__name__)

CASE_STATES = [
    ("open", "In progress"),
    ("waiting", "Waiting for the customer"),
    ("paused", "Paused"),
    ("resolved", "Resolved"),
]
OPEN_STATES = ("open", "waiting", "paused")


class OmniDunningCase(models.Model):
    _name = "omni.dunning.case"
    _inherit = ["omni.batch.mixin"]
    _description = "Dunning"
    _order = "state, started_on, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one(comodel_name="res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    policy_id = fields.Many2one(comodel_name="omni.dunning.policy", readonly=True)
    level_id = fields.Many2one(comodel_name="omni.dunning.level", readonly=True)
    stage = fields.Selection(related="level_id.stage", store=True)
    state = fields.Selection(
        selection=CASE_STATES, required=True, default="open", readonly=True, index=True
    )
    started_on = fields.Date(
        required=True,
        readonly=True,
        default=fields.Date.context_today,
        help="Day of the first failed charge (day 1 of the policy).",
    )
    resolved_on = fields.Date(readonly=True)
    last_run_at = fields.Datetime(
        readonly=True, help="Last time the dunning job looked at the case (once a day)."
    )
    day = fields.Integer(compute="_compute_day")
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        relation="omni_dunning_case_invoice_rel",
        string="Invoices",
        readonly=True,
    )
    attempt_ids = fields.One2many(
        comodel_name="omni.charge.attempt", inverse_name="case_id", string="Attempts"
    )
    last_attempt_id = fields.Many2one(
        comodel_name="omni.charge.attempt", string="Last Charge Attempt", readonly=True
    )
    last_attempt_on = fields.Datetime(string="Last Attempt", related="last_attempt_id.create_date")
    decline_reason = fields.Char(readonly=True)
    failure_kind = fields.Selection(related="last_attempt_id.failure_kind")
    hard_decline = fields.Boolean(
        readonly=True,
        help="The last failure cannot succeed with the same method: no retry until the "
        "customer's default method changes.",
    )
    last_retry_day = fields.Integer(
        readonly=True, help="Day of the dunning of the last scheduled retry (0: none yet)."
    )
    retry_count = fields.Integer(
        string="Scheduled Retries",
        readonly=True,
        help="Retries made on the policy's retry days with the current payment method.",
    )
    retry_not_before = fields.Date(
        readonly=True,
        help="The issuer or the card network asked to retry later: no scheduled retry before "
        "this day.",
    )
    retry_requested_at = fields.Datetime(
        readonly=True,
        help="A new payment method was set at this time: the job retries at once.",
    )
    amount_due = fields.Monetary(
        compute="_compute_amount_due",
        # The amount is part of the case, which viewers may read; its computation reads the
        # invoices, which viewers without an Invoicing group may not open.
        compute_sudo=True,
        currency_field="currency_id",
    )

    def init(self):
        # One open case per customer and company.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS omni_dunning_case_open_uniq "
                "ON omni_dunning_case (partner_id, company_id) WHERE state != 'resolved'"
            )
        )

    @api.depends("started_on")
    def _compute_day(self):
        today = self._omni_today()
        for case in self:
            case.day = dunning_lib.dunning_day(case.started_on, today) if case.started_on else 0

    @api.depends("invoice_ids.amount_residual")
    def _compute_amount_due(self):
        for case in self:
            case.amount_due = sum(
                invoice.currency_id._convert(amount, case.currency_id, case.company_id)
                for invoice, amount in case._amounts_due().items()
            )

    # Links of the emails: methods the templates call while rendering, never fields (reading
    # a field must not issue a link nor give an invoice's access token).

    def _omni_update_url(self):
        """A new single-use link to the customer's payment methods (for the email)."""
        self.ensure_one()
        return self.partner_id._omni_payment_methods_url(company=self.company_id)

    def _omni_pay_url(self):
        """Portal page of the oldest open invoice, where the customer completes the payment
        (False when nothing is open)."""
        self.ensure_one()
        invoice = self._open_invoices()[:1]
        return f"{invoice.get_base_url()}{invoice.get_portal_url()}" if invoice else False

    def _omni_authentication_url(self):
        """A new signed link to the page where the customer authenticates the charge the
        bank held (3-D Secure), for the email asking for it; the invoice's portal page when
        no charge waits for it."""
        self.ensure_one()
        waiting = (
            self.last_attempt_id.filtered(lambda a: a.state == "requires_action")
            or (self.attempt_ids.filtered(lambda a: a.state == "requires_action")[:1])
        )
        return waiting._omni_authentication_url() if waiting else self._omni_pay_url()

    def _omni_today(self):
        return fields.Date.context_today(self)

    def _amounts_due(self):
        """{invoice: amount due} for the case's invoices with something due, oldest due
        first. The not-yet-due part of an invoice under a running plan of installments is not
        due: only its failed installments are, and without one the invoice is not listed."""
        self.ensure_one()
        invoices = self.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.payment_state in ("not_paid", "partial")
        ).sorted(lambda m: (m.invoice_date_due or m.date, m.id))
        planned = invoices._omni_installment_due()
        amounts = {}
        for invoice in invoices:
            amount = planned.get(invoice.id, invoice.amount_residual)
            if float_compare(amount, 0.0, precision_rounding=invoice.currency_id.rounding) > 0:
                amounts[invoice] = amount
        return amounts

    def _open_invoices(self):
        """The case's invoices with something due, oldest due first."""
        self.ensure_one()
        return self.env["account.move"].union(*self._amounts_due())

    def _failed_installments(self):
        """Failed installments of the customer's running plans (in the case's company)."""
        self.ensure_one()
        return self.env["omni.installment"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("state", "=", "failed"),
                ("plan_id.state", "=", "running"),
            ],
            order="date, id",
        )

    # === FAILURES === #

    @api.model
    def _register_failure(self, attempt):
        """Attach a failed (or not chargeable) attempt to the customer's open case, opening
        one (at the policy's first level) when there is none."""
        partner = attempt.partner_id
        case = self.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", attempt.company_id.id),
                ("state", "in", OPEN_STATES),
            ],
            limit=1,
        )
        values = {"last_attempt_id": attempt.id, "decline_reason": attempt.reason}
        if attempt.failure_kind != dunning_lib.CONFIG:
            # Only an answer from the bank says whether the method can work again, and when.
            values["hard_decline"] = attempt.failure_kind == dunning_lib.HARD
            values["retry_not_before"] = self._retry_not_before(attempt)
        if case:
            case.write(dict(values, invoice_ids=[fields.Command.link(attempt.invoice_id.id)]))
            if attempt.company_side and case.state != "paused":
                case._hold_for_company(attempt)
            elif attempt.state == "requires_action" and case.state == "open":
                case._wait_for_customer(attempt)
            elif case.state == "waiting" and attempt.state != "requires_action":
                case.state = "open"
            attempt.case_id = case
            return case
        case = self.create(
            dict(
                values,
                partner_id=partner.id,
                company_id=attempt.company_id.id,
                policy_id=self.env["omni.dunning.policy"]
                ._for_partner(partner, attempt.company_id)
                .id,
                invoice_ids=[fields.Command.link(attempt.invoice_id.id)],
                started_on=self._omni_today(),
            )
        )
        attempt.case_id = case
        partner._omni_log_dunning(
            self.env._(
                "Dunning started: the charge of %(invoice)s failed (%(reason)s).",
                invoice=attempt.invoice_id.name,
                reason=attempt.reason or "-",
            )
        )
        if attempt.company_side:
            case._hold_for_company(attempt)
        elif attempt.state == "requires_action":
            case._wait_for_customer(attempt)
        else:
            case._advance()
        return case

    @api.model
    def _retry_not_before(self, attempt):
        """The first day a "retry later" decline of ``attempt`` may be retried (False: no
        advice to wait)."""
        if attempt.failure_kind != dunning_lib.RETRY_LATER:
            return False
        days = dunning_lib.retry_after_days(attempt.advice_code, attempt.network_advice_code)
        return self._omni_today() + datetime.timedelta(days=max(days, 1))

    def _hold_for_company(self, attempt):
        """The company must act (provider, currency, company): the case is paused so that the
        customer is not chased for it, and staff get an activity with the reason. "Retry now"
        or "Resume dunning" once it is fixed."""
        self.ensure_one()
        self.state = "paused"
        user = self.policy_id.activity_user_id or self.partner_id.user_id or self.env.user
        # sudo: the activity is for staff, whatever the job's rights on the customer.
        self.partner_id.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Automatic charge not possible"),
            note=self.env._(
                "%(invoice)s could not be charged: %(reason)s",
                invoice=attempt.invoice_id.name,
                reason=attempt.reason,
            ),
            user_id=user.id,
        )

    def _wait_for_customer(self, attempt):
        """3-D Secure off-session: the customer must complete the payment in the portal; the
        stage machine waits until they do (or staff retry)."""
        self.ensure_one()
        self.state = "waiting"
        template = self.env.ref(
            "omni_payment_charging.mail_template_dunning_authentication", raise_if_not_found=False
        )
        if template:
            self._send_template(template)

    def _stop_waiting(self):
        """The customer completed the payments the bank held: the case goes on (it is
        resolved by the payment itself when nothing else is due)."""
        for case in self.filtered(lambda c: c.state == "waiting"):
            if not case.attempt_ids.filtered(lambda a: a.state == "requires_action"):
                case.state = "open"

    # === STAGE MACHINE === #

    def _plan_levels(self):
        self.ensure_one()
        return self.policy_id.level_ids.sorted(lambda level: (level.day, level.id))

    def _advance(self):
        """Move each case to the level its day has reached: retry when the level says so,
        then (if still unpaid) send the level's email, schedule its activity and set the
        customer's state."""
        for case in self:
            if case.state == "resolved" or case._check_resolved():
                continue
            levels = case._plan_levels()
            if not levels:
                continue
            current = list(levels).index(case.level_id) if case.level_id in levels else -1
            day = dunning_lib.dunning_day(case.started_on, case._omni_today())
            step = dunning_lib.plan(
                [level._as_plan_level() for level in levels],
                current,
                day,
                retry_days=case.policy_id._retry_days(),
                last_retry_day=case.last_retry_day,
                retries_done=case.retry_count,
                max_retries=case._max_retries(),
                retry_not_before=case.retry_not_before
                and dunning_lib.dunning_day(case.started_on, case.retry_not_before),
                hard_decline=case.hard_decline,
                paused=case.state == "paused",
                waiting=case.state == "waiting",
            )
            if step.retry:
                outcome = case._retry("retry")
                if outcome in ("paid", "not_sent"):
                    continue  # paid, or Stripe down: a later run retries or enters the level
                case.write({"last_retry_day": day, "retry_count": case.retry_count + 1})
                if outcome == "pending":
                    continue  # processing: the level is entered by a later run
            if step.level is not None:
                case._enter_level(levels[step.level])

    def _max_retries(self):
        """At most this many scheduled retries (None: the schedule's own limit): bank debits
        are presented again at most ``bank_max_retries`` times."""
        self.ensure_one()
        token = self.partner_id._omni_default_token(self.company_id)
        if token and token.omni_method_kind == "bank":
            return self.policy_id.bank_max_retries
        return None

    def _enter_level(self, level):
        self.ensure_one()
        self.level_id = level
        self.partner_id._omni_set_dunning_state(level.stage, self)
        if level.mail_template_id:
            self._send_template(level.mail_template_id)
        if level.create_activity:
            self._schedule_activity(level)

    def _retry(self, origin):
        """Charge the open invoices of the case again with the current default method, oldest
        first, and stop at the first that does not go through: each further charge would be
        one more decline of the same method, which the card networks count.

        Returns "paid" (the case is resolved), "not_sent" (Stripe could not be reached: the
        case stays where it is and a later run tries again), "pending" (a debit is
        processing or the customer must authenticate) or "failed".
        """
        self.ensure_one()
        Attempt = self.env["omni.charge.attempt"]
        attempts = Attempt
        if not self._cancel_waiting_charges(origin):
            return "not_sent"
        if self.state == "resolved":
            return "paid"  # the customer authenticated the waiting charge meanwhile

        def went_through(charged):
            return all(attempt.state in ("done", "processing") for attempt in charged)

        # A failed installment is retried for its own amount (not the whole invoice); the
        # invoices under a running plan are charged only through their installments.
        installments = self._failed_installments()
        for installment in installments:
            attempt = installment._charge_installment(
                origin=origin, token=installment._retry_token(origin, self)
            )
            attempts |= attempt
            if not went_through(attempt):
                break
        else:
            planned = self.invoice_ids.omni_installment_plan_ids.filtered(
                lambda p: p.state == "running"
            ).invoice_ids
            for invoice in self._open_invoices() - planned:
                attempt = Attempt._charge(invoice, origin=origin)
                attempts |= attempt
                if not went_through(attempt):
                    break
        if self._check_resolved():
            return "paid"
        if {"not_sent", "unknown"} & set(attempts.mapped("state")):
            return "not_sent"
        self.retry_requested_at = False
        if set(attempts.mapped("state")) <= {"processing", "requires_action", "done"}:
            return "pending"
        return "failed"

    def _cancel_waiting_charges(self, origin):
        """Before a retry: the charges of the case that wait for the customer's
        authentication (3-D Secure) with a method other than the one the retry charges (the
        customer set a new default) are cancelled in Stripe when that method can be charged,
        so that the retry charges it and the emailed link can no longer pay the invoice a
        second time. A charge the customer paid meanwhile is recorded instead.

        :return: False when Stripe could not cancel one (nothing is charged: the retry is
            asked again at the next run), else True
        """
        self.ensure_one()
        default = self.partner_id._omni_default_token(self.company_id)
        for attempt in self.attempt_ids.filtered(lambda a: a.state == "requires_action"):
            token = (
                attempt.installment_id._retry_token(origin, self)
                if attempt.installment_id
                else default
            )
            if not token or token == attempt.token_id:
                continue  # the same method: only the customer's authentication can pay it
            if attempt._check_chargeable(attempt.invoice_id, token, origin)[0]:
                continue  # the new method cannot be charged: the link stays the way to pay
            outcome = attempt._cancel_for_other_method(token)
            if not outcome:
                return False
            if outcome == "cancelled":
                self.partner_id._omni_log_dunning(
                    self.env._(
                        "The charge of %(invoice)s waiting for the customer's authentication "
                        "was cancelled in Stripe: %(method)s, the new method, is charged "
                        "instead.",
                        invoice=attempt.invoice_id.name,
                        method=token._omni_issuer_label(),
                    )
                )
        return True

    def _check_resolved(self):
        """Resolve the case when nothing is left to pay: the customer is active again.

        Returns True for a resolved case.
        """
        resolved = False
        for case in self.filtered(lambda c: c.state != "resolved"):
            if case.invoice_ids and case._open_invoices():
                continue
            case.write(
                {
                    "state": "resolved",
                    "resolved_on": case._omni_today(),
                    "retry_requested_at": False,
                }
            )
            case.partner_id._omni_set_dunning_state("active", case)
            case.partner_id._omni_log_dunning(
                self.env._(
                    "Outstanding balance paid: the customer is active again (dunning ended)."
                )
            )
            resolved = True
        return resolved

    # === COMMUNICATION === #

    def _recipient(self):
        self.ensure_one()
        partner = self.partner_id
        invoice_contact = partner.child_ids.filtered(lambda c: c.type == "invoice" and c.email)[:1]
        return invoice_contact or partner

    def _send_template(self, template):
        """Email the customer (kept on the customer's chatter), in the customer's language."""
        self.ensure_one()
        recipient = self._recipient()
        template = template.with_context(lang=recipient.lang or self.env.lang)
        rendered = self.partner_id._omni_sending(template)._generate_template(
            self.ids, ("subject", "body_html", "email_from")
        )[self.id]
        self.partner_id._omni_email_customer(rendered, recipient, self.company_id)

    def _schedule_activity(self, level):
        self.ensure_one()
        user = self.policy_id.activity_user_id or self.partner_id.user_id or self.env.user
        # sudo: the activity is for staff, whatever the job's rights on the customer.
        self.partner_id.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            summary=level.activity_summary or self.env._("Dunning: %(level)s", level=level.name),
            note=self.env._(
                "%(amount)s is overdue since %(date)s. Last reason: %(reason)s",
                amount=self.currency_id.format(self.amount_due),
                date=self.started_on,
                reason=self.decline_reason or "-",
            ),
            user_id=user.id,
        )

    # === ACTIONS === #

    def action_retry_now(self):
        """Charge the open invoices again now (staff may override a hard decline)."""
        self.env.user._omni_check_payment_manager(
            self.env._("Only payment method managers can charge a saved payment method.")
        )
        # The cases themselves: the record rules keep a manager to the companies they work
        # in (the ids come from the caller).
        self.check_access("write")
        # sudo: the manager's right on these cases was checked above; the charging engine
        # reads the provider's configuration and creates transactions (payment
        # administrators only).
        for case in self.sudo():
            if case.state == "resolved":
                raise UserError(self.env._("This dunning is resolved: nothing to retry."))
            if case._retry("staff") == "paid":
                continue
            # Still unpaid: the stage machine resumes from where it is.
            if case.state == "waiting" and case.last_attempt_id.state != "requires_action":
                case.state = "open"
        attempts = self.mapped("last_attempt_id")
        if all(case.state == "resolved" for case in self):
            return self.env["payment.token"]._omni_notify(
                self.env._("Paid: the customer is active again."), reload=True
            )
        return self.env["payment.token"]._omni_notify(
            self.env._(
                "The charge did not go through: %(reason)s",
                reason=", ".join(filter(None, attempts.mapped("reason"))) or "-",
            ),
            kind="warning",
            reload=True,
        )

    def action_pause(self):
        for case in self.filtered(lambda c: c.state in ("open", "waiting")):
            case.state = "paused"
            case.partner_id._omni_log_dunning(self.env._("Dunning paused."))

    def action_resume(self):
        for case in self.filtered(lambda c: c.state == "paused"):
            # The next run of the job catches up with the level the case has reached.
            case.write({"state": "open", "last_run_at": False})
            case.partner_id._omni_log_dunning(self.env._("Dunning resumed."))

    # === CRON === #

    @api.model
    def _cases_to_run(self, today, limit=None, lock=False):
        """Open cases the job has not looked at today, and those where a new method asks
        for a retry. Locked rows (another worker) are skipped."""
        query = SQL(
            """
            SELECT id FROM omni_dunning_case
             WHERE state IN ('open', 'waiting', 'paused')
               AND company_id IN %(companies)s
               AND (last_run_at IS NULL
                    OR last_run_at < %(today)s
                    OR retry_requested_at > last_run_at)
             ORDER BY id
             %(limit)s
             %(lock)s
            """,
            companies=tuple(self.env.companies.ids),
            today=today,
            limit=SQL("LIMIT %s", limit) if limit else SQL(),
            lock=SQL("FOR NO KEY UPDATE SKIP LOCKED") if lock else SQL(),
        )
        self.flush_model(["state", "last_run_at", "retry_requested_at"])
        return self.browse(row[0] for row in self.env.execute_query(query))

    def _omni_run(self):
        """One look at the case: resolved if paid, a retry if a new method was set, else
        the level its day has reached."""
        self.ensure_one()
        self.last_run_at = fields.Datetime.now()
        if self._check_resolved() or self.state == "paused":
            return
        if self.retry_requested_at:
            # A new method: its own count of scheduled retries.
            self.retry_count = 0
            outcome = self._retry("method")
            if outcome != "failed":
                return  # paid, or Stripe down: the next run tries again
            if self.state == "waiting" and self.last_attempt_id.state != "requires_action":
                self.state = "open"
        self._advance()

    @api.model
    def _cron_run_dunning(self, batch_size=100):
        """Resolve paid cases, retry where a new method was set, advance the others; each
        case in its own savepoint, a bounded batch per call."""
        today = self._omni_today()

        def crashed(case, error):
            _logger.exception("dunning of %s failed", case.partner_id.display_name)
            # Looked at today all the same: one failing case must not loop the job.
            case.last_run_at = fields.Datetime.now()

        return self._omni_batch_run(
            lambda limit: self._cases_to_run(today, limit=limit, lock=True),
            lambda: len(self._cases_to_run(today)),
            batch_size,
            process=lambda case: case._omni_run(),
            on_crash=crashed,
        ).batch
