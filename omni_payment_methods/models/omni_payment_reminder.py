# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger

from ..lib import reminders as reminders_lib

_logger = logging.getLogger(__name__)

OFFSETS_PARAM = "omni_payment_methods.reminder_offsets"
BATCH_SIZE = 200


class OmniPaymentReminder(models.Model):
    """One expiry reminder of one card: sent, skipped or failed, never twice per stage."""

    _name = "omni.payment.reminder"
    _inherit = ["omni.batch.mixin"]
    _description = "Payment Method Expiry Reminder"
    _order = "sent_on desc, id desc"
    _rec_name = "token_id"

    token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Payment Method",
        required=True,
        index=True,
        ondelete="cascade",
        context={"active_test": False},
    )
    card_label = fields.Char(string="Card", related="token_id.issuer_display")
    commercial_partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True, index=True
    )
    company_id = fields.Many2one(comodel_name="res.company", required=True, index=True)
    stage = fields.Integer(
        string="Stage (days)",
        help="Days before expiry the reminder is for (0: at expiry). Empty for a reminder "
        "sent by hand outside the schedule.",
    )
    stage_label = fields.Char(string="Stage", compute="_compute_stage_label")
    expiry_date = fields.Date(
        required=True,
        help="The card's expiry when the reminder was due: a new expiry "
        "(card updated by Stripe) starts a new series.",
    )
    state = fields.Selection(
        selection=[("sent", "Sent"), ("skipped", "Skipped"), ("failed", "Failed")],
        required=True,
        default="sent",
    )
    reason = fields.Char(help="Why the reminder was skipped or failed.")
    origin = fields.Selection(
        selection=[("cron", "Scheduled"), ("manual", "Sent by hand")],
        required=True,
        default="cron",
    )
    sent_on = fields.Datetime(string="Date", required=True, default=fields.Datetime.now)
    user_id = fields.Many2one(comodel_name="res.users", string="Sent By")
    mail_message_id = fields.Many2one(
        comodel_name="mail.message", string="Message", ondelete="set null"
    )

    def init(self):
        res = super().init()
        # One scheduled reminder per card, stage and expiry, whatever runs the job.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS omni_payment_reminder_stage_uniq "
                "ON omni_payment_reminder (token_id, stage, expiry_date) "
                "WHERE origin = 'cron'"
            )
        )
        return res

    @api.depends("stage", "origin")
    def _compute_stage_label(self):
        for reminder in self:
            reminder.stage_label = self._omni_stage_label(reminder.stage, reminder.origin)

    @api.model
    def _omni_stage_label(self, stage, origin="cron"):
        if origin == "manual" and stage is None:
            return self.env._("By hand")
        if not stage:
            return self.env._("At expiry")
        return self.env._("%(days)s days before", days=stage)

    # === SETTINGS === #

    @api.model
    def _omni_offsets(self):
        """The reminder offsets of the settings (days before expiry), farthest first."""
        # sudo: a technical setting read by the reminder job and by every list user.
        text = self.env["ir.config_parameter"].sudo().get_param(OFFSETS_PARAM)  # a setting
        try:
            return reminders_lib.parse_offsets(text) if text else reminders_lib.DEFAULT_OFFSETS
        except ValueError:
            _logger.warning("invalid reminder offsets %r: using the defaults", text)
            return reminders_lib.DEFAULT_OFFSETS

    @api.model
    def _omni_grace_days(self):
        return reminders_lib.DEFAULT_GRACE_DAYS

    # === THE JOB === #

    @api.model
    def _omni_due_tokens(self, today, limit=None, lock=True, count=False):
        """Return the cards with a scheduled reminder due today and not logged yet.

        One query: the due stage is computed in SQL from the expiry date (index on
        ``expiry_date``); rows being processed by another worker are skipped (SKIP LOCKED).
        With ``count``, return how many cards are due instead.
        """
        offsets = sorted(self._omni_offsets())
        first, last = reminders_lib.window(offsets, self._omni_grace_days())
        days_left = SQL("(t.expiry_date - %s::date)", today)
        stage = SQL(
            "CASE %s END",
            SQL(" ").join(
                SQL("WHEN %s <= %s THEN %s", days_left, offset, offset) for offset in offsets
            ),
        )
        query = SQL(
            """
            SELECT t.id, %(stage)s
              FROM payment_token t
             WHERE t.active
               AND t.method_kind = 'card'
               AND t.expiry_date BETWEEN %(start)s AND %(stop)s
               AND NOT EXISTS (
                   SELECT 1 FROM omni_payment_reminder r
                    WHERE r.token_id = t.id
                      AND r.expiry_date = t.expiry_date
                      AND r.stage = %(stage)s
               )
             ORDER BY t.expiry_date, t.id
             %(limit)s
             %(lock)s
            """,
            stage=stage,
            start=today + datetime.timedelta(days=first),
            stop=today + datetime.timedelta(days=last),
            limit=SQL("LIMIT %s", limit) if limit else SQL(),
            lock=SQL("FOR UPDATE OF t SKIP LOCKED") if lock else SQL(),
        )
        self.env.flush_all()
        if count:
            self.env.cr.execute(SQL("SELECT count(*) FROM (%s) AS due", query))
            return self.env.cr.fetchone()[0]
        self.env.cr.execute(query)
        return self.env.cr.fetchall()

    @api.model
    def _cron_send_expiry_reminders(self, batch_size=BATCH_SIZE):
        """Send the expiry reminders due today, one bounded batch per call.

        The cron framework commits after each call and calls again while
        ``_omni_report_progress`` reports remaining work, so a crash loses at most the batch in
        progress, which the next run sends (it was never committed, so never sent).
        """
        today = fields.Date.context_today(self)

        def send(rows):
            tokens = self.env["payment.token"].browse([token_id for token_id, _stage in rows])
            return tokens._omni_send_expiry_reminders(stages=dict(rows), today=today)

        # Progress counts every card handled (sent, skipped or failed): a batch that only
        # skipped cards reported as done=0 would make the cron framework stop for the day.
        return self._omni_batch_run(
            lambda limit: self._omni_due_tokens(today, limit=limit),
            lambda: self._omni_due_tokens(today, lock=False, count=True),
            batch_size,
            process_batch=send,
        ).results

    @api.model
    def _omni_create_logs(self, entries, reasons=None, origin="cron"):
        """Log the reminder of each ``(token, stage, state)`` of ``entries``, in one insert;
        return ``{token: log}``.

        A scheduled stage is logged once per card (unique index): when another worker
        logged some of these cards meanwhile, the insert fails and the cards are logged one
        by one, those of the other worker left out (it sends their reminders).
        """
        reasons = reasons or {}
        values = [
            {
                "token_id": token.id,
                "commercial_partner_id": token.commercial_partner_id.id,
                "company_id": token.company_id.id,
                "stage": stage,
                "expiry_date": token.expiry_date,
                "state": state,
                "reason": reasons.get(token) or False,
                "origin": origin,
                "user_id": self.env.user.id if origin == "manual" else False,
            }
            for token, stage, state in entries
        ]
        tokens = [token for token, _stage, _state in entries]
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return dict(zip(tokens, self.create(values), strict=True))
        except psycopg2.errors.UniqueViolation:
            _logger.info("reminders of this batch logged meanwhile by another worker")
        logs = {}
        for token, vals in zip(tokens, values, strict=True):
            try:
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                    logs[token] = self.create(vals)
            except psycopg2.errors.UniqueViolation:
                _logger.info("reminder of token %s already sent by another worker", token.id)
        return logs

    @api.model
    def _omni_link_messages(self, message_of_log):
        """Set the message of each log (``{log id: message id}``) in one update."""
        if not message_of_log:
            return
        self.flush_model(["mail_message_id"])
        self.env.cr.execute(
            SQL(
                "UPDATE omni_payment_reminder r SET mail_message_id = m.message_id "
                "FROM unnest(%s::int[], %s::int[]) AS m(id, message_id) WHERE r.id = m.id",
                list(message_of_log),
                list(message_of_log.values()),
            )
        )
        self.browse(list(message_of_log)).invalidate_recordset(["mail_message_id"])

    def action_open_token(self):
        self.ensure_one()
        if not self.token_id.exists():
            raise UserError(self.env._("This payment method no longer exists."))
        return self.token_id._omni_open_customer_methods()
