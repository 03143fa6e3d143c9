# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from odoo.addons.omni_payment_charging.tests.charge_common import ChargeCommon
from odoo.addons.omni_payment_charging.tests.test_bulk_charge import BulkChargeCommon
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestBulkChargeQueueJob(BulkChargeCommon):
    """With the OCA queue_job module installed, each batch is a job."""

    charge_on_queue_job = True

    def test_one_job_per_batch_charges_everybody_once(self):
        partners = self.env["res.partner"]
        for index in range(5):
            partners |= self._customer(f"Job Co {index}")[0]
        with trap_jobs() as trap, self._fake_stripe() as fake:
            run = self._start(partners, batch_size=2)
            self.assertEqual(run.backend, "queue_job")
            trap.assert_jobs_count(1, only=run._omni_job_process_batch)
            trap.assert_enqueued_job(
                run._omni_job_process_batch,
                properties={"identity_key": f"omni_bulk_charge:{run.id}"},
            )
            batches = 0
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()
                batches += 1
                self.assertLess(batches, 10)
        self.assertEqual(batches, 3, "5 customers, 2 per batch")
        self.assertEqual(run.state, "done")
        self.assertEqual(run.succeeded_count, 5)
        self.assertEqual(len(fake.charges), 5)
        self.assertEqual(len({key for key, _a in fake.charges}), 5)


@tagged("post_install", "-at_install")
class TestChargingOnQueueJob(ChargeCommon):
    """With OCA queue_job installed, the due invoices are charged by jobs on the channel
    root.omni_charge (its capacity is the parallelism)."""

    charge_on_queue_job = True

    def test_due_invoices_charged_by_jobs_on_the_channel(self):
        self._authorized_token()
        invoice = self._invoice()
        with self._fake_stripe() as fake, trap_jobs() as trap:
            self._run_charges()
            self.assertFalse(self._attempts(invoice), "the job enqueues, it does not charge")
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                self.Attempt._omni_job_charge_batch,
                args=(0, 50),
                properties={"channel": "root.omni_charge", "identity_key": "omni_charge_due:0"},
            )
            trap.perform_enqueued_jobs()
        self.assertEqual(self._attempts(invoice).state, "done")
        self.assertEqual(len(fake.charges), 1)
