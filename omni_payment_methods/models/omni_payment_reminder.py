# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, frozendict, mute_logger

from ..const import EMAIL_RENDER_FIELDS, ISSUED_LINKS
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
    card_label = fields.Char(string="Card", related="token_id.omni_issuer_display")
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
            reminder.stage_label = self._stage_label(reminder.stage, reminder.origin)

    @api.model
    def _stage_label(self, stage, origin="cron"):
        if origin == "manual" and stage is None:
            return self.env._("By hand")
        if not stage:
            return self.env._("At expiry")
        return self.env._("%(days)s days before", days=stage)

    # === SETTINGS === #

    @api.model
    def _offsets(self):
        """The reminder offsets of the settings (days before expiry), farthest first."""
        # sudo: a technical setting read by the reminder job and by every list user.
        text = self.env["ir.config_parameter"].sudo().get_param(OFFSETS_PARAM)  # a setting
        try:
            return reminders_lib.parse_offsets(text) if text else reminders_lib.DEFAULT_OFFSETS
        except ValueError:
            _logger.warning("invalid reminder offsets %r: using the defaults", text)
            return reminders_lib.DEFAULT_OFFSETS

    @api.model
    def _grace_days(self):
        return reminders_lib.DEFAULT_GRACE_DAYS

    # === THE JOB === #

    @api.model
    def _due_tokens(self, today, limit=None, lock=True, count=False):
        """Return the cards with a scheduled reminder due today and not logged yet.

        One query: the due stage is computed in SQL from the expiry date (index on
        ``expiry_date``); rows being processed by another worker are skipped (SKIP LOCKED).
        With ``count``, return how many cards are due instead.
        """
        offsets = sorted(self._offsets())
        first, last = reminders_lib.window(offsets, self._grace_days())
        days_left = SQL("(t.omni_expiry_date - %s::date)", today)
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
               AND t.omni_method_kind = 'card'
               AND t.omni_expiry_date BETWEEN %(start)s AND %(stop)s
               AND NOT EXISTS (
                   SELECT 1 FROM omni_payment_reminder r
                    WHERE r.token_id = t.id
                      AND r.expiry_date = t.omni_expiry_date
                      AND r.stage = %(stage)s
               )
             ORDER BY t.omni_expiry_date, t.id
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
            return self._send_expiry_reminders(tokens, stages=dict(rows))

        # Progress counts every card handled (sent, skipped or failed): a batch that only
        # skipped cards reported as done=0 would make the cron framework stop for the day.
        return self._omni_batch_run(
            lambda limit: self._due_tokens(today, limit=limit),
            lambda: self._due_tokens(today, lock=False, count=True),
            batch_size,
            process_batch=send,
        ).results

    # === SENDING === #

    @api.model
    def _send_by_hand(self, cards):
        """Send the reminder of ``cards`` now (Notify, bulk action), logged as sent by hand
        with the stage each card has reached (none outside the schedule); return those sent.
        """
        offsets, grace = self._offsets(), self._grace_days()
        stages = {
            card.id: reminders_lib.due_stage(card.omni_expiry_days_left, offsets, grace)
            for card in cards
        }
        return self._send_expiry_reminders(cards, stages, origin="manual")

    @api.model
    def _send_expiry_reminders(self, tokens, stages=None, origin="cron"):
        """Send (or log as skipped) the expiry reminder of each card of ``tokens``; return
        the cards whose email was sent.

        In batch: the log rows first (a scheduled stage has a unique index, so a second
        worker that reaches the same card sends nothing), then the links and the rendering
        of the emails, then the emails and their chatter copies. A card whose email cannot
        be rendered is logged as failed and the others go on.

        :param tokens: ``payment.token`` cards
        :param stages: {token id: stage (days before expiry)}; a card without one is
            logged without a stage
        :param origin: ``cron`` (the schedule) or ``manual`` (sent by hand)
        """
        stages = stages or {}
        template = self.env.ref("omni_payment_methods.mail_template_card_expiry")
        defaults = self._replacement_defaults(tokens)
        reasons = {token: self._skip_reason(token, defaults) for token in tokens}
        logs = self._omni_create_logs(
            [
                (token, stages.get(token.id), "skipped" if reasons[token] else "sent")
                for token in tokens
            ],
            reasons={token: reason for token, reason in reasons.items() if reason},
            origin=origin,
        )
        to_send = tokens.filtered(lambda token: not reasons[token] and token in logs)
        template = self._issue_links(template, to_send)
        rendered = self._render_emails(template, to_send)
        emails, failed = [], {}
        for token in to_send:
            try:
                emails.append(self._reminder_email(template, token, rendered.get(token.id)))
            except Exception as exc:  # noqa: BLE001 - one card never stops the batch
                _logger.exception("expiry reminder of token %s failed", token.id)
                failed[token] = str(exc)[:200]
        messages = self.env["res.partner"]._omni_email_customers(emails)
        sent = tokens.browse([email["token_id"] for email in emails])
        self._link_messages(
            {logs[token].id: message.id for token, message in zip(sent, messages, strict=True)}
        )
        for token, reason in failed.items():
            logs[token].write({"state": "failed", "reason": reason})
        return sent

    @api.model
    def _replacement_defaults(self, tokens):
        """The default method of each customer of ``tokens``:
        ``{(customer id, company id): default token}``."""
        defaults = self.env["payment.token"].search(
            [
                ("commercial_partner_id", "in", tokens.commercial_partner_id.ids),
                ("omni_is_default", "=", True),
            ]
        )
        return {(t.commercial_partner_id.id, t.company_id.id): t for t in defaults}

    @api.model
    def _skip_reason(self, token, defaults):
        """Why the card ``token`` needs no reminder (translated), or False.

        :param defaults: the customers' defaults (``_replacement_defaults``): a card is
            replaced when its customer's default is another method that expires later
        """
        if not token.active:
            return self.env._("The payment method was deleted.")
        if not token._omni_reminder_recipient().email:
            return self.env._("The customer has no email address.")
        default = defaults.get((token.commercial_partner_id.id, token.company_id.id))
        if (
            default
            and default != token
            and (not default.omni_expiry_date or default.omni_expiry_date > token.omni_expiry_date)
        ):
            return self.env._(
                "Replaced: the customer's default payment method is %(method)s.",
                method=default._omni_issuer_label(),
            )
        return False

    @api.model
    def _issue_links(self, template, tokens):
        """``template`` rendering for ``tokens`` with their links issued beforehand, in one
        insert (each email's ``payment.token._omni_update_url`` then takes its own)."""
        if not tokens:
            return template
        # sudo: links are issued by the company for its customer whoever sends the email;
        # the link model is not readable by users.
        issued = (
            self.env["omni.payment.link"]
            .sudo()
            ._issue_many([(token.commercial_partner_id, token.company_id) for token in tokens])
        )
        return template.with_context(
            **{ISSUED_LINKS: frozendict(zip(tokens.ids, issued, strict=True))}
        )

    @api.model
    def _render_emails(self, template, tokens):
        """Render the reminders of ``tokens`` in one call ({token id: values}).

        If the batch fails, nothing is returned: each card is then rendered on its own, so
        that a card that cannot be rendered fails alone.
        """
        if not tokens:
            return {}
        try:
            with self.env.cr.savepoint():
                return (
                    self.env["res.partner"]
                    ._omni_sending(template)
                    ._generate_template(tokens.ids, EMAIL_RENDER_FIELDS)
                )
        except Exception:  # noqa: BLE001 - retried card by card
            _logger.warning("batch rendering of expiry reminders failed", exc_info=True)
            return {}

    @api.model
    def _reminder_email(self, template, token, rendered=None):
        """The reminder email of the card ``token`` (``res.partner._omni_customer_email``
        values and its ``token_id``): rendered alone when the batch rendering gave nothing.
        """
        if rendered is None:
            with self.env.cr.savepoint():
                rendered = (
                    self.env["res.partner"]
                    ._omni_sending(template)
                    ._generate_template(token.ids, EMAIL_RENDER_FIELDS)[token.id]
                )
        email = token.commercial_partner_id._omni_customer_email(
            rendered, token._omni_reminder_recipient(), token.company_id
        )
        return dict(email, token_id=token.id)

    # === THE LOG === #

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
                "expiry_date": token.omni_expiry_date,
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
    def _link_messages(self, message_of_log):
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
