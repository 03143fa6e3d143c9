# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

# The channel of the charging jobs (its capacity, in the queue_job configuration of every
# server, is the parallelism), and at most this many chains of jobs at once.
QUEUE_CHANNEL = "root.omni_charge"
MAX_QUEUE_CHAINS = 64


class OmniChargeAttempt(models.Model):
    _inherit = "omni.charge.attempt"

    @api.model
    def _cron_charge_due_invoices(self, batch_size=50, lane=None):
        """The scheduled action only enqueues the charging jobs (``_enqueue_charge_jobs``):
        the jobs charge, in parallel on every worker of every server."""
        if not self._queue_job_available():
            return super()._cron_charge_due_invoices(batch_size=batch_size, lane=lane)
        due = len(self._due_invoices(fields.Date.context_today(self)))
        if due and not lane:
            self._enqueue_charge_jobs(due, batch_size)
        self.env["ir.cron"]._omni_report_progress(done=0, remaining=0)
        return self.env["account.move"]

    @api.model
    def _enqueue_charge_jobs(self, due, batch_size):
        """``due`` invoices are charged by chains of jobs on the channel ``root.omni_charge``.
        One chain per batch of due invoices, at most ``MAX_QUEUE_CHAINS``; a job charges one
        batch and enqueues the next job of its chain while work remains. The identity key of
        each chain keeps a cron run from doubling the chains already queued."""
        chains = min(MAX_QUEUE_CHAINS, -(-due // batch_size))
        for chain in range(chains):
            self._enqueue_charge_job(chain, batch_size)
        return chains

    @api.model
    def _enqueue_charge_job(self, chain, batch_size):
        self.with_delay(
            channel=QUEUE_CHANNEL,
            identity_key=f"omni_charge_due:{chain}",
            description=self.env._("Charge due invoices (chain %(chain)s)", chain=chain),
        )._omni_job_charge_batch(chain, batch_size)

    @api.model
    def _omni_job_charge_batch(self, chain, batch_size):
        """Job: charge one batch of due invoices (claimed with SKIP LOCKED, as the lanes
        do), then the next job of the chain while invoices are due."""
        today = fields.Date.context_today(self)
        invoices = self._due_invoices(today, limit=batch_size, lock=True)
        self._charge_batch(invoices)
        if len(invoices) == batch_size:
            self._enqueue_charge_job(chain, batch_size)
        return self.env._("%(count)s invoice(s) charged.", count=len(invoices))
