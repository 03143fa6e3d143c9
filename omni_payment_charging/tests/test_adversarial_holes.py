# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Adversarial suite, part 2: the sixteen holes an outside attack found (issue 18).

Each test attacks as the attacker did (JSON-RPC as a browser session, the /jsonrpc
``execute_kw`` of integrations, portal routes, the emailed links, the Stripe webhook) and
compares the database before and after: a refused attack changes nothing.
"""

import contextlib
import datetime
import json
import logging
import re
import time

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.omni_pan_base.lib import pan as pan_lib
from odoo.addons.omni_payment_methods.tests import compat
from odoo.addons.omni_payment_methods.tests.adversarial import (
    MANAGER,
    PANS,
    VIEWER,
    AdversarialFixture,
)
from odoo.addons.omni_payment_methods.tests.common import (
    LocalStripeMixin,
    OmniCommon,
    stripe_event,
    stripe_signature,
)
from odoo.addons.omni_payment_methods.tests.test_portal_payment_methods import (
    SETUP,
    PortalFlowMixin,
)
from odoo.addons.omni_payment_methods.tests.test_webhooks import MUTED
from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_stripe.controllers.main import StripeController

from .charge_common import ChargeCommon

_logger = logging.getLogger(__name__)

QUIET = ("odoo.http", "odoo.addons.base.models.ir_rule", "odoo.models", *MUTED)
LINK_RE = re.compile(r"/omni/payment_methods/([A-Za-z0-9_-]+)")


class _Rollback(Exception):
    """Raised to undo an attack once its outcome is recorded."""


class HoleCase(AdversarialFixture):
    """Helpers: RPC as a role, the state an attack must not change, refusal checks."""

    def _call_kw(self, login, model, method, args, kwargs=None, context=None):
        """``/web/dataset/call_kw`` in ``login``'s browser session."""
        self.authenticate(login, login)
        kwargs = dict(kwargs or {})
        if context is not None:
            kwargs["context"] = context
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs},
        )

    def _hole_state(self):
        """Everything the sixteen attacks aimed at (on top of the adversarial state)."""
        env = self.env(su=True)
        env.flush_all()
        env.invalidate_all()
        state = self._adv_state()
        state.update(
            attempts=env["omni.charge.attempt"].search_read(
                [], ["state", "invoice_id", "token_id", "amount", "stripe_payment_intent"]
            ),
            transactions=env["payment.transaction"].search_read(
                [], ["state", "amount", "provider_reference", "token_id"]
            ),
            payments=env["account.payment"].search_count([]),
            invoices=env["account.move"].search_read(
                [("move_type", "=", "out_invoice")], ["payment_state", "amount_residual"]
            ),
            plans=env["omni.installment.plan"].search_count([]),
            links=env["omni.payment.link"].search_count([]),
            setups=env["omni.payment.setup"].search_read(
                [], ["state", "nickname", "error_code", "error_message", "token_id"]
            ),
            reminders=env["omni.payment.reminder"].search_count([]),
            billing=env["res.partner"]
            .search([("id", "in", (self.adv_customer | self.adv_other).ids)])
            .read(["omni_payment_mode", "omni_dunning_state", "omni_dunning_policy_id"]),
        )
        return state

    def _assert_refused(self, label, attack, refused=None):
        """Run ``attack()``: it must be refused (an exception, or ``refused(result, exc)``)
        and leave every row as it was. The attack runs in a savepoint rolled back after:
        the next one starts from the same state, whatever this one did."""
        before = self._hole_state()
        outcome = {}
        with contextlib.suppress(_Rollback), self.env.cr.savepoint():
            try:
                outcome["result"] = attack()
            except Exception as error:  # noqa: BLE001 - a refusal, checked below
                outcome["exc"] = error
            outcome["after"] = self._hole_state()
            raise _Rollback
        self.env.invalidate_all()
        result, exc, after = outcome.get("result"), outcome.get("exc"), outcome["after"]
        _logger.info("adversarial hole %s: %r", label, exc or result)
        if refused is None:
            self.assertTrue(exc, f"{label}: NOT refused (result {result!r})")
        else:
            self.assertTrue(refused(result, exc), f"{label}: NOT refused ({result!r}, {exc!r})")
        for key, value in before.items():
            self.assertEqual(after[key], value, f"{label}: {key} changed")
        return exc

    def _usable_links(self, text):
        """The secrets of live links found in ``text``."""
        Link = self.env["omni.payment.link"].sudo()
        return [
            secret
            for secret in LINK_RE.findall(str(text or ""))
            if (link := Link._find(secret)) and link._is_usable()
        ]


