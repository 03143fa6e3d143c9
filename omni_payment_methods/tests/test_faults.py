# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Faults: Stripe unreachable, too slow and failing with 500s during each job and action.

Each fault is a row of ``FAULTS``; each operation a test. Under a fault nothing is lost,
half-written or repeated (the database is compared before/after), and once Stripe is back
the next run or the user's retry completes the work exactly once (the retry reuses the
idempotency key of the failed attempt, so Stripe applies a write that did arrive only once).
"""

import contextlib
import datetime
import logging
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CARD_YEAR, OmniCommon, closed_port_url, current_api_payment_method
from .fake_stripe import FakeStripe

_logger = logging.getLogger(__name__)

QUIET = (
    "odoo.addons.omni_payment_methods.models.payment_provider",
    "odoo.addons.omni_payment_methods.models.payment_token",
    "odoo.addons.omni_payment_methods.models.payment_token_stripe",
    "stripe",
)
# Low timeouts so that "slow" costs half a second: (connect, read).
TIMEOUT = (1.0, 0.5)
FAULTS = ("unreachable", "slow", "error_500")


@tagged("post_install", "-at_install")
class TestFaults(OmniCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakeStripe(current_api_payment_method()).start()
        cls.addClassCleanup(cls.fake.stop)
        cls._stripe_at(cls.fake.url)
        cls.customer.email = "billing@omni-customer.test"

    def setUp(self):
        super().setUp()
        provider_class = type(self.stripe)
        self.startPatcher(
            patch.object(provider_class, "_omni_stripe_timeout", return_value=TIMEOUT)
        )
        self.startPatcher(
            patch.object(provider_class, "_omni_stripe_max_network_retries", return_value=0)
        )
        self.fake.mode, self.fake.fail_after, self.fake.delay = "ok", None, 1.5
        self.fake.requests.clear()
        self.fake.overrides.clear()

    @contextlib.contextmanager
    def _fault(self, fault):
        """Stripe is down (closed port), too slow (past the read timeout) or failing (500)."""
        if fault == "unreachable":
            self._stripe_at(closed_port_url())
        else:
            self.fake.mode = {"slow": "slow", "error_500": "error"}[fault]
        try:
            yield
        finally:
            self._stripe_at(self.fake.url)
            self.fake.mode = "ok"

    def _state(self):
        self.env.flush_all()
        self.env.invalidate_all()
        Token = self.env["payment.token"].with_context(active_test=False)
        names = [
            n
            for n, f in Token._fields.items()
            if f.store and f.type not in ("one2many", "many2many", "binary")
        ]
        return {
            "tokens": Token.search([], order="id").read(names),
            "messages": self.env["mail.message"].search_count([]),
            "audit": self.env["omni.payment.audit"].search_count([]),
            "reminders": self.env["omni.payment.reminder"].search_count([]),
            "mails": self.env["mail.mail"].search_count([]),
        }

    def _assert_unchanged(self, before, label):
        after = self._state()
        for key in before:
            self.assertEqual(after[key], before[key], f"{label}: {key} changed")

    def _audit(self, tokens, event):
        return self.env["omni.payment.audit"].search(
            [("token_id", "in", tokens.ids), ("event", "=", event)]
        )

    # === JOBS === #

    # Each row: (job, calls Stripe, setup method, run method, check-done method). Under a fault
    # a job that calls Stripe changes nothing; one that does not call Stripe does its work.
    # Once Stripe is back, one more run completes the work and a further run does nothing.
    JOBS = [
        ("sync", True, "_job_sync_setup", "_job_sync_run", "_job_sync_done"),
        ("reminders", False, "_job_reminders_setup", "_job_reminders_run", "_job_reminders_done"),
    ]

    def _job_sync_setup(self, fault):
        tokens = self.Token
        for last4 in ("1111", "2222", "3333"):
            tokens |= self._omni_token(self.customer, last4=last4)
            self.fake.overrides[tokens[-1].stripe_payment_method] = {"exp_year": CARD_YEAR + 5}
        return tokens

    def _job_sync_run(self):
        self.Token._cron_omni_sync_stripe()

    def _job_sync_done(self, tokens):
        self.assertEqual(set(tokens.mapped("omni_card_exp_year")), {CARD_YEAR + 5})
        self.assertEqual(set(tokens.mapped("omni_stripe_sync_state")), {"synced"})
        self.assertEqual(len(self._audit(tokens, "updated")), 3, "each method updated once")

    def _job_reminders_setup(self, fault):
        soon = fields.Date.today() + datetime.timedelta(days=20)
        partner = self.env["res.partner"].create(
            {"name": f"Expiring {fault}", "email": f"{fault}@omni.test"}
        )
        return self._omni_token(partner, month=soon.month, year=soon.year)

    def _job_reminders_run(self):
        self.env["omni.payment.reminder"]._cron_send_expiry_reminders()

    def _job_reminders_done(self, token):
        logs = self.env["omni.payment.reminder"].search([("token_id", "=", token.id)])
        self.assertEqual(logs.mapped("state"), ["sent"], "sent once")

    @mute_logger(*QUIET)
    def test_jobs_under_faults_then_complete_once(self):
        runs = 0
        for job, calls_stripe, setup, run, done in self.JOBS:
            for fault in FAULTS:
                with self.subTest(job=job, fault=fault):
                    records = getattr(self, setup)(fault)
                    before = self._state()
                    requests = len(self.fake.requests)
                    with self._fault(fault):
                        getattr(self, run)()
                    runs += 1
                    if calls_stripe:
                        self._assert_unchanged(before, f"{job} job, Stripe {fault}")
                    else:
                        getattr(self, done)(records)
                        self.assertEqual(len(self.fake.requests), requests, "no Stripe call")
                    # Stripe is back: the next run completes the work, the one after does
                    # nothing more (no second email, update or call).
                    getattr(self, run)()
                    getattr(self, done)(records)
                    after = self._state()
                    requests = len(self.fake.requests)
                    getattr(self, run)()
                    self._assert_unchanged(after, f"{job} job, run again")
                    self.assertEqual(len(self.fake.requests), requests, "nothing left to do")
        _logger.info("faults (jobs): %s runs under faults, all survived", runs)

    @mute_logger(*QUIET)
    def test_sync_job_when_stripe_fails_mid_batch(self):
        tokens = self.Token
        for last4 in ("1111", "2222", "3333", "4444"):
            tokens |= self._omni_token(self.customer, last4=last4)
            self.fake.overrides[tokens[-1].stripe_payment_method] = {"exp_year": CARD_YEAR + 6}
        self.fake.fail_after = 2
        self.Token._cron_omni_sync_stripe()
        synced = tokens.filtered(lambda t: t.omni_stripe_sync_state == "synced")
        self.assertEqual(len(synced), 2)
        self.assertFalse(
            (tokens - synced).filtered("omni_stripe_synced_on"), "the rest is left as is"
        )
        self.fake.fail_after, self.fake.mode = None, "ok"
        self.Token._cron_omni_sync_stripe()
        self.assertEqual(set(tokens.mapped("omni_card_exp_year")), {CARD_YEAR + 6})
        self.assertEqual(len(self._audit(tokens, "updated")), 4, "each method updated once")
        retrieved = [path for _m, path, _k, mode in self.fake.requests if mode == "ok"]
        self.assertEqual(len(retrieved), 4, "no method fetched twice successfully")

    # === USER ACTIONS === #

    # Each row: (action, event audited, Stripe write path, act(token), done(token)). The
    # action runs on the customer's second method; under a fault it is refused (UserError,
    # the user's transaction rolls back) with nothing changed; the retry succeeds once.
    ACTIONS = [
        (
            "set default",
            "default",
            lambda t: f"/v1/customers/{t.provider_ref}",
            lambda t: t.action_omni_set_default(),
            lambda self, t: self.assertTrue(t.omni_is_default),
        ),
        (
            "delete",
            "deleted",
            lambda t: f"/v1/payment_methods/{t.stripe_payment_method}/detach",
            lambda t: t._omni_delete(),
            lambda self, t: self.assertFalse(t.active),
        ),
    ]

    @mute_logger(*QUIET)
    def test_user_actions_under_faults_then_retry_once(self):
        attempts = 0
        for action, event, path, act, done in self.ACTIONS:
            customer = self.env["res.partner"].create({"name": f"Faults {action}"})
            self._omni_token(customer, last4="1111")
            second = self._omni_token(customer, last4="2222")
            self.fake.requests.clear()
            for fault in FAULTS:
                with self.subTest(action=action, fault=fault):
                    before = self._state()
                    with (
                        self._fault(fault),
                        self.assertRaises(UserError),
                        self.env.cr.savepoint(),
                    ):
                        act(second)
                    attempts += 1
                    self._assert_unchanged(before, f"{action}, Stripe {fault}")
            with self.subTest(action=action, fault="none (retry)"):
                act(second)
                done(self, second)
                self.assertEqual(len(self._audit(second, event)), 1)
                # Every attempt (the slow one reached Stripe) carried the same idempotency
                # key: Stripe applies the change once.
                writes = self.fake.writes()
                self.assertEqual({p for p, _key, _mode in writes}, {path(second)})
                self.assertEqual(len({key for _p, key, _mode in writes}), 1, writes)
        _logger.info("faults (user actions): %s attempts under faults, all refused", attempts)

    @mute_logger(*QUIET)
    def test_add_under_faults_keeps_the_method_then_the_job_completes_it(self):
        for fault in FAULTS:
            with self.subTest(fault=fault):
                token = self._omni_token(self.customer, last4="4242", year=CARD_YEAR)
                self.fake.overrides[token.stripe_payment_method] = {"exp_year": CARD_YEAR + 7}
                with self._fault(fault):
                    token._omni_capture_stripe_details()
                self.assertTrue(token.active, "the method added is kept")
                self.assertEqual(token.omni_stripe_sync_state, "pending")
                self.assertEqual(token.omni_card_exp_year, CARD_YEAR)
                self.assertEqual(len(self._audit(token, "added")), 1)
                self.Token._cron_omni_sync_stripe()
                self.assertEqual(token.omni_stripe_sync_state, "synced")
                self.assertEqual(token.omni_card_exp_year, CARD_YEAR + 7)
        _logger.info("faults (add): %s additions under faults, none lost", len(FAULTS))
