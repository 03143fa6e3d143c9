# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import call, patch

import psycopg2

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from odoo.addons.omni_payment_methods import exceptions


class Crash(Exception):
    """What a record's processing raises in these tests."""


@tagged("post_install", "-at_install")
class TestBatchJob(TransactionCase):
    """The batch runner every scheduled job of the addon uses (``omni.batch.mixin``): claim
    a bounded batch, each record in its own savepoint, a crash recorded on its record
    while the others go on, a concurrent update propagated, progress reported."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls.env["res.partner"].create(
            [{"name": f"Batch record {number}"} for number in range(1, 6)]
        )
        cls.Batch = cls.env["omni.batch.mixin"]

    def _claim(self, limit):
        """The partners of the test not handled yet, locked as the jobs lock theirs."""
        self.env["res.partner"].flush_model(["ref", "function"])
        query = SQL(
            """
            SELECT id FROM res_partner
             WHERE id IN %(ids)s AND ref IS NULL AND function IS NULL
             ORDER BY id
             LIMIT %(limit)s
             FOR NO KEY UPDATE SKIP LOCKED
            """,
            ids=tuple(self.partners.ids),
            limit=limit,
        )
        return self.env["res.partner"].browse(row[0] for row in self.env.execute_query(query))

    def _remaining(self):
        return len(self._claim(len(self.partners)))

    def _process(self, crash_on=(), error=Crash):
        def process(partner):
            partner.ref = "half-done"
            self.env["res.partner"].flush_model(["ref"])
            if partner in crash_on:
                raise error(f"{partner.name} cannot be processed")
            partner.ref = "done"
            return partner.id

        return process

    @staticmethod
    def _record_crash(partner, error):
        partner.function = f"crashed: {error}"

    def _run(self, batch_size, **kwargs):
        kwargs.setdefault("on_crash", self._record_crash)
        with patch.object(type(self.env["ir.cron"]), "_omni_report_progress") as report:
            outcome = self.Batch._omni_batch_run(
                self._claim, self._remaining, batch_size=batch_size, **kwargs
            )
        return outcome, report

    def test_a_crash_is_recorded_and_the_others_are_processed(self):
        first, second, third, fourth, fifth = self.partners
        outcome, report = self._run(3, process=self._process(crash_on=second))
        self.assertEqual(outcome.batch, first | second | third)
        self.assertEqual(outcome.done, 3)
        self.assertEqual(outcome.results, [first.id, third.id])
        self.assertFalse(outcome.stopped)
        self.assertEqual((first | third).mapped("ref"), ["done", "done"])
        self.assertFalse(second.ref, "the crashed record's own changes are rolled back")
        self.assertEqual(second.function, "crashed: Batch record 2 cannot be processed")
        self.assertFalse((first | third | fourth | fifth).filtered("function"))
        report.assert_called_once_with(done=3, remaining=2)

    def test_a_short_batch_reports_nothing_left_without_counting(self):
        remaining = []
        with patch.object(type(self.env["ir.cron"]), "_omni_report_progress") as report:
            outcome = self.Batch._omni_batch_run(
                self._claim,
                lambda: remaining.append(1) or 99,
                batch_size=10,
                process=self._process(),
            )
        self.assertEqual(outcome.done, 5)
        self.assertFalse(remaining, "a batch short of its size took all there was")
        report.assert_called_once_with(done=5, remaining=0)
        self.assertEqual(set(self.partners.mapped("ref")), {"done"})

    def test_a_concurrent_update_propagates(self):
        """The cron runner rolls the batch back and runs it again: nothing is recorded as a
        crash and no progress is reported."""
        error = psycopg2.errors.SerializationFailure
        with (
            patch.object(type(self.env["ir.cron"]), "_omni_report_progress") as report,
            self.assertRaises(psycopg2.OperationalError),
        ):
            self.Batch._omni_batch_run(
                self._claim,
                self._remaining,
                batch_size=3,
                process=self._process(crash_on=self.partners[1], error=error),
                on_crash=self._record_crash,
            )
        report.assert_not_called()
        self.assertFalse(self.partners.filtered("function"))

    def test_errors_outside_the_recorded_ones_propagate(self):
        with self.assertRaises(Crash):
            self._run(3, process=self._process(crash_on=self.partners[0]), errors=(ValueError,))
        self.assertFalse(self.partners.filtered("function"))

    def test_a_stop_ends_the_batch_and_reports_nothing_left(self):
        """A crash callback that stops the batch (the service is down): the records after it
        are left for the next run, which is not asked to come back at once."""
        first, second, third = self.partners[:3]

        def stop(partner, error):
            raise exceptions.OmniBatchStop(str(error))

        outcome, report = self._run(3, process=self._process(crash_on=second), on_crash=stop)
        self.assertTrue(outcome.stopped)
        self.assertEqual(outcome.done, 1)
        self.assertEqual(first.ref, "done")
        self.assertEqual((second | third).mapped("ref"), [False, False])
        self.assertFalse((second | third).filtered("function"))
        report.assert_called_once_with(done=1, remaining=0)

    def test_a_whole_batch_processed_at_once(self):
        outcome, report = self._run(
            2, process_batch=lambda partners: partners.write({"ref": "done"}) and len(partners)
        )
        self.assertEqual(outcome.results, 2)
        self.assertEqual(self.partners[:2].mapped("ref"), ["done", "done"])
        report.assert_called_once_with(done=2, remaining=3)

    def test_each_record_committed_on_its_own(self):
        """Inside a cron run, a job may commit each record's outcome (the charges): the
        commit comes after every record, crashed or not."""
        partners = self.partners[:3]
        with patch.object(type(self.env["ir.cron"]), "_omni_commit_progress") as commit:
            outcome = self.Batch._omni_batch_each(
                partners,
                self._process(crash_on=partners[1]),
                on_crash=self._record_crash,
                commit=True,
            )
        self.assertEqual(commit.call_args_list, [call(), call(), call()])
        self.assertEqual(outcome.done, 3)
        self.assertEqual(partners[1].function, "crashed: Batch record 2 cannot be processed")
        self.assertEqual((partners[0] | partners[2]).mapped("ref"), ["done", "done"])
