# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Adversarial suite: tries what each role, route and sender must not be able to do.

Every attack of the tables in ``adversarial.py`` must be refused with nothing changed in the
database (compared before/after), except the rows the role is allowed, which must succeed.
Each test logs how many attacks it tried ("adversarial <group>: N attacks ...").
"""

import contextlib
import datetime
import json
import logging
import time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import hash_sign, mute_logger

from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_stripe.controllers.main import StripeController

from . import test_webhooks as webhook_tests
from .adversarial import AdversarialFixture, allowed, attack_rows
from .common import CARD_YEAR, OmniCommon
from .test_webhooks import DETACHED, MUTED, UPDATED

_logger = logging.getLogger(__name__)

QUIET = ("odoo.http", "odoo.addons.base.models.ir_rule", "odoo.models", *MUTED)


class _Rollback(Exception):
    """Raised to undo an allowed attack so that the next row starts from the same state."""


class AdversarialCase(AdversarialFixture):
    def _adv_rows(self):
        """The matrix rows of the roles that exist here (see test_roles_not_installed)."""
        return attack_rows([role for role in self.adv_users])

    def _run_attack(self, label, operation, attack, is_allowed, refused):
        """Run ``attack()`` in a savepoint; assert success or refusal with nothing changed.

        :param refused: ``refused(result, exception)`` says whether the outcome is a refusal
        """
        before = self._adv_state()
        outcome = {}
        # The savepoint is rolled back (_Rollback), then _Rollback is swallowed.
        with contextlib.suppress(_Rollback), self.env.cr.savepoint():
            self.env.invalidate_all()  # nothing read as superuser helps the attacker
            try:
                outcome["result"] = attack()
            except Exception as exc:  # noqa: BLE001 - classified below
                outcome["exc"] = exc
            self.env.flush_all()
            raise _Rollback
        self.env.invalidate_all()
        exc = outcome.get("exc")
        was_refused = refused(outcome.get("result"), exc)
        if is_allowed:
            self.assertFalse(exc, f"{label}: allowed but failed: {exc!r}")
            self.assertFalse(was_refused, f"{label}: allowed but refused")
        else:
            self.assertTrue(was_refused, f"{label}: NOT refused (result {outcome!r})")
        self._adv_assert_unchanged(before, label)
        return was_refused


def _orm_refused(operation):
    def refused(result, exc):
        if exc is not None:
            if isinstance(exc, AccessError):
                return True
            if isinstance(exc, UserError) and "rights to export" in str(exc):
                return True  # the public user cannot have the export right
            raise exc
        if operation in ("search", "count"):
            return not result
        return False

    return refused


@tagged("post_install", "-at_install")
class TestAdversarialOrm(AdversarialCase, OmniCommon):
    """Each role x own / other customer / other company x operation, through the ORM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()

    def _orm_attack(self, user, target_a, target_b, operation):
        Token = self.env["payment.token"].with_user(user)
        token = target_b.with_user(user)
        if operation == "read":
            return lambda: token.read(["payment_details", "omni_card_brand", "omni_nickname"])
        if operation == "search":
            return lambda: Token.search([("id", "=", target_b.id)])
        if operation == "count":
            return lambda: Token.search_count([("id", "=", target_b.id)])
        if operation == "export":
            return lambda: token.export_data(["payment_details", "partner_id/name"])
        if operation == "write":
            return lambda: token.write({"omni_nickname": "attacker"})
        if operation == "set_default":
            return token.action_omni_set_default
        if operation == "delete":
            return token._omni_delete
        if operation == "unlink":
            return token.unlink
        if operation == "create":
            vals = self._adv_token_vals(target_a.partner_id, target_a.provider_id, "7777")
            return lambda: Token.create(vals)
        raise AssertionError(operation)

    def test_roles_not_installed(self):
        """A role whose group comes from a module that is not installed (the salesman
        without Sales) is not in the matrix: this test says so by being skipped."""
        if self.adv_skipped:
            self.skipTest("; ".join(f"{r}: {why}" for r, why in self.adv_skipped.items()))

    @mute_logger(*QUIET)
    def test_role_matrix(self):
        attacks = refusals = 0
        for role, target, operation in self._adv_rows():
            with self.subTest(role=role, target=target, operation=operation):
                user = self.adv_users[role]
                target_a, target_b = self._adv_target(role, target)
                attacks += 1
                refusals += self._run_attack(
                    f"ORM {role} {operation} {target}",
                    operation,
                    self._orm_attack(user, target_a, target_b, operation),
                    allowed(role, target, operation),
                    _orm_refused(operation),
                )
        _logger.info(
            "adversarial roles (ORM): %s attacks, %s refused, %s allowed by design",
            attacks,
            refusals,
            attacks - refusals,
        )

    def test_partner_page_and_filters_leak_nothing(self):
        """The customer form's computed methods and filters follow the same rules."""
        for role in ("internal", "billing", "portal"):
            if role in self.adv_skipped:
                continue
            user = self.adv_users[role]
            with self.subTest(role=role):
                other = self.adv_other.with_user(user)
                self.assertFalse(other.omni_payment_token_ids)
                self.assertFalse(other.omni_has_card)
                found = (
                    self.env["res.partner"]
                    .with_user(user)
                    .search([("omni_has_card", "=", True), ("id", "=", self.adv_other.id)])
                )
                self.assertFalse(found)


