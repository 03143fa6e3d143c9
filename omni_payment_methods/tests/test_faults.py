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

from .common import OmniCommon, closed_port_url, current_api_payment_method
from .fake_stripe import FakeStripe

_logger = logging.getLogger(__name__)

QUIET = (
    "odoo.addons.omni_payment_methods.models.payment_provider",
    "odoo.addons.omni_payment_methods.models.payment_token",
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
        cls.stripe.write({"omni_stripe_api_base": cls.fake.url})
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
            self.stripe.omni_stripe_api_base = closed_port_url()
        else:
            self.fake.mode = {"slow": "slow", "error_500": "error"}[fault]
        try:
            yield
        finally:
            self.stripe.omni_stripe_api_base = self.fake.url
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

    @mute_logger(*QUIET)
    def test_sync_job_under_faults_then_completes_once(self):
        attempts = 0
        for fault in FAULTS:
            with self.subTest(fault=fault):
                tokens = self.Token
                for last4 in ("1111", "2222", "3333"):
                    tokens |= self._omni_token(self.customer, last4=last4)
                before = self._state()
                with self._fault(fault):
                    self.Token._cron_omni_sync_stripe()
                attempts += 1
                self._assert_unchanged(before, f"sync job, Stripe {fault}")
                # Stripe is back: the next run synchronizes each method once.
                for token in tokens:
                    self.fake.overrides[token.stripe_payment_method] = {"exp_year": 2035}
                self.Token._cron_omni_sync_stripe()
                self.assertEqual(set(tokens.mapped("card_exp_year")), {2035})
                self.assertEqual(set(tokens.mapped("stripe_sync_state")), {"synced"})
                self.assertEqual(len(self._audit(tokens, "updated")), 3)
                requests = len(self.fake.requests)
                self.Token._cron_omni_sync_stripe()
                self.assertEqual(len(self.fake.requests), requests, "nothing left to do")
                self.assertEqual(len(self._audit(tokens, "updated")), 3)
        _logger.info("faults (sync job): %s runs under faults, all survived", attempts)

    @mute_logger(*QUIET)
    def test_sync_job_when_stripe_fails_mid_batch(self):
        tokens = self.Token
        for last4 in ("1111", "2222", "3333", "4444"):
            tokens |= self._omni_token(self.customer, last4=last4)
            self.fake.overrides[tokens[-1].stripe_payment_method] = {"exp_year": 2036}
        self.fake.fail_after = 2
        self.Token._cron_omni_sync_stripe()
        synced = tokens.filtered(lambda t: t.stripe_sync_state == "synced")
        self.assertEqual(len(synced), 2)
        self.assertFalse((tokens - synced).filtered("stripe_synced_on"), "the rest is left as is")
        self.fake.fail_after, self.fake.mode = None, "ok"
        self.Token._cron_omni_sync_stripe()
        self.assertEqual(set(tokens.mapped("card_exp_year")), {2036})
        self.assertEqual(len(self._audit(tokens, "updated")), 4, "each method updated once")
        retrieved = [path for _m, path, _k, mode in self.fake.requests if mode == "ok"]
        self.assertEqual(len(retrieved), 4, "no method fetched twice successfully")

    @mute_logger(*QUIET)
    def test_reminder_job_survives_stripe_faults(self):
        """Reminders never call Stripe: they are sent whatever state Stripe is in, once."""
        Reminder = self.env["omni.payment.reminder"]
        soon = fields.Date.today() + datetime.timedelta(days=20)
        for fault in FAULTS:
            with self.subTest(fault=fault):
                token = self._omni_token(
                    self.env["res.partner"].create(
                        {"name": f"Expiring {fault}", "email": f"{fault}@omni.test"}
                    ),
                    month=soon.month,
                    year=soon.year,
                )
                with self._fault(fault):
                    Reminder._cron_send_expiry_reminders()
                    Reminder._cron_send_expiry_reminders()
                logs = Reminder.search([("token_id", "=", token.id)])
                self.assertEqual(logs.mapped("state"), ["sent"], "sent once")
        self.assertFalse(self.fake.requests, "the reminder job never calls Stripe")

    # === USER ACTIONS === #

    @mute_logger(*QUIET)
    def test_set_default_under_faults_then_retry_once(self):
        first = self._omni_token(self.customer, last4="1111")
        second = self._omni_token(self.customer, last4="2222")
        for fault in FAULTS:
            with self.subTest(fault=fault):
                before = self._state()
                with (
                    self._fault(fault),
                    self.assertRaises(UserError),
                    self.env.cr.savepoint(),
                ):
                    second.action_omni_set_default()
                self._assert_unchanged(before, f"set default, Stripe {fault}")
                self.assertTrue(first.is_default)
        second.action_omni_set_default()
        self.assertTrue(second.is_default)
        self.assertFalse(first.is_default)
        self.assertEqual(len(self._audit(second, "default")), 1)
        # Every attempt (the slow one reached Stripe) carried the same idempotency key:
        # Stripe applies the change once.
        writes = [(path, key) for path, key, _mode in self.fake.writes()]
        self.assertEqual({path for path, _key in writes}, {f"/v1/customers/{second.provider_ref}"})
        self.assertEqual(len({key for _path, key in writes}), 1, writes)

    @mute_logger(*QUIET)
    def test_delete_under_faults_then_retry_once(self):
        self._omni_token(self.customer, last4="1111")
        second = self._omni_token(self.customer, last4="2222")
        for fault in FAULTS:
            with self.subTest(fault=fault):
                before = self._state()
                with (
                    self._fault(fault),
                    self.assertRaises(UserError),
                    self.env.cr.savepoint(),
                ):
                    second._omni_delete()
                self._assert_unchanged(before, f"delete, Stripe {fault}")
        second._omni_delete()
        self.assertFalse(second.active)
        self.assertEqual(len(self._audit(second, "deleted")), 1)
        writes = self.fake.writes()
        self.assertEqual(
            {path for path, _key, _mode in writes},
            {f"/v1/payment_methods/{second.stripe_payment_method}/detach"},
        )
        self.assertEqual(len({key for _path, key, _mode in writes}), 1, writes)

    @mute_logger(*QUIET)
    def test_add_under_faults_keeps_the_method_then_the_job_completes_it(self):
        for fault in FAULTS:
            with self.subTest(fault=fault):
                token = self._omni_token(self.customer, last4="4242", year=2030)
                self.fake.overrides[token.stripe_payment_method] = {"exp_year": 2037}
                with self._fault(fault):
                    token._omni_capture_stripe_details()
                self.assertTrue(token.active, "the method added is kept")
                self.assertEqual(token.stripe_sync_state, "pending")
                self.assertEqual(token.card_exp_year, 2030)
                self.assertEqual(len(self._audit(token, "added")), 1)
                self.Token._cron_omni_sync_stripe()
                self.assertEqual(token.stripe_sync_state, "synced")
                self.assertEqual(token.card_exp_year, 2037)
