# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Progress of the addon's batch jobs, reported to Odoo's cron runner (18.0 and 19.0)."""

from odoo import api, models

from ..compat import ODOO_MAJOR


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _omni_report_progress(self, done, remaining):
        """Tell the cron runner how much of the job one batch did and how much is left: it
        runs the job again at once while work remains. Outside a cron run, nothing to do.

        - 18.0: ``_notify_progress(done=, remaining=)``;
        - 19.0: ``_commit_progress(processed, remaining=)`` (``_notify_progress`` is
          deprecated there). It also commits, which the runner does anyway right after the
          batch returns; it is only called inside a cron run, as outside one it would
          commit the caller's transaction.

        :param int done: the records this batch processed
        :param int remaining: the records left for the next batches
        """
        if ODOO_MAJOR >= 19:  # 19.0
            if self.env.context.get("ir_cron_progress_id"):
                self._commit_progress(done, remaining=remaining)
        else:  # 18.0
            self._notify_progress(done=done, remaining=remaining)

    @api.model
    def _omni_commit_progress(self):
        """Commit what a job did so far, inside a cron run only (19.0's ``_commit_progress``
        without a count; 18.0 has no such API, the same commit is done here): a batch that
        charges through Stripe keeps each charge's outcome once recorded, and holds Odoo's
        locks (the payment journal's sequence, the claimed invoices) for one charge, not
        for the whole batch. Outside a cron run (tests, a button), nothing is committed.
        """
        if not self.env.context.get("ir_cron_progress_id"):
            return
        if ODOO_MAJOR >= 19:  # 19.0
            self._commit_progress(0)
        else:  # 18.0: what 19.0's _commit_progress does, for a job of the cron runner
            self.env.cr.commit()  # pylint: disable=invalid-commit
