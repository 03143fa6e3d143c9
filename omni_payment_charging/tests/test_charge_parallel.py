# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Charging at scale: Stripe requests of a batch sent concurrently, 429s waited out, requests
paced per Stripe account, lanes of the charging job, two worker processes at once."""

import datetime
import os
import subprocess
import sys
import threading
import unittest

import stripe
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.exceptions import ValidationError
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from odoo.addons.omni_payment_methods.const import DEV_API_BASE_ENV
from odoo.addons.omni_payment_methods.tests.common import LOCALSTRIPE_KEY, LOCALSTRIPE_URL, TODAY

from .charge_common import ChargeCommon, FakeClient, FakePaymentIntents
from .test_charging import TestConcurrentChargeRuns

CONCURRENCY_PARAM = "omni_payment_charging.charge_concurrency"
RATE_PARAM = "omni_payment_charging.stripe_requests_per_second"
MAIN_CRON = "omni_payment_charging.ir_cron_charge_due_invoices"


class BarrierIntents(FakePaymentIntents):
    """Answers only once ``parties`` requests are in flight together: a batch whose requests
    are sent one after the other never gets an answer (the barrier breaks)."""

    def __init__(self, parties):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=10)

    def create(self, params, options=None):
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError as exc:
            raise stripe.APIConnectionError("sent alone: no concurrent request") from exc
        return super().create(params, options=options)


class RateLimitedIntents(FakePaymentIntents):
    """Stripe answers 429 (rate limited) to the first ``limited`` requests."""

    def __init__(self, limited):
        super().__init__()
        self.limited = limited

    def create(self, params, options=None):
        with self.lock:
            if self.limited:
                self.limited -= 1
                self.requests.append(((options or {}).get("idempotency_key"), params))
                raise stripe.RateLimitError(
                    "Too many requests", http_status=429, headers={"Retry-After": "0"}
                )
        return super().create(params, options=options)


@tagged("post_install", "-at_install")
class TestConcurrentSends(ChargeCommon):
    def _customers(self, count):
        partners = self.env["res.partner"].create(
            [
                {"name": f"Parallel {i}", "omni_payment_mode": "automatic", "email": f"p{i}@x.org"}
                for i in range(count)
            ]
        )
        invoices = self.env["account.move"]
        for partner in partners:
            self._authorized_token(partner)
            invoices |= self._invoice(partner)
        return invoices

    def _fake(self, intents):
        client = FakeClient(intents)
        return unittest.mock.patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: client
        )

    def test_batch_requests_in_flight_together(self):
        self.env["ir.config_parameter"].set_param(CONCURRENCY_PARAM, "4")
        invoices = self._customers(4)
        intents = BarrierIntents(4)
        with self._fake(intents):
            self._run_charges()
        attempts = self.Attempt.search([("invoice_id", "in", invoices.ids)])
        self.assertEqual(attempts.mapped("state"), ["done"] * 4, attempts.mapped("reason"))
        self.assertEqual(len(intents.charges), 4)
        self.assertEqual(set(invoices.mapped("payment_state")) - {"paid", "in_payment"}, set())

    def test_faults_of_a_concurrent_batch(self):
        """Every outcome of a batch sent at once is recorded as when sent alone; the charge
        whose answer was lost is sent again later with its key and frozen parameters."""
        self.env["ir.config_parameter"].set_param(CONCURRENCY_PARAM, "4")
        invoices = self._customers(4)
        intents = FakePaymentIntents()
        tokens = invoices.commercial_partner_id.payment_token_ids
        scripts = [
            ("decline", "insufficient_funds"),
            "timeout_after_charge",
            "authentication_required",
            "succeed",
        ]
        for token, script in zip(tokens.sorted("id"), scripts, strict=True):
            intents.script[token.stripe_payment_method] = script
        with self._fake(intents):
            self._run_charges()
        states = [self._attempts(invoice).state for invoice in invoices]
        self.assertEqual(states, ["failed", "unknown", "requires_action", "done"])
        lost = self._attempts(invoices[1])
        key, params = lost.idempotency_key, dict(lost.request_params)
        self.assertFalse(self.Case.search([("partner_id", "=", invoices[1].partner_id.id)]))
        # The next run looks the lost one up in Stripe (charged): recorded, not sent again.
        with self._fake(intents), freeze_time(self._later(60)):
            self._run_charges()
        self.assertEqual(lost.state, "done")
        self.assertEqual((lost.idempotency_key, lost.request_params), (key, params))
        self.assertEqual([k for k, _p in intents.requests].count(key), 1)
        self.assertEqual(len(intents.charges), 2)

    def test_invoice_taken_by_another_worker_left_to_it(self):
        """A worker whose snapshot predates another worker's attempt on an invoice (it sees
        none) is stopped by the unique (invoice, number) index before sending anything: it
        leaves that invoice to the other worker, charges the rest of its batch, and records
        no crash."""
        taken, free = self._customers(2)
        other = self.Attempt.create(
            {
                "reference": f"{taken.name}-omni1",
                "invoice_id": taken.id,
                "partner_id": taken.commercial_partner_id.id,
                "company_id": taken.company_id.id,
                "currency_id": taken.currency_id.id,
                "amount": taken.amount_residual,
                "attempt_no": 1,
                "state": "processing",
                "idempotency_key": "the-other-workers-key",
            }
        )
        Attempt = self.registry["omni.charge.attempt"]
        search = Attempt.search

        def stale_search(model, domain, *args, **kwargs):
            # Not in this worker's snapshot (read per invoice or once for the batch).
            return search(model, domain, *args, **kwargs) - other

        intents = FakePaymentIntents()
        with self._fake(intents), unittest.mock.patch.object(Attempt, "search", stale_search):
            attempts = self.Attempt._charge_batch(taken | free)
        self.assertEqual(self._attempts(taken), other)
        self.assertEqual((other.state, other.reason), ("processing", False))
        self.assertEqual(attempts, self._attempts(free))
        self.assertEqual(attempts.state, "done", attempts.reason)
        self.assertEqual([key for key, _params in intents.requests], [attempts.idempotency_key])

    def test_rate_limited_request_waited_out_with_the_same_key(self):
        invoice = self._customers(1)
        intents = RateLimitedIntents(limited=2)
        with self._fake(intents):
            self._run_charges()
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "done", attempt.reason)
        self.assertFalse(attempt.failure_kind)
        self.assertEqual(len(intents.requests), 3)
        self.assertEqual({key for key, _params in intents.requests}, {attempt.idempotency_key})
        self.assertFalse(self.Case.search([("partner_id", "=", invoice.partner_id.id)]))

    def test_pacing_shared_per_stripe_account(self):
        """The requests per second of a Stripe account are taken from one bucket stored in
        the database: what one worker took is not available to another."""
        self.env["ir.config_parameter"].set_param(RATE_PARAM, "3")
        Pacing = self.env["omni.stripe.pacing"]
        granted, wait = Pacing._take(self.stripe, 5)
        self.assertEqual((granted, wait > 0), (3, True))
        granted, wait = Pacing._take(self.stripe, 1)
        self.assertEqual(granted, 0)
        self.assertGreater(wait, 0)
        other = self.stripe.copy({"name": "Other Stripe account"})
        self.assertEqual(Pacing._take(other, 2)[0], 2, "another account, another bucket")


@tagged("post_install", "-at_install")
class TestChargingLanes(ChargeCommon):
    def _lanes(self):
        return self.env["ir.cron"].search(
            [("code", "like", "_cron_charge_due_invoices(")], order="id"
        )

    def test_lanes_follow_the_setting(self):
        main = self.env.ref(MAIN_CRON)
        self.env["res.config.settings"].create({"omni_charge_lanes": 3}).execute()
        lanes = self._lanes()
        self.assertEqual(len(lanes), 3)
        self.assertIn(main, lanes)
        self.assertEqual(len(set(lanes.mapped("nextcall"))), 1, "they start together")
        self.assertEqual(
            self.env["res.config.settings"].create({}).omni_charge_lanes, 3, "read back"
        )
        self.env["res.config.settings"].create({"omni_charge_lanes": 1}).execute()
        self.assertEqual(self._lanes(), main)
        self.env["res.config.settings"].create({"omni_charge_lanes": 2}).execute()
        self.assertEqual(len(self._lanes()), 2)
        self.assertEqual(
            len(self._lanes().with_context(active_test=False).search([("code", "like", "lane=")])),
            2,
            "a lane archived before is active again, not a new one",
        )

    def test_lanes_set_to_zero_refused(self):
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"omni_charge_lanes": 0}).execute()


WORKER = r"""
import sys, time
from odoo.tools import config
config.parse_config(["-c", sys.argv[1], "-d", sys.argv[2], "--no-http"])
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
registry = Registry(sys.argv[2])
# The scheduled action's path, with or without queue_job installed (the jobs' path is
# TestChargingOnQueueJob's).
registry["omni.bulk.charge"]._queue_job_available = lambda self: False
with registry.cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron_id = env.ref(sys.argv[3]).id
    cr.commit()
    for _batch in range(100):
        # As Odoo's cron runner runs a job: a progress record, then the job, then commit.
        cron = env["ir.cron"].browse(cron_id).with_context(cron_id=cron_id)
        cron, progress = cron._add_progress()
        cr.commit()
        done = cron.env["omni.charge.attempt"]._cron_charge_due_invoices(batch_size=3)
        cr.commit()
        if not done and not progress.remaining:
            break