# === HIGH: MONEY AND LINKS === #


@tagged("post_install", "-at_install")
class TestHolesMoney(HoleCase, ChargeCommon, PaymentHttpCommon):
    """1, 2 and 16: who may charge what, and which notification may settle a charge."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.manager_login = "omni_adv_manager"
        # A manager who also invoices (takes payments on invoices), as the attacker was.
        billing = cls.env.ref("account.group_account_invoice")
        cls.adv_users["manager"][compat.USER_GROUPS] = [Command.link(billing.id)]
        cls.manager_b = new_test_user(
            cls.env,
            "omni_adv_manager_b",
            groups=f"{MANAGER},account.group_account_invoice",
            company_id=cls.company_2.id,
            company_ids=[cls.company_2.id],
        )
        cls.card_a = cls._authorized_token(cls.customer)
        cls.card_b = cls._authorized_token(cls.other_customer, last4="5556")
        cls.invoice_a = cls._invoice()

    def _wizard(self, login, **values):
        vals = {
            "partner_id": self.customer.id,
            "company_id": self.company.id,
            "invoice_ids": [Command.set(self.invoice_a.ids)],
            "amount": 120.0,
            "token_id": self.card_b.id,
        }
        vals.update(values)
        return self._call_kw(login, "omni.make.payment.wizard", "create", [vals])

    @mute_logger(*QUIET)
    def test_01_a_customers_invoice_is_never_charged_to_another_customers_method(self):
        today = fields.Date.context_today(self.env.user)
        lines = [
            Command.create(
                {
                    "sequence": n,
                    "date": str(today + datetime.timedelta(days=7 * n)),
                    "amount": 40.0,
                }
            )
            for n in (1, 2, 3)
        ]
        attacks = {
            "Make a payment: A's invoice, B's card": lambda: self._call_kw(
                self.manager_login,
                "omni.make.payment.wizard",
                "action_charge",
                [[self._wizard(self.manager_login)]],
            ),
            "Make a payment: B as the customer, A's invoice, B's card": lambda: self._call_kw(
                self.manager_login,
                "omni.make.payment.wizard",
                "action_charge",
                [[self._wizard(self.manager_login, partner_id=self.other_customer.id)]],
            ),
            "Schedule installments: A's invoice, B's card": lambda: self._call_kw(
                self.manager_login,
                "omni.make.payment.wizard",
                "action_schedule_installments",
                [
                    [
                        self._wizard(
                            self.manager_login,
                            split_installments=True,
                            installment_line_ids=lines,
                        )
                    ]
                ],
            ),
            "A plan of installments created directly with B's card": lambda: self._call_kw(
                self.manager_login,
                "omni.installment.plan",
                "create",
                [
                    {
                        "name": "forged",
                        "partner_id": self.customer.id,
                        "company_id": self.company.id,
                        "currency_id": self.company.currency_id.id,
                        "token_id": self.card_b.id,
                        "invoice_ids": [Command.set(self.invoice_a.ids)],
                        "amount": 120.0,
                        "installment_ids": [
                            Command.create({"sequence": 1, "date": str(today), "amount": 120.0})
                        ],
                    }
                ],
            ),
        }
        with self._fake_stripe() as fake:
            for label, attack in attacks.items():
                with self.subTest(attack=label):
                    self._assert_refused(label, attack)
            self.assertFalse(fake.requests, "nothing was sent to Stripe")
        # The engine refuses it too, whoever calls it (a bulk run, an integration).
        with self._fake_stripe() as fake:
            attempt = self.Attempt._charge(self.invoice_a, origin="payment", token=self.card_b)
        self.assertEqual(attempt.state, "skipped")
        self.assertIn("another customer", attempt.reason)
        self.assertFalse(fake.requests)
        # The customer's own card still works.
        with self._fake_stripe():
            self._call_kw(
                self.manager_login,
                "omni.make.payment.wizard",
                "action_charge",
                [[self._wizard(self.manager_login, token_id=self.card_a.id)]],
            )
        self.assertIn(self.invoice_a.payment_state, ("paid", "in_payment"))

    @mute_logger(*QUIET)
    def test_02_a_manager_of_another_company_cannot_retry_a_case(self):
        case = self.Case.create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "policy_id": self.policy.id,
                "invoice_ids": [Command.set(self.invoice_a.ids)],
            }
        )
        with self._fake_stripe() as fake:
            for label, method in (
                ("Retry now", "action_retry_now"),
                ("Pause", "action_pause"),
            ):
                with self.subTest(attack=label):
                    self._assert_refused(
                        f"{label} on company A's case by company B's manager",
                        lambda method=method: self._call_kw(
                            "omni_adv_manager_b", "omni.dunning.case", method, [[case.id]]
                        ),
                    )
            self.assertFalse(fake.requests)
        self.assertEqual(case.state, "open")
        # A manager of the company retries it.
        with self._fake_stripe():
            self._call_kw(self.manager_login, "omni.dunning.case", "action_retry_now", [[case.id]])
        self.assertEqual(case.state, "resolved")

    @mute_logger(*QUIET)
    def test_17_no_context_key_reaches_into_a_plan_of_installments(self):
        """Found by the review: the context keys omni_schedule_checked (skip the check of a
        schedule) and omni_installment_id (link a charge to an installment)."""
        today = fields.Date.context_today(self.env.user)
        plan = self.env["omni.installment.plan"].create(
            {
                "name": "Plan",
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "currency_id": self.company.currency_id.id,
                "token_id": self.card_a.id,
                "invoice_ids": [Command.set(self.invoice_a.ids)],
                "amount": 120.0,
                "installment_ids": [
                    Command.create(
                        {
                            "sequence": n,
                            "date": today + datetime.timedelta(days=30 * n),
                            "amount": 40.0,
                        }
                    )
                    for n in (1, 2, 3)
                ],
            }
        )
        first = plan.installment_ids.sorted("sequence")[0]
        with self.subTest(key="omni_schedule_checked"):
            self._assert_refused(
                "an installment of more than the balance, schedule check skipped by the context",
                lambda: self._call_kw(
                    self.manager_login,
                    "omni.installment",
                    "write",
                    [first.ids, {"amount": 5000.0}],
                    context={"omni_schedule_checked": True},
                ),
            )
        with self.subTest(key="omni_installment_id"), self._fake_stripe():
            self._call_kw(
                self.manager_login,
                "omni.make.payment.wizard",
                "action_charge",
                [[self._wizard(self.manager_login, token_id=self.card_a.id, amount=40.0)]],
                context={"omni_installment_id": first.id},
            )
            self.assertFalse(first.attempt_ids, "a payment taken by staff is not the installment's")

    # --- 16: notifications are matched to what the addon sent --- #

    def _deliver(self, event_type, intent):
        body = json.dumps(stripe_event(event_type, intent))
        signature = stripe_signature(body, self.stripe.stripe_webhook_secret, int(time.time()))
        self.env.flush_all()
        response = self.url_open(
            StripeController._webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        self.env.invalidate_all()
        return response

    @mute_logger(*QUIET, "odoo.addons.payment_stripe.controllers.main")
    def test_16_payment_intent_events_must_match_the_charge_sent(self):
        # A customer paying by SEPA debit: Stripe settles the debit days later (webhook).
        debtor = self.env["res.partner"].create(
            {"name": "Debtor", "is_company": True, "omni_payment_mode": "automatic"}
        )
        token = self._authorized_token(
            debtor, omni_method_kind="bank", omni_stripe_pm_type="sepa_debit"
        )
        invoice = self._invoice(partner=debtor)
        with self._fake_stripe() as fake:
            fake.script[token.stripe_payment_method] = "processing"
            attempt = self.Attempt._charge(invoice)
        self.assertEqual(attempt.state, "processing")
        sent = dict(
            fake.by_key[attempt.idempotency_key]["intent"],
            status="succeeded",
            description=attempt.reference,
        )
        forged = {
            "a PaymentIntent the addon never sent": dict(sent, id="pi_never_sent_by_odoo"),
            "another amount": dict(sent, amount=sent["amount"] + 100),
            "another currency": dict(sent, currency="jpy"),
        }
        for label, intent in forged.items():
            with self.subTest(event=label):
                self._assert_refused(
                    label,
                    lambda intent=intent: self._deliver("payment_intent.succeeded", intent),
                    refused=lambda response, exc: exc is None and response.status_code == 200,
                )
                self.assertEqual(attempt.state, "processing")
        # The PaymentIntent the addon sent settles it.
        self._deliver("payment_intent.succeeded", sent)
        self.assertEqual((attempt.state, attempt.transaction_id.state), ("done", "done"))


@tagged("post_install", "-at_install")
class TestHolesLinks(HoleCase, ChargeCommon, PaymentHttpCommon):
    """3 and 4: a link exists in the email sent only; reading a field never issues one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.card = cls._authorized_token(cls.customer)

    @mute_logger(*QUIET, "odoo.addons.http_routing.models.ir_http", "werkzeug")
    def test_03_emailed_links_are_not_readable_in_the_chatter(self):
        self._call_kw(
            "omni_adv_manager", "res.partner", "action_omni_send_payment_link", [[self.customer.id]]
        )
        self._call_kw("omni_adv_viewer", "payment.token", "action_omni_notify", [[self.card.id]])
        messages = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        sent = messages.filtered(lambda m: m.partner_ids)
        self.assertEqual(len(sent), 2, "the link email and the expiry reminder")
        # The emails carry a working link ...
        mails = self.env["mail.mail"].sudo().search([("mail_message_id", "in", sent.ids)])
        self.assertEqual(len(mails), 2)
        for mail in mails:
            self.assertEqual(len(self._usable_links(mail.body_html)), 1, mail.subject)

        # ... the copy on the chatter none: a plain employee reads the chatter and tries
        # every link in it.
        def read_chatter_and_open_links():
            self.authenticate("omni_adv_internal", "omni_adv_internal")
            result = self.make_jsonrpc_request(
                "/mail/thread/messages",
                {"thread_model": "res.partner", "thread_id": self.customer.id},
            )
            # The messages (ids) and their data (bodies) in Odoo's store format.
            bodies = json.dumps(result)
            self.assertIn("/omni/payment_methods/", bodies, "the chatter shows the email")
            return [
                self.url_open(f"/omni/payment_methods/{secret}", allow_redirects=False).status_code
                for secret in LINK_RE.findall(bodies)
            ]

        self._assert_refused(
            "links read in the chatter",
            read_chatter_and_open_links,
            refused=lambda statuses, exc: exc is None and statuses and set(statuses) == {403},
        )
        for message in messages:
            self.assertFalse(self._usable_links(message.body), message.subject)

    @mute_logger(*QUIET)
    def test_04_reading_a_field_never_issues_a_link(self):
        case = self.env["omni.dunning.case"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.env.company.id,
                "invoice_ids": [Command.set(self._invoice().ids)],
            }
        )
        reads = {
            "call_kw read (token)": lambda: self._call_kw(
                "omni_adv_viewer", "payment.token", "read", [[self.card.id], ["omni_update_url"]]
            ),
            "call_kw web_read (token)": lambda: self._call_kw(
                "omni_adv_viewer",
                "payment.token",
                "web_read",
                [[self.card.id]],
                {"specification": {"omni_update_url": {}}},
            ),
            "call_kw export_data (token)": lambda: self._call_kw(
                "omni_adv_viewer",
                "payment.token",
                "export_data",
                [[self.card.id], ["omni_update_url"]],
            ),
            "execute_kw read (token)": lambda: self._execute_kw(
                "omni_adv_viewer", "payment.token", "read", [[self.card.id], ["omni_update_url"]]
            ),
            "call_kw read (dunning case)": lambda: self._call_kw(
                "omni_adv_viewer",
                "omni.dunning.case",
                "read",
                [[case.id], ["omni_update_url", "omni_pay_url"]],
            ),
            "call_kw export_data (dunning case)": lambda: self._call_kw(
                "omni_adv_viewer",
                "omni.dunning.case",
                "export_data",
                [[case.id], ["omni_update_url"]],
            ),
        }
        for label, attack in reads.items():
            with self.subTest(read=label):
                self._assert_refused(
                    label,
                    attack,
                    refused=lambda result, exc: (
                        exc is not None or not self._usable_links(json.dumps(result))
                    ),
                )


