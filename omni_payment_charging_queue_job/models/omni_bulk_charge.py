# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class OmniBulkCharge(models.Model):
    _inherit = "omni.bulk.charge"

    @api.model
    def _queue_job_available(self):
        return True

    def _omni_schedule(self, eta=None):
        """Each batch of a run is a job; one pending job per run at a time (identity key):
        a job enqueues the next."""
        on_queue = self.filtered(lambda r: r.state == "running" and r.backend == "queue_job")
        if not self._queue_job_available():
            on_queue = self.browse()
        for run in on_queue:
            run.with_delay(
                description=self.env._("Bulk charge: %(run)s", run=run.name),
                identity_key=f"omni_bulk_charge:{run.id}",
                eta=eta,
            )._omni_job_process_batch()
        return super(OmniBulkCharge, self - on_queue)._omni_schedule(eta=eta)

    def _omni_job_process_batch(self):
        """Job: process one batch, then enqueue the next one while work remains."""
        self.ensure_one()
        if self.state != "running":
            return self.env._("Run %(run)s is not running.", run=self.name)
        lines = self._process_batch()
        if self.state == "running":
            if self._ready_lines_count():
                self._omni_schedule()
            else:
                # Only lines waiting for Stripe to come back: a job when they are due.
                self._omni_schedule(eta=self._next_retry())
        return self.env._("%(count)s customer(s) processed.", count=len(lines))