"""


@tagged("post_install", "-at_install")
class TestTwoWorkerProcesses(TransactionCase):
    """The charging job in two separate Odoo processes at once (each its own registry and
    connections), against localstripe: 20 invoices, 20 charges, one PaymentIntent each."""

    COUNT = 20

    def test_two_processes_charge_each_invoice_once(self):
        if not LOCALSTRIPE_URL:
            self.skipTest("OMNI_LOCALSTRIPE_URL is not set: localstripe is not running")
        dbname = self.env.cr.dbname
        client = stripe.StripeClient(
            LOCALSTRIPE_KEY, base_addresses={"api": LOCALSTRIPE_URL}, max_network_retries=0
        )
        cards = []
        for index in range(4):
            customer = client.v1.customers.create({"name": f"Two workers {index}"})
            pm = client.v1.payment_methods.create(
                {
                    "type": "card",
                    "card": {
                        "number": "4242424242424242",
                        "exp_month": 12,
                        "exp_year": TODAY.year + 3,
                        "cvc": "123",
                    },
                }
            )
            client.v1.payment_methods.attach(pm["id"], {"customer": customer["id"]})
            cards.append((customer["id"], pm["id"]))
        with db_connect(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # The database's Stripe provider, in test mode on localstripe (through the ORM,
            # as an administrator enables it: its journal gets its payment method line).
            provider = env.ref("payment.payment_provider_stripe")
            saved = {
                name: provider[name]
                for name in ("state", "stripe_secret_key", "stripe_publishable_key")
            }
            provider.write(
                {
                    "state": "test",
                    "stripe_secret_key": LOCALSTRIPE_KEY,
                    "stripe_publishable_key": "pk_test_workers",
                }
            )
            # Its journal's payment method line, set up here once: Odoo creates it the first
            # time the journal is read, which two workers would otherwise both do.
            self.assertTrue(provider.journal_id)
            partners = env["res.partner"].create(
                [
                    {"name": f"Process customer {i}", "omni_payment_mode": "automatic"}
                    for i in range(self.COUNT)
                ]
            )
            tokens = env["payment.token"].create(
                [
                    {
                        "provider_id": provider.id,
                        "payment_method_id": env.ref("payment.payment_method_card").id,
                        "partner_id": partner.id,
                        "payment_details": "4242",
                        "provider_ref": cards[i % len(cards)][0],
                        "stripe_payment_method": cards[i % len(cards)][1],
                    }
                    for i, partner in enumerate(partners)
                ]
            )
            tokens._omni_record_authorization()
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": TODAY - datetime.timedelta(days=30),
                        "invoice_date_due": TODAY - datetime.timedelta(days=30),
                        "invoice_line_ids": [
                            (0, 0, {"name": "Plan", "quantity": 1, "price_unit": 10.0})
                        ],
                    }
                    for partner in partners
                ]
            )
            invoices.action_post()
            invoice_ids, partner_ids, token_ids = invoices.ids, partners.ids, tokens.ids
            cr.commit()  # pylint: disable=invalid-commit
        try:
            rcfile = getattr(config, "rcfile", None) or config.get("config")
            env_vars = dict(os.environ, **{DEV_API_BASE_ENV: LOCALSTRIPE_URL, "TZ": "UTC"})
            workers = [
                subprocess.Popen(
                    [sys.executable, "-c", WORKER, rcfile, dbname, MAIN_CRON],
                    env=env_vars,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for _i in range(2)
            ]
            outputs = [worker.communicate(timeout=300)[0] for worker in workers]
            self.assertEqual([w.returncode for w in workers], [0, 0], "\n".join(outputs))
            with db_connect(dbname).cursor() as cr:
                cr.execute(
                    "SELECT invoice_id, count(*), min(state), min(stripe_payment_intent) "
                    "FROM omni_charge_attempt WHERE invoice_id IN %s GROUP BY invoice_id",
                    [tuple(invoice_ids)],
                )
                rows = {row[0]: row[1:3] for row in cr.fetchall()}
                cr.execute(
                    "SELECT count(DISTINCT stripe_payment_intent) FROM omni_charge_attempt "
                    "WHERE invoice_id IN %s",
                    [tuple(invoice_ids)],
                )
                distinct_intents = cr.fetchone()[0]
                cr.execute(
                    "SELECT payment_state, count(*) FROM account_move WHERE id IN %s "
                    "GROUP BY payment_state",
                    [tuple(invoice_ids)],
                )
                payment_states = dict(cr.fetchall())
                cr.execute(
                    "SELECT reference FROM omni_charge_attempt WHERE invoice_id IN %s",
                    [tuple(invoice_ids)],
                )
                references = {row[0] for row in cr.fetchall()}
            self.assertEqual(rows, dict.fromkeys(invoice_ids, (1, "done")), "\n".join(outputs))
            self.assertEqual(distinct_intents, self.COUNT)
            self.assertEqual(sum(payment_states.get(s, 0) for s in ("paid", "in_payment")), 20)
            # Stripe's side: one PaymentIntent per invoice, none twice. Only this test's
            # customers: localstripe serves the whole test run, whose other tests charge
            # invoices with the same numbers (INV/2026/00001...).
            own_customers = {customer_id for customer_id, _pm in cards}
            in_stripe = []
            params = {"limit": 100}
            while True:
                listed = client.v1.payment_intents.list(params)
                in_stripe += [
                    reference
                    for intent in listed["data"]
                    if intent.to_dict().get("customer") in own_customers
                    and (
                        reference := (intent.to_dict().get("metadata") or {}).get("omni_reference")
                    )
                    in references
                ]
                if not listed["has_more"] or not listed["data"]:
                    break
                params = {"limit": 100, "starting_after": listed["data"][-1]["id"]}
            self.assertEqual(sorted(in_stripe), sorted(references))
        finally:
            TestConcurrentChargeRuns._cleanup_committed(
                dbname, invoice_ids, partner_ids, token_ids, None
            )
            with db_connect(dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env.ref("payment.payment_provider_stripe").write(saved)
                cr.commit()  # pylint: disable=invalid-commit