# === MEDIUM === #


@tagged("post_install", "-at_install")
class TestHolesFields(HoleCase, OmniCommon, PaymentHttpCommon):
    """5, 7, 8, 9, 10, 11 and 14: context keys, company rules, who writes what."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.adv_customer.email = "billing@adv.test"
        cls.clerk = new_test_user(
            cls.env,
            "omni_adv_clerk",
            groups="base.group_user,base.group_partner_manager,account.group_account_invoice",
        )
        # The manager may edit contacts (the payment mode is on the customer's form).
        partner_manager = cls.env.ref("base.group_partner_manager")
        cls.adv_users["manager"][compat.USER_GROUPS] = [Command.link(partner_manager.id)]
        cls.viewer_b = new_test_user(
            cls.env,
            "omni_adv_viewer_b",
            groups=VIEWER,
            company_id=cls.company_2.id,
            company_ids=[cls.company_2.id],
        )
        cls.manager_b = new_test_user(
            cls.env,
            "omni_adv_manager_b",
            groups=MANAGER,
            company_id=cls.company_2.id,
            company_ids=[cls.company_2.id],
        )

    @mute_logger(*QUIET, "odoo.addons.omni_pan_base.models.omni_pan_guard")
    def test_05_no_context_key_switches_the_card_number_guard_off(self):
        invoice = self.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": self.adv_customer.id}
        )
        invoice._portal_ensure_token()
        internal = self.adv_users["internal"]
        channel = self.env["discuss.channel"].create({"name": "Adv channel"})
        channel.add_members(partner_ids=internal.partner_id.ids, post_joined_message=False)
        posts = {
            "portal user on its own invoice": (
                "omni_adv_portal",
                {
                    "thread_model": "account.move",
                    "thread_id": invoice.id,
                    "token": invoice.access_token,
                },
            ),
            "employee in a channel": (
                "omni_adv_internal",
                {"thread_model": "discuss.channel", "thread_id": channel.id},
            ),
        }
        for label, (login, params) in posts.items():
            with self.subTest(post=label):
                self.authenticate(login, login)
                self.make_jsonrpc_request(
                    "/mail/message/post",
                    dict(
                        params,
                        post_data={"body": f"my card {PANS[0]}", "message_type": "comment"},
                        context={"omni_pan_guard_note": True},
                    ),
                )
                message = self.env["mail.message"].search(
                    [
                        ("model", "=", params["thread_model"]),
                        ("res_id", "=", params["thread_id"]),
                        ("message_type", "=", "comment"),
                    ],
                    order="id desc",
                    limit=1,
                )
                self.assertIn("my card", str(message.body))
                self.assertFalse(pan_lib.contains_pan(message.body), f"{label}: {message.body}")

    @mute_logger(*QUIET)
    def test_07_attempt_log_and_links_are_per_company(self):
        stripe = self.env.ref("payment.payment_provider_stripe")
        self.env["omni.payment.setup"].create(
            {
                "partner_id": self.adv_customer.id,
                "provider_id": stripe.id,
                "channel": "portal",
                "ip_address": "203.0.113.7",
                "setup_intent_ref": "seti_company_a",
            }
        )
        self.env["omni.payment.link"]._issue(self.adv_customer)
        reads = {
            "viewer of company B reads A's attempts": (
                "omni_adv_viewer_b",
                "omni.payment.setup",
                ["ip_address", "setup_intent_ref", "partner_id"],
            ),
            "manager of company B reads A's links": (
                "omni_adv_manager_b",
                "omni.payment.link",
                ["partner_id", "expires_on"],
            ),
        }
        for label, (login, model, names) in reads.items():
            with self.subTest(read=label):
                self._assert_refused(
                    label,
                    lambda login=login, model=model, names=names: self._call_kw(
                        login, model, "search_read", [[]], {"fields": names}
                    ),
                    refused=lambda result, exc: exc is not None or result == [],
                )
        # Users of the company still read them.
        self.assertTrue(
            self._call_kw(
                "omni_adv_viewer",
                "omni.payment.setup",
                "search_read",
                [[]],
                {"fields": ["ip_address"]},
            )
        )

    @mute_logger(*QUIET)
    def test_08_context_keys_do_not_unlock_a_stored_method(self):
        card, second = self.adv_tokens["other"]
        unauthorized = self.env["payment.token"].create(
            self._adv_token_vals(self.adv_other, self.provider_1, "6161")
        )
        self.assertFalse(unauthorized.omni_authorized)
        now = fields.Datetime.to_string(fields.Datetime.now())
        attacks = {
            "move the card to another customer (sync key)": (
                second,
                {"partner_id": self.adv_customer.id},
                {"omni_stripe_sync": True},
            ),
            "forge the consent (sync key)": (
                unauthorized,
                {"omni_consent_text": "I agree to everything", "omni_authorized_on": now},
                {"omni_stripe_sync": True},
            ),
            "forge the consent of a method that has none (no key)": (
                unauthorized,
                {"omni_consent_text": "I agree to everything", "omni_authorized_on": now},
                {},
            ),
            "take the default mark off directly (default key)": (
                card,
                {"omni_is_default": False},
                {"omni_default_move": True},
            ),
            "make every Stripe event look stale (sync key)": (
                card,
                {"omni_stripe_state_at": "2099-01-01 00:00:00"},
                {"omni_stripe_sync": True},
            ),
        }
        for label, (token, vals, context) in attacks.items():
            with self.subTest(attack=label):
                self._assert_refused(
                    label,
                    lambda token=token, vals=vals, context=context: self._call_kw(
                        "omni_adv_manager",
                        "payment.token",
                        "write",
                        [[token.id], vals],
                        context=context,
                    ),
                )

    @mute_logger(*QUIET)
    def test_09_only_managers_decide_how_a_customer_is_charged(self):
        policy = self.env["omni.dunning.policy"].create({"name": "Lenient"})
        customer = self.adv_other
        attacks = {
            "switch to automatic charging": {"omni_payment_mode": "automatic"},
            "change the dunning policy": {"omni_dunning_policy_id": policy.id},
            "set the dunning state": {"omni_dunning_state": "terminated"},
        }
        for label, vals in attacks.items():
            for login in ("omni_adv_clerk", "omni_adv_billing", "omni_adv_internal"):
                with self.subTest(attack=label, user=login):
                    self._assert_refused(
                        f"{login}: {label}",
                        lambda login=login, vals=vals: self._call_kw(
                            login, "res.partner", "write", [[customer.id], vals]
                        ),
                    )
        with self.subTest(attack="create a customer in automatic mode"):
            self._assert_refused(
                "clerk creates a customer in automatic mode",
                lambda: self._call_kw(
                    "omni_adv_clerk",
                    "res.partner",
                    "create",
                    [{"name": "New", "omni_payment_mode": "automatic"}],
                ),
            )
        # Nobody sets the dunning state by hand, not even a manager; managers set the mode.
        self._assert_refused(
            "manager sets the dunning state",
            lambda: self._call_kw(
                "omni_adv_manager",
                "res.partner",
                "write",
                [[customer.id], {"omni_dunning_state": "terminated"}],
            ),
        )
        self._call_kw(
            "omni_adv_manager",
            "res.partner",
            "write",
            [[customer.id], {"omni_payment_mode": "automatic"}],
        )
        self.assertEqual(customer.omni_payment_mode, "automatic")
        # A contact created by staff under the customer follows its mode.
        contact_id = self._call_kw(
            "omni_adv_clerk",
            "res.partner",
            "create",
            [{"name": "Contact", "parent_id": customer.id}],
        )
        self.assertEqual(self.env["res.partner"].browse(contact_id).omni_payment_mode, "automatic")

    @mute_logger(*QUIET)
    def test_10_the_audit_channel_is_not_taken_from_the_context(self):
        token = self.adv_tokens["other"][1]
        self._call_kw(
            "omni_adv_manager",
            "payment.token",
            "write",
            [[token.id], {"omni_nickname": "Renamed"}],
            context={"omni_channel": "stripe"},
        )
        row = self.env["omni.payment.audit"].search([("token_id", "=", token.id)], limit=1)
        self.assertEqual((row.event, row.channel), ("renamed", "staff"))

    @mute_logger(*QUIET)
    def test_11_a_portal_user_cannot_make_the_company_send_reminders(self):
        own = self.adv_tokens[("portal", "own")][0]
        self._assert_refused(
            "portal Notify over RPC",
            lambda: self._call_kw(
                "omni_adv_portal", "payment.token", "action_omni_notify", [[own.id]]
            ),
        )
        # Viewers do send them.
        self._call_kw("omni_adv_viewer", "payment.token", "action_omni_notify", [[own.id]])
        self.assertTrue(self.env["omni.payment.reminder"].search([("token_id", "=", own.id)]))

    @mute_logger(*QUIET)
    def test_14_a_card_number_written_with_dots_is_a_card_number(self):
        token = self.adv_tokens["other"][1]
        for value in ("4242.4242.4242.4242", "card 5555.5555.5555.4444"):
            with self.subTest(value=value):
                self._assert_refused(
                    f"nickname {value}",
                    lambda value=value: self._call_kw(
                        "omni_adv_manager",
                        "payment.token",
                        "write",
                        [[token.id], {"omni_nickname": value}],
                    ),
                )
        self.assertTrue(pan_lib.contains_pan("4242.4242.4242.4242"))
        self.assertFalse(pan_lib.contains_pan("Invoice 2026.11.0042"), "dates and references")


# === THE ADD FLOW (localstripe) === #


@tagged("post_install", "-at_install")
class TestHolesAddFlow(HoleCase, PortalFlowMixin, LocalStripeMixin, OmniCommon, HttpCase):
    """6, 12, 13 and 15: the add-method routes and the webhook, as a browser calls them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.fr = cls.env.ref("base.fr")

    def setUp(self):
        super().setUp()
        self.authenticate("omni_adv_portal", "omni_adv_portal")
        self.csrf = self._csrf()

    def _portal_tokens(self):
        return self.env["payment.token"].search(
            [
                ("commercial_partner_id", "=", self.adv_customer.id),
                ("provider_id.code", "=", "stripe"),
            ]
        )

    @mute_logger(*QUIET, "odoo.addons.omni_payment_methods.models.omni_payment_setup")
    def test_06_no_card_number_in_the_attempt_log(self):
        # A nickname holding a card number is refused before anything is logged.
        self._assert_refused(
            "nickname with a card number",
            lambda: self._start(self.csrf, nickname=f"card {PANS[0]}"),
            refused=lambda result, exc: exc is None and "card number" in result.get("error", ""),
        )
        # Stripe.js's error text (sent by the browser) is stored masked.
        start = self._start(self.csrf)
        self._post(
            f"{SETUP}/{start['setup_id']}/fail",
            {"handle": start["handle"], "code": PANS[2], "message": f"Your card {PANS[1]} failed"},
            self.csrf,
        )
        logged = self._call_kw(
            "omni_adv_viewer",
            "omni.payment.setup",
            "search_read",
            [[]],
            {"fields": ["nickname", "error_code", "error_message"]},
        )
        self.assertTrue(logged)
        self.assertFalse(pan_lib.contains_pan(json.dumps(logged)), logged)

    @mute_logger(*QUIET)
    def test_12_a_replayed_finish_leaves_a_done_attempt_done(self):
        result = self._add_card(self.csrf)
        token = self.env["payment.token"].browse(result["token_id"])
        setup = self.env["omni.payment.setup"].search([("token_id", "=", token.id)])
        self.assertEqual(setup.state, "done")
        for _replay in range(2):
            self._assert_refused(
                "finish replayed",
                lambda: self._post(
                    f"{SETUP}/{setup.id}/finish", {"handle": self._last_handle}, self.csrf
                ).json(),
                refused=lambda result, exc: exc is None and "error" in result,
            )
        self.assertEqual(setup.state, "done")

    def _start(self, csrf, **values):
        """The page's start, keeping the browser's handle of the attempt (to replay it)."""
        result = super()._start(csrf, **values)
        self._last_handle = result.get("handle")
        return result

    @mute_logger(*QUIET, "odoo.addons.omni_payment_methods.models.omni_payment_setup")
    def test_15_another_customers_payment_method_is_never_attached(self):
        victim_customer, victim_pm = self._stripe_card(name="Victim")
        start = self._start(self.csrf)
        seti = start["client_secret"].split("_secret_")[0]
        self.client.v1.setup_intents.confirm(seti, {"payment_method": victim_pm["id"]})
        # The attempt fails (it is logged as such); no method is saved nor attached.
        result = self._post(
            f"{SETUP}/{start['setup_id']}/finish", {"handle": start["handle"]}, self.csrf
        ).json()
        self.assertIn("error", result)
        self.assertFalse(self._portal_tokens())
        pm = self.client.v1.payment_methods.retrieve(victim_pm["id"])
        self.assertEqual(pm["customer"], victim_customer, "still the victim's only")

    @mute_logger(*QUIET, "odoo.addons.omni_payment_methods.controllers.main")
    def test_13_a_deeply_nested_webhook_body_is_a_bad_request(self):
        bodies = {
            "nested arrays": "[" * 100000 + "]" * 100000,
            "nested objects in an event": '{"type": "payment_intent.succeeded", "data": '
            + '{"a": ' * 5000
            + "1"
            + "}" * 5000
            + "}",
        }
        for label, body in bodies.items():
            with self.subTest(body=label):

                def post(body=body):
                    self.env.flush_all()
                    return self.opener.post(
                        self.base_url() + StripeController._webhook_url,
                        data=body,
                        headers={"Content-Type": "application/json"},
                        timeout=30,
                    )

                self._assert_refused(
                    label,
                    post,
                    refused=lambda response, exc: exc is None and response.status_code == 400,
                )