@tagged("post_install", "-at_install")
class TestAdversarialRpc(AdversarialCase, OmniCommon, PaymentHttpCommon):
    """The same matrix through /web/dataset/call_kw (a browser session) and /jsonrpc."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()

    RPC_METHODS = {
        "read": ("read", lambda t: [[t.id], ["payment_details", "omni_card_brand"]], {}),
        "search": ("search_read", lambda t: [[("id", "=", t.id)]], {"fields": ["id"]}),
        "count": ("search_count", lambda t: [[("id", "=", t.id)]], {}),
        "export": ("export_data", lambda t: [[t.id], ["payment_details"]], {}),
        "write": ("write", lambda t: [[t.id], {"omni_nickname": "attacker"}], {}),
        "set_default": ("action_omni_set_default", lambda t: [[t.id]], {}),
        # Deleting goes through the confirmation (the private _omni_delete is not callable).
        "delete": ("action_omni_delete", lambda t: [[t.id]], {}),
        "unlink": ("unlink", lambda t: [[t.id]], {}),
    }

    def _call_kw(self, method, args, kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": "payment.token", "method": method, "args": args, "kwargs": kwargs},
        )

    def _rpc_attack(self, target_a, target_b, operation):
        if operation == "create":
            vals = self._adv_token_vals(target_a.partner_id, target_a.provider_id, "7777")
            return lambda: self._call_kw("create", [[vals]], {})
        method, args, kwargs = self.RPC_METHODS[operation]
        return lambda: self._call_kw(method, args(target_b), kwargs)

    @staticmethod
    def _rpc_refused(operation):
        def refused(result, exc):
            if exc is not None:
                text = str(exc)
                if isinstance(exc, JsonRpcException) and (
                    "AccessError" in text or "SessionExpired" in text
                ):
                    return True
                raise exc
            if operation == "search":
                return result == []
            if operation == "count":
                return result == 0
            return False

        return refused

    @mute_logger(*QUIET)
    def test_role_matrix_over_call_kw(self):
        attacks = refusals = 0
        current = None
        for role, target, operation in self._adv_rows():
            with self.subTest(role=role, target=target, operation=operation):
                if role != current:
                    # The public user has no session: every call is refused before the ORM.
                    login = None if role == "public" else f"omni_adv_{role}"
                    self.authenticate(login, login)
                    current = role
                target_a, target_b = self._adv_target(role, target)
                attacks += 1
                refusals += self._run_attack(
                    f"RPC {role} {operation} {target}",
                    operation,
                    self._rpc_attack(target_a, target_b, operation),
                    allowed(role, target, operation),
                    self._rpc_refused(operation),
                )
        _logger.info(
            "adversarial roles (call_kw): %s attacks, %s refused, %s allowed by design",
            attacks,
            refusals,
            attacks - refusals,
        )

    @mute_logger(*QUIET)
    def test_other_customers_methods_over_jsonrpc_execute_kw(self):
        """An integration logging in with a user's password gets no more than the user."""
        attacks = 0
        for role in ("internal", "billing", "viewer", "manager", "portal"):
            for target in ("other", "other_company"):
                for operation in ("read", "write", "unlink"):
                    with self.subTest(role=role, target=target, operation=operation):
                        login = f"omni_adv_{role}"
                        _a, token = self._adv_target(role, target)
                        method, args, _kwargs = self.RPC_METHODS[operation]
                        attacks += 1
                        self._run_attack(
                            f"execute_kw {role} {operation} {target}",
                            operation,
                            lambda login=login, method=method, args=args, token=token: (
                                self._execute_kw(login, "payment.token", method, args(token))
                            ),
                            allowed(role, target, operation),
                            self._rpc_refused(operation),
                        )
        _logger.info("adversarial roles (execute_kw): %s attacks", attacks)


