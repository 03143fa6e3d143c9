# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import Counter

from odoo import api, fields, models
from odoo.tools import SQL

from .omni_charge_attempt import RESEND_DELAY

_logger = logging.getLogger(__name__)

LINE_STATES = [
    ("to_do", "To do"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("pending", "Pending"),
    ("skipped", "Skipped"),
]
OPEN_INVOICE_DOMAIN = [
    ("move_type", "=", "out_invoice"),
    ("state", "=", "posted"),
    ("payment_state", "in", ("not_paid", "partial")),
    ("amount_residual", ">", 0),
]


class OmniBulkCharge(models.Model):
    _name = "omni.bulk.charge"
    _description = "Bulk Charge of Saved Payment Methods"
    _inherit = ["mail.thread", "omni.batch.mixin"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Started by",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )
    state = fields.Selection(
        selection=[("running", "Running"), ("done", "Done"), ("cancelled", "Cancelled")],
        required=True,
        readonly=True,
        default="running",
        tracking=True,
        index=True,
    )
    source = fields.Selection(
        selection=[("customers", "Customers"), ("invoices", "Invoices")],
        required=True,
        readonly=True,
        default="customers",
        help="Customers: each customer's open balance in the company. Invoices: only the "
        "selected invoices.",
    )
    batch_size = fields.Integer(
        default=50, readonly=True, help="Customers charged per transaction."
    )
    started_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    finished_at = fields.Datetime(readonly=True)
    backend = fields.Selection(
        selection=[("queue_job", "Job queue (queue_job)"), ("cron", "Scheduled action")],
        required=True,
        readonly=True,
        default="cron",
        help="How the run is processed in the background: one job per batch when the OCA "
        "queue_job module is installed, else a scheduled action re-run while work remains.",
    )
    line_ids = fields.One2many(comodel_name="omni.bulk.charge.line", inverse_name="run_id")
    total_count = fields.Integer(string="Customers", compute="_compute_counts")
    to_do_count = fields.Integer(string="To Do", compute="_compute_counts")
    succeeded_count = fields.Integer(string="Succeeded", compute="_compute_counts")
    failed_count = fields.Integer(string="Failed", compute="_compute_counts")
    pending_count = fields.Integer(string="Pending", compute="_compute_counts")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_counts")
    progress = fields.Float(compute="_compute_counts", help="Share of the customers handled.")
    amount_charged = fields.Monetary(
        compute="_compute_counts",
        currency_field="currency_id",
        help="Charges accepted by Stripe (paid, or bank debits processing).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for values in vals_list:
            if values.get("name", "/") == "/":
                # sudo: the sequence is technical (ir.sequence is for administrators).
                values["name"] = self.env["ir.sequence"].sudo().next_by_code(
                    "omni.bulk.charge"
                ) or self.env._("Bulk charge")
        return super().create(vals_list)

    @api.depends("line_ids.state", "line_ids.amount")
    def _compute_counts(self):
        Line = self.env["omni.bulk.charge.line"]
        counts = {
            (run.id, state): count
            for run, state, count in Line._read_group(
                [("run_id", "in", self.ids)], ["run_id", "state"], ["__count"]
            )
        }
        amounts = {
            (run.id, currency.id): amount
            for run, currency, amount in Line._read_group(
                [("run_id", "in", self.ids), ("state", "in", ("succeeded", "pending"))],
                ["run_id", "currency_id"],
                ["amount:sum"],
            )
        }
        for run in self:
            by_state = {state: counts.get((run.id, state), 0) for state, _l in LINE_STATES}
            total = sum(by_state.values())
            run.total_count = total
            run.to_do_count = by_state["to_do"]
            run.succeeded_count = by_state["succeeded"]
            run.failed_count = by_state["failed"]
            run.pending_count = by_state["pending"]
            run.skipped_count = by_state["skipped"]
            run.progress = 100.0 * (total - by_state["to_do"]) / total if total else 100.0
            date = fields.Date.context_today(run)
            run.amount_charged = sum(
                self.env["res.currency"]
                .browse(currency_id)
                ._convert(amount, run.currency_id, run.company_id, date)
                for (run_id, currency_id), amount in amounts.items()
                if run_id == run.id and currency_id
            )

    # === ACTIONS === #

    def action_stop(self):
        """Stop the run: the customers not charged yet stay "To do" and are not charged."""
        self._check_manager()
        for run in self.filtered(lambda r: r.state == "running"):
            # Lock the run: a batch starting now sees it stopped.
            self.env.execute_query(
                SQL("SELECT id FROM omni_bulk_charge WHERE id = %s FOR NO KEY UPDATE", run.id)
            )
            run.write({"state": "cancelled", "finished_at": fields.Datetime.now()})
            run.message_post(
                body=self.env._(
                    "Stopped by %(user)s: %(count)s customer(s) left uncharged.",
                    user=self.env.user.name,
                    count=run.to_do_count,
                )
            )
        return True

    def action_view_lines(self):
        self.ensure_one()
        state = self.env.context.get("omni_line_state")
        domain = [("run_id", "=", self.id)]
        if state:
            domain.append(("state", "=", state))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Customers of %(run)s", run=self.name),
            "res_model": "omni.bulk.charge.line",
            "view_mode": "list,form",
            "domain": domain,
            "context": {"create": False},
        }

    def _check_manager(self):
        self.env.user._omni_check_payment_manager(
            self.env._("Only payment method managers can charge saved payment methods.")
        )

    # === SCHEDULING === #

    @api.model
    def _queue_job_available(self):
        """Charges run as queue_job jobs: each batch is a job (omni_payment_charging_queue_job
        says so)."""
        return False

    def _omni_schedule(self, eta=None):
        """Process the run in the background: the scheduled action (a job per batch with
        omni_payment_charging_queue_job)."""
        if self.filtered(lambda r: r.state == "running"):
            self.env.ref("omni_payment_charging.ir_cron_omni_bulk_charge")._trigger(eta)

    @api.model
    def _cron_omni_bulk_charge(self):
        """Scheduled action: one batch of the oldest running run with work ready. Odoo re-runs
        it at once while work remains (``_omni_report_progress``)."""
        domain = [("state", "=", "running")]
        if self._queue_job_available():
            domain.append(("backend", "=", "cron"))
        done = 0
        for run in self.search(domain, order="id"):
            if run._ready_lines_count():
                done = len(run.with_company(run.company_id)._process_batch())
                break
            if not run._lines_left():
                run._finish()  # e.g. the last lines settled by another worker
        remaining = sum(run._ready_lines_count() for run in self.search(domain))
        self.env["ir.cron"]._omni_report_progress(done=done, remaining=remaining)
        return done

    # === PROCESSING === #

    def _ready_lines_count(self):
        self.ensure_one()
        self.env["omni.bulk.charge.line"].flush_model(["run_id", "state", "retry_after"])
        query = SQL(
            """
            SELECT count(*)
              FROM omni_bulk_charge_line l
             WHERE l.run_id = %(run)s
               AND l.state = 'to_do'
               AND (l.retry_after IS NULL OR l.retry_after <= %(now)s)
            """,
            run=self.id,
            now=fields.Datetime.now(),
        )
        return self.env.execute_query(query)[0][0]

    def _ready_lines(self, limit=None, lock=False):
        """The run's lines to charge now (not those waiting for Stripe to come back)."""
        self.ensure_one()
        self.env["omni.bulk.charge.line"].flush_model(["run_id", "state", "retry_after"])
        query = SQL(
            """
            SELECT l.id
              FROM omni_bulk_charge_line l
             WHERE l.run_id = %(run)s
               AND l.state = 'to_do'
               AND (l.retry_after IS NULL OR l.retry_after <= %(now)s)
             ORDER BY l.id
             %(limit)s
             %(lock)s
            """,
            run=self.id,
            now=fields.Datetime.now(),
            limit=SQL("LIMIT %s", limit) if limit else SQL(),
            lock=SQL("FOR NO KEY UPDATE SKIP LOCKED") if lock else SQL(),
        )
        return self.env["omni.bulk.charge.line"].browse(
            row[0] for row in self.env.execute_query(query)
        )

    def _lines_left(self):
        self.ensure_one()
        return self.env["omni.bulk.charge.line"].search_count(
            [("run_id", "=", self.id), ("state", "=", "to_do")], limit=1
        )

    def _next_retry(self):
        line = self.env["omni.bulk.charge.line"].search(
            [("run_id", "=", self.id), ("state", "=", "to_do")], order="retry_after", limit=1
        )
        return line.retry_after or None

    def _process_batch(self):
        """Charge up to ``batch_size`` customers of the run, each in a savepoint; finish the
        run when nobody is left to charge. Returns the lines handled.

        The lines are locked (FOR NO KEY UPDATE SKIP LOCKED): two workers never take the same
        customer. A worker killed after Stripe answered rolls the batch back; the next batch
        sends the same idempotency keys, so Stripe answers with the first result.
        """
        self.ensure_one()
        self.flush_recordset(["state"])
        # Shared lock: "Stop" waits for the batch in flight, later batches see it stopped.
        running = self.env.execute_query(
            SQL("SELECT state FROM omni_bulk_charge WHERE id = %s FOR SHARE", self.id)
        )
        if not running or running[0][0] != "running":
            return self.env["omni.bulk.charge.line"]
        lines = self._ready_lines(limit=self.batch_size or 50, lock=True)

        def crashed(line, error):
            _logger.exception("bulk charge of %s failed", line.partner_id.display_name)
            line.write(
                {
                    "retry_after": fields.Datetime.now() + RESEND_DELAY,
                    "reason": self.env._(
                        "Unexpected error while charging: see the server log. The "
                        "next batch tries again."
                    ),
                }
            )

        # A concurrent update rolls the whole batch back and it runs again; charges already
        # sent are re-sent with the same keys (no double charge).
        self._omni_batch_each(lines, lambda line: line._charge(), on_crash=crashed)
        if not self._lines_left():
            self._finish()
        return lines

    def _finish(self):
        """Close the run: summary on its chatter, and the person who started it notified."""
        for run in self.filtered(lambda r: r.state == "running"):
            run.write({"state": "done", "finished_at": fields.Datetime.now()})
            summary = run._summary()
            run.message_post(body=summary)
            run.user_id._bus_send(
                "simple_notification",
                {
                    "title": self.env._("%(run)s finished", run=run.name),
                    "message": summary,
                    "type": "warning" if run.failed_count else "success",
                    "sticky": bool(run.failed_count),
                },
            )

    def _summary(self):
        """ "Succeeded 3, failed 1 (reasons), pending 1, skipped 2"."""
        self.ensure_one()
        failed = self.line_ids.filtered(lambda line: line.state == "failed")
        reasons = Counter(failed.mapped(lambda line: line.reason or "-"))
        detail = "; ".join(
            f"{reason} ×{count}" if count > 1 else reason
            for reason, count in reasons.most_common(5)
        )
        reasons_text = f" ({detail})" if detail else ""
        return self.env._(
            "Succeeded %(succeeded)s, failed %(failed)s%(reasons)s, pending %(pending)s, "
            "skipped %(skipped)s. Charged: %(amount)s.",
            succeeded=self.succeeded_count,
            failed=self.failed_count,
            reasons=reasons_text,
            pending=self.pending_count,
            skipped=self.skipped_count,
            amount=self.currency_id.format(self.amount_charged),
        )
