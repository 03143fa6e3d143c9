# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from typing import Any, NamedTuple

import psycopg2

from odoo import api, models

from ..exceptions import OmniBatchStop


class OmniBatch(NamedTuple):
    """What one batch of a job did (``omni.batch.mixin``)."""

    #: what was claimed (or the items given to ``_omni_batch_each``)
    batch: Any
    #: the items handled: processed, or their crash recorded (not the one that stopped it)
    done: int
    #: the return values of ``process`` for the items processed without a crash, in order;
    #: with ``process_batch``, what it returned
    results: Any
    #: a crash callback stopped the batch (``OmniBatchStop``)
    stopped: bool


class OmniBatchMixin(models.AbstractModel):
    """The batch runner of the addon's scheduled jobs (charging, bulk charges, dunning,
    expiry reminders, Stripe synchronization, installments).

    A job model takes it with ``_inherit = [<model>, "omni.batch.mixin"]`` and runs one
    bounded batch per call with ``_omni_batch_run``: claim the batch (a query with
    ``FOR [NO KEY] UPDATE ... SKIP LOCKED``, so that two workers never take the same row),
    process it, count what is left and report progress to the cron runner, which calls the
    job again at once while work remains (``ir.cron._omni_report_progress``). A job whose
    batch has several phases (the charges: prepare, send at once, apply the answers) runs
    each phase's records through ``_omni_batch_each``.

    Each record is processed in its own savepoint. An error of ``errors`` rolls back that
    record only and is handed to ``on_crash`` (called in the ``except`` block, in a
    savepoint of its own: ``logger.exception`` logs the traceback; it records the crash on
    the record so that nothing is skipped silently), and the batch goes on.
    ``psycopg2.OperationalError`` (a concurrent update, a serialization failure) is never a
    record's crash: it propagates, the cron runner (or the queue_job runner) rolls the
    batch back and runs it again. ``on_crash`` raises ``OmniBatchStop`` to end the batch
    (a service is down: the rest waits for the next run).
    """

    _name = "omni.batch.mixin"
    _description = "Batch of a Scheduled Job"

    @api.model
    def _omni_batch_each(self, items, process, on_crash=None, errors=(Exception,), commit=False):
        """Process ``items`` one by one, each in its own savepoint.

        :param items: the records (or any items) to process, in order
        :param process: ``process(item)``; its return value is kept in ``results``
        :param on_crash: ``on_crash(item, error)``, called for an error of ``errors`` after
            the item's savepoint is rolled back; None: the error is only rolled back
        :param tuple errors: the exception classes recorded as a crash of the item; any
            other exception propagates (and ``psycopg2.OperationalError`` always does)
        :param bool commit: commit after each item, crashed or not, inside a cron run
            (``ir.cron._omni_commit_progress``): its outcome is kept whatever happens to
            the rest of the batch
        :return: what the batch did
        :rtype: OmniBatch
        """
        Cron = self.env["ir.cron"]
        done, results = 0, []
        for item in items:
            try:
                with self.env.cr.savepoint():
                    result = process(item)
            except psycopg2.OperationalError:
                # A concurrent update: what is not committed rolls back and the batch runs
                # again (a charge already sent is sent again with its idempotency key).
                raise
            except errors as error:
                if on_crash:
                    try:
                        with self.env.cr.savepoint(flush=False):
                            on_crash(item, error)
                    except OmniBatchStop:
                        return OmniBatch(items, done, results, True)
            else:
                results.append(result)
            done += 1
            if commit:
                Cron._omni_commit_progress()
        return OmniBatch(items, done, results, False)

    @api.model
    def _omni_batch_run(
        self,
        claim,
        remaining,
        batch_size,
        process=None,
        on_crash=None,
        errors=(Exception,),
        process_batch=None,
    ):
        """Run one batch of a scheduled job and report its progress to the cron runner.

        :param claim: ``claim(limit)``: the next batch of at most ``limit`` items, locked
            ``SKIP LOCKED`` (rows another worker holds are its to process)
        :param remaining: ``remaining()``: how many items are left after this batch;
            called only when the batch was full (a shorter batch took all there was)
        :param int batch_size: the size of a batch
        :param process: ``process(item)``, run for each item by ``_omni_batch_each`` with
            ``on_crash`` and ``errors``
        :param process_batch: ``process_batch(batch)``, instead of ``process``: the job
            processes the whole batch itself (its own savepoints)
        :return: what the batch did; a stopped batch reports nothing left
        :rtype: OmniBatch
        """
        batch = claim(batch_size)
        if process_batch is not None:
            outcome = OmniBatch(batch, len(batch), process_batch(batch), False)
        else:
            outcome = self._omni_batch_each(batch, process, on_crash=on_crash, errors=errors)
        left = remaining() if len(batch) >= batch_size and not outcome.stopped else 0
        self.env["ir.cron"]._omni_report_progress(done=outcome.done, remaining=left)
        return outcome