# === PORTAL AND LINK ROUTES === #


@tagged("post_install", "-at_install")
class TestAdversarialRoutes(AdversarialCase, OmniCommon, PaymentHttpCommon):
    """Portal and signed-link routes: another customer's ids, no CSRF token, bad links."""

    # Issue 5 makes the emailed links single-use; set to True there (the "reused link" row
    # then expects a refusal instead of the page).
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.portal = cls.adv_users["portal"]
        cls.other_invoice = cls.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": cls.adv_other.id}
        )
        cls.other_invoice._portal_ensure_token()
        # The other customer's chatter has notes (its methods were added): reading them
        # must return nothing.
        assert cls.adv_other.message_ids

    def _json(self, url, params):
        self.env.flush_all()
        response = self.url_open(
            url,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )
        self.env.invalidate_all()
        return response

    def _http(self, url, data=None, method="GET"):
        self.env.flush_all()
        if method == "GET":
            response = self.url_open(url, allow_redirects=False)
        else:
            response = self.opener.request(
                method, self.base_url() + url, data=data, allow_redirects=False, timeout=30
            )
        self.env.invalidate_all()
        return response

    @staticmethod
    def _json_refused(response):
        body = response.json()
        return "error" in body or body.get("result") in (None, False)

    # Each row: (name, login, attack(self) -> response, refused(self, response) -> bool).
    # The state of the database (methods, customers, messages, audit, events) must not change.
    ROUTE_ATTACKS = [
        (
            "portal archives another customer's method (/payment/archive_token)",
            "omni_adv_portal",
            lambda self: self._json(
                "/payment/archive_token", {"token_id": self.adv_tokens["other"][1].id}
            ),
            lambda self, r: r.status_code == 200,
        ),
        (
            "portal archives another company's method (/payment/archive_token)",
            "omni_adv_portal",
            lambda self: self._json(
                "/payment/archive_token", {"token_id": self.adv_tokens["other_company"][1].id}
            ),
            lambda self, r: r.status_code == 200,
        ),
        (
            "internal user archives another customer's method (/payment/archive_token)",
            "omni_adv_internal",
            lambda self: self._json(
                "/payment/archive_token", {"token_id": self.adv_tokens["other"][1].id}
            ),
            lambda self, r: r.status_code == 200,
        ),
        (
            "public archives a method (/payment/archive_token)",
            None,
            lambda self: self._json(
                "/payment/archive_token", {"token_id": self.adv_tokens["other"][1].id}
            ),
            lambda self, r: self._json_refused(r),
        ),
        (
            "portal account form posted without CSRF token (/my/account)",
            "omni_adv_portal",
            lambda self: self._http(
                "/my/account",
                {
                    "name": "Hijacked",
                    "email": "x@x.test",
                    "phone": "1",
                    "street": "s",
                    "city": "c",
                    "country_id": str(self.env.ref("base.be").id),
                },
                method="POST",
            ),
            lambda self, r: r.status_code in (400, 403),
        ),
        (
            "portal account form posted with a forged CSRF token (/my/account)",
            "omni_adv_portal",
            lambda self: self._http(
                "/my/account",
                {
                    "name": "Hijacked",
                    "email": "x@x.test",
                    "phone": "1",
                    "street": "s",
                    "city": "c",
                    "country_id": str(self.env.ref("base.be").id),
                    "csrf_token": "0123456789abcdef0123456789abcdef01234567o9999999999",
                },
                method="POST",
            ),
            lambda self, r: r.status_code in (400, 403),
        ),
        (
            "portal posts on another customer's invoice without its access token",
            "omni_adv_portal",
            lambda self: self._json(
                "/mail/message/post",
                {
                    "thread_model": "account.move",
                    "thread_id": self.other_invoice.id,
                    "post_data": {"body": "pwned", "message_type": "comment"},
                },
            ),
            lambda self, r: self._json_refused(r),
        ),
        (
            "public posts on an invoice with a wrong access token",
            None,
            lambda self: self._json(
                "/mail/message/post",
                {
                    "thread_model": "account.move",
                    "thread_id": self.other_invoice.id,
                    "post_data": {"body": "pwned", "message_type": "comment"},
                    "token": "wrong-token",
                },
            ),
            lambda self, r: self._json_refused(r),
        ),
        (
            "portal posts on another customer's chatter (res.partner)",
            "omni_adv_portal",
            lambda self: self._json(
                "/mail/message/post",
                {
                    "thread_model": "res.partner",
                    "thread_id": self.adv_other.id,
                    "post_data": {"body": "pwned", "message_type": "comment"},
                },
            ),
            lambda self, r: self._json_refused(r),
        ),
        (
            "portal reads another customer's chatter (/mail/thread/messages)",
            "omni_adv_portal",
            lambda self: self._json(
                "/mail/thread/messages",
                {"thread_model": "res.partner", "thread_id": self.adv_other.id},
            ),
            lambda self, r: r.json()["result"]["messages"] == [],
        ),
        (
            "tampered signed link",
            None,
            lambda self: self._http(self._link_path(self.adv_customer)[:-3] + "xyz"),
            lambda self, r: r.status_code == 403,
        ),
        (
            "truncated signed link",
            None,
            lambda self: self._http(self._link_path(self.adv_customer)[:-20]),
            lambda self, r: r.status_code in (403, 404),
        ),
        (
            "expired signed link",
            None,
            lambda self: self._http(self._link_path(self.adv_customer, validity_days=-1)),
            lambda self, r: r.status_code == 403,
        ),
        (
            "link signed for another scope (a portal token of the same database)",
            None,
            lambda self: self._http(
                "/omni/payment_methods/"
                + hash_sign(self.env, "mail.message", {"p": self.adv_other.id})
            ),
            lambda self, r: r.status_code == 403,
        ),
        (
            "a validly signed payload naming another customer (the pre-single-use format)",
            None,
            lambda self: self._http(self._signed_payload_link()),
            lambda self, r: r.status_code == 403,
        ),
        (
            "signed link posted to (POST on a GET route)",
            None,
            lambda self: self._http(self._link_path(self.adv_customer), data={}, method="POST"),
            lambda self, r: r.status_code in (400, 403, 405),
        ),
    ]

    def _link_path(self, partner, validity_days=30):
        url = partner.with_context(omni_send_links=True)._omni_payment_methods_url(
            validity_days=validity_days
        )
        return url[len(partner.get_base_url()) :]

    def _signed_payload_link(self):
        """Links are random single-use secrets now: a payload signed with the database secret
        (what the first links were) naming a customer must not open anything."""
        payload = hash_sign(
            self.env,
            "omni_payment_methods.payment_methods_link",
            {"p": self.adv_other.id},
            expiration=datetime.timedelta(days=30),
        )
        return f"/omni/payment_methods/{payload}"

    @mute_logger(*QUIET, "odoo.addons.http_routing.models.ir_http", "werkzeug")
    def test_route_attacks(self):
        for name, login, attack, refused in self.ROUTE_ATTACKS:
            with self.subTest(attack=name):
                self.authenticate(login, login)
                before = self._adv_state()
                response = attack(self)
                self.assertTrue(
                    refused(self, response), f"{name}: not refused ({response.status_code})"
                )
                self._adv_assert_unchanged(before, name)
        _logger.info("adversarial routes: %s attacks, all refused", len(self.ROUTE_ATTACKS))

    def test_portal_page_lists_own_methods_only(self):
        stripe = self.env.ref("payment.payment_provider_stripe")
        owner = self.adv_tokens[("portal", "own")][:1].partner_id
        own_stripe = self.env["payment.token"].create(
            self._adv_token_vals(owner, stripe, "4343") | {"provider_ref": "cus_adv_portal"}
        )
        self.authenticate("omni_adv_portal", "omni_adv_portal")
        response = self.url_open("/my/payment_method")
        self.assertEqual(response.status_code, 200)

        # Stripe methods are listed by the addon (data-token-id), those of other providers
        # by Odoo's own payment form (data-payment-option-id) when it offers them.
        def listed(token):
            return (
                f'data-token-id="{token.id}"' in response.text
                or f'data-payment-option-id="{token.id}"' in response.text
            )

        self.assertTrue(listed(own_stripe), "the portal user's Stripe card is listed")
        for key in ("other", "other_company"):
            for token in self.adv_tokens[key]:
                self.assertFalse(listed(token), token)

    def test_reused_link(self):
        """A link is single-use: viewing it does not spend it, adding a method through it
        does; after that it opens a refusal page and grants nothing."""
        path = self._link_path(self.adv_customer)
        self.assertEqual(self._http(path).status_code, 200)
        self.assertEqual(self._http(path).status_code, 200, "viewing does not spend it")
        link = self.env["omni.payment.link"]._find(path.rsplit("/", 1)[1])
        self.assertTrue(link._consume(self.adv_tokens[("portal", "own")][:1]))
        before = self._adv_state()
        second = self._http(path)
        self.assertEqual(second.status_code, 403)
        self._adv_assert_unchanged(before, "reused link")


# === WEBHOOKS === #


@tagged("post_install", "-at_install")
class TestAdversarialWebhooks(AdversarialCase, OmniCommon, PaymentHttpCommon):
    """Forged, stale, replayed and malformed deliveries to /payment/stripe/webhook."""

    _pm = webhook_tests.TestWebhooks._pm
    _event = webhook_tests.TestWebhooks._event
    _sign = staticmethod(webhook_tests.TestWebhooks._sign)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._adv_setup()
        cls.secret = cls.stripe.stripe_webhook_secret
        cls.token = cls._omni_token(cls.adv_customer, last4="4242")

    def _deliver(self, body, signature=None):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        self.env.flush_all()
        # A POST even with an empty body (url_open would send a GET).
        response = self.opener.post(
            self.base_url() + StripeController._webhook_url, data=body, headers=headers, timeout=30
        )
        self.env.invalidate_all()
        return response

    def _body(self, event_type=DETACHED, **event):
        event_dict = self._event(event_type, self._pm(self.token, exp_year=CARD_YEAR + 9))
        event_dict.update(event)
        return json.dumps(event_dict)

    def _signed(self, body, secret=None, timestamp=None):
        if isinstance(body, bytes):
            body = body.decode("latin-1")
        return self._sign(body, secret or self.secret, timestamp or int(time.time()))

    # Each row: (name, builder(self) -> (body, Stripe-Signature header or None), status).
    WEBHOOK_ATTACKS = [
        ("unsigned", lambda self: (self._body(), None), 403),
        ("wrong secret", lambda self: (b := self._body(), self._signed(b, "whsec_wrong")), 403),
        ("empty secret", lambda self: (b := self._body(), self._signed(b, " ")), 403),
        (
            "stale timestamp (11 minutes)",
            lambda self: (b := self._body(), self._signed(b, timestamp=int(time.time()) - 660)),
            403,
        ),
        (
            "signature of another body",
            lambda self: (self._body(), self._signed(self._body(event_type=UPDATED))),
            403,
        ),
        ("garbage signature header", lambda self: (self._body(), "nonsense"), 403),
        (
            "signature without timestamp",
            lambda self: (b := self._body(), self._signed(b).split(",")[1]),
            403,
        ),
        ("timestamp without signature", lambda self: (self._body(), f"t={int(time.time())}"), 403),
        (
            "signature in an unknown scheme (v0)",
            lambda self: (b := self._body(), self._signed(b).replace("v1=", "v0=")),
            403,
        ),
        ("empty body", lambda self: ("", self._signed("")), 400),
        ("truncated JSON", lambda self: (b := self._body()[:-7], self._signed(b)), 400),
        ("JSON array", lambda self: ("[1, 2]", self._signed("[1, 2]")), 400),
        ("JSON string", lambda self: ('"event"', self._signed('"event"')), 400),
        ("JSON null", lambda self: ("null", self._signed("null")), 400),
        ("bytes that are not UTF-8", lambda self: (b"\xff\xfe{", self._signed(b"\xff\xfe{")), 400),
        (
            "event without data",
            lambda self: (b := json.dumps({"id": "evt_x", "type": DETACHED}), self._signed(b)),
            400,
        ),
        (
            "event whose object is a string",
            lambda self: (b := self._body(data={"object": "pm_x"}), self._signed(b)),
            400,
        ),
        (
            "event whose object has no id",
            lambda self: (
                b := self._body(data={"object": {"object": "payment_method"}}),
                self._signed(b),
            ),
            400,
        ),
    ]

    @mute_logger(*QUIET)
    def test_webhook_attacks(self):
        for name, build, status in self.WEBHOOK_ATTACKS:
            with self.subTest(attack=name):
                body, signature = build(self)
                before = self._adv_state()
                response = self._deliver(body, signature)
                self.assertEqual(response.status_code, status, name)
                self._adv_assert_unchanged(before, name)
        _logger.info("adversarial webhooks: %s attacks, all refused", len(self.WEBHOOK_ATTACKS))

    @mute_logger(*QUIET)
    def test_no_secret_configured_refuses_everything(self):
        self.stripe.stripe_webhook_secret = False
        body = self._body()
        before = self._adv_state()
        self.assertEqual(self._deliver(body, self._signed(body)).status_code, 403)
        self._adv_assert_unchanged(before, "no secret")

    @mute_logger(*QUIET)
    def test_replays(self):
        """The same delivery twice, and an old event re-signed under a new id, change nothing."""
        body = self._body(event_type=UPDATED)
        self.assertEqual(self._deliver(body, self._signed(body)).status_code, 200)
        self.assertEqual(self.token.omni_card_exp_year, CARD_YEAR + 9)
        before = self._adv_state()
        for attempt in range(3):
            response = self._deliver(body, self._signed(body))
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.json()["status"], "duplicate", attempt)
        self._adv_assert_unchanged(before, "replayed event")
        # An older state (created an hour ago) under a fresh id: recorded as stale, not applied.
        old = json.loads(body)
        old.update(id="evt_omni_replay_old", created=int(time.time()) - 3600)
        old["data"]["object"]["card"]["exp_year"] = CARD_YEAR
        old_body = json.dumps(old)
        response = self._deliver(old_body, self._signed(old_body))
        self.assertEqual(response.json()["status"], "stale")
        self.token.invalidate_recordset()
        self.assertEqual(self.token.omni_card_exp_year, CARD_YEAR + 9)
        self.assertEqual(self._adv_state()["tokens"], before["tokens"])
        _logger.info("adversarial webhooks: 4 replays, none applied twice")
