# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import copy
import datetime
import itertools
import re
import threading
from unittest.mock import patch

import stripe

from odoo import Command, fields

from odoo.addons.omni_payment_methods.tests.common import LocalStripeMixin, OmniCommon

# The statuses in which Stripe cancels a PaymentIntent.
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
)


class FakePaymentIntents:
    """SDK-level stand-in for ``client.v1.payment_intents`` that behaves like Stripe where
    localstripe does not (https://docs.stripe.com/idempotency, /declines/codes, /api/errors):

    - idempotency: the first answer to a key (a PaymentIntent, a card error, a 500) is stored
      and replayed for 24 hours to every request with that key and the same parameters; the
      same key with other parameters is refused with a 400 ``idempotency_error``; a request
      that never reached Stripe (connection refused) stores nothing;
    - off-session authentication: a card that needs 3-D Secure fails with a 402 card error
      ``authentication_required`` carrying the PaymentIntent (``requires_payment_method``),
      never ``requires_action``;
    - search by metadata (``metadata['key']:'value'``), list by customer, retrieve;
    - cancel (https://docs.stripe.com/api/payment_intents/cancel): a PaymentIntent waiting for
      a payment method, a confirmation or an action is cancelled; any other is refused with a
      400 ``payment_intent_unexpected_state``, and a cancelled one can no longer be
      authenticated.

    ``unreachable``: every cancel and retrieve fails to connect (Stripe down after the charge).

    ``script`` maps a payment method id to what the next new request does:
    "succeed", "processing", "requires_action" (localstripe's shape), "authentication_required",
    ("decline", decline_code), "timeout_after_charge" (Stripe charges, the answer is lost),
    "down" (nothing sent), "server_error" (a 500 after charging), "server_error_uncharged" (a
    500, nothing charged).
    """

    _ids = itertools.count(1)
    KEY_LIFETIME = datetime.timedelta(hours=24)

    def __init__(self):
        self.script = {}
        self.by_key = {}
        self.intents = {}  # id: every PaymentIntent Stripe created
        self.charges = []  # (idempotency key, amount) of each charge Stripe really made
        self.requests = []  # every create request received, keys included
        self.lookups = []  # ("search", query) / ("list", params) / ("retrieve", id)
        self.searchable = True  # False: search lags behind (Stripe's eventual consistency)
        self.unreachable = False
        self.lock = threading.Lock()

    # Stripe SDK stand-in, not an Odoo model: there is no super() to call.
    def create(self, params, options=None):  # pylint: disable=method-required-super
        key = (options or {}).get("idempotency_key")
        params = copy.deepcopy(params)
        with self.lock:
            self.requests.append((key, params))
            behaviour = self.script.get(params["payment_method"], "succeed")
            if behaviour == "down":
                raise stripe.APIConnectionError("Connection refused (fake Stripe down)")
            stored = self.by_key.get(key)
            if stored and datetime.datetime.now() - stored["at"] >= self.KEY_LIFETIME:
                stored = None  # pruned: a new request
            if stored and stored["params"] != params:
                raise stripe.IdempotencyError(
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    http_status=400,
                    json_body={
                        "error": {"type": "idempotency_error", "message": "different parameters"}
                    },
                )
            first = stored is None
            if first:
                stored = self._outcome(behaviour, params)
                stored.update(params=params, at=datetime.datetime.now())
                self.by_key[key] = stored
                intent = stored.get("intent")
                if intent:
                    self.intents[intent["id"]] = intent
                    if intent["status"] in ("succeeded", "processing"):
                        self.charges.append((key, params["amount"]))
            if first and behaviour == "timeout_after_charge":
                raise stripe.APIConnectionError("Request timed out (fake)")
            if stored.get("server_error"):
                raise stripe.APIError("Internal error (fake)", http_status=500)
        if stored.get("error"):
            error = stored["error"]
            raise stripe.CardError(
                error["message"],
                None,
                error["code"],
                http_status=402,
                json_body={"error": copy.deepcopy(error)},
            )
        return copy.deepcopy(stored["intent"])

    def _outcome(self, behaviour, params):
        intent = {
            "id": f"pi_fake_{next(self._ids)}",
            "object": "payment_intent",
            "amount": params["amount"],
            "currency": params["currency"],
            "customer": params["customer"],
            "payment_method": params["payment_method"],
            "description": params.get("description"),
            "metadata": dict(params.get("metadata") or {}),
            "status": "succeeded",
        }
        intent["client_secret"] = f"{intent['id']}_secret_fake"
        if behaviour == "processing":
            intent["status"] = "processing"
        elif behaviour == "requires_action":
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk"}
        elif behaviour == "server_error":
            return {"intent": intent, "server_error": True}
        elif behaviour == "server_error_uncharged":
            return {"server_error": True}
        elif behaviour == "authentication_required" or (
            isinstance(behaviour, tuple) and behaviour[0] == "decline"
        ):
            if behaviour == "authentication_required":
                error = {
                    "type": "card_error",
                    "code": "authentication_required",
                    "decline_code": "authentication_required",
                    "message": "Your card was declined. This transaction requires authentication.",
                }
            else:
                code = behaviour[1]
                error = {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": code,
                    "message": f"Your card was declined ({code}).",
                }
            intent.update(status="requires_payment_method", last_payment_error=error)
            return {"intent": intent, "error": dict(error, payment_intent=intent)}
        return {"intent": intent}

    def search(self, params, options=None):
        """``metadata['name']:'value'`` queries, as Stripe's search language writes them."""
        query = params["query"]
        self.lookups.append(("search", query))
        match = re.fullmatch(r"metadata\['(\w+)'\]:'((?:[^'\\]|\\.)*)'", query)
        if not match:
            raise stripe.InvalidRequestError(f"unsupported query {query}", "query")
        name, value = match[1], re.sub(r"\\(.)", r"\1", match[2])
        found = [
            copy.deepcopy(intent)
            for intent in self.intents.values()
            if self.searchable and intent["metadata"].get(name) == value
        ]
        return {"object": "search_result", "data": found, "has_more": False}

    def list(self, params=None, options=None):
        params = params or {}
        self.lookups.append(("list", params))
        found = [
            copy.deepcopy(intent)
            for intent in self.intents.values()
            if not params.get("customer") or intent["customer"] == params["customer"]
        ]
        return {"object": "list", "data": found, "has_more": False}

    def retrieve(self, intent_id, params=None, options=None):
        self.lookups.append(("retrieve", intent_id))
        return copy.deepcopy(self._intent(intent_id))

    def cancel(self, intent_id, params=None, options=None):
        self.lookups.append(("cancel", intent_id))
        with self.lock:
            intent = self._intent(intent_id)
            if intent["status"] not in CANCELABLE:
                raise stripe.InvalidRequestError(
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}.",
                    None,
                    code="payment_intent_unexpected_state",
                    http_status=400,
                )
            intent.update(status="canceled", next_action=None)
            return copy.deepcopy(intent)

    def _intent(self, intent_id):
        if self.unreachable:
            raise stripe.APIConnectionError("Connection refused (fake Stripe down)")
        if intent_id not in self.intents:
            raise stripe.InvalidRequestError(
                f"No such payment_intent: '{intent_id}'", "id", code="resource_missing"
            )
        return self.intents[intent_id]

    def authenticate(self, intent_id, succeed=True):
        """What the customer's browser does with Stripe.js ``confirmCardPayment`` on the
        PaymentIntent (3-D Secure passed or failed)."""
        with self.lock:
            intent = self.intents[intent_id]
            if intent["status"] == "canceled":
                raise stripe.InvalidRequestError(
                    "This PaymentIntent's payment_method could not be updated because it has a "
                    "status of canceled.",
                    None,
                    code="payment_intent_unexpected_state",
                    http_status=400,
                )
            if succeed:
                intent.update(status="succeeded", last_payment_error=None)
                self.charges.append((None, intent["amount"]))
            else:
                intent["last_payment_error"] = {
                    "type": "card_error",
                    "code": "payment_intent_authentication_failure",
                    "message": "The customer did not authenticate.",
                }
            return copy.deepcopy(intent)

    def expire_keys(self):
        """24 hours later: Stripe has pruned the idempotency keys."""
        for stored in self.by_key.values():
            stored["at"] -= self.KEY_LIFETIME


class FakeCustomers:
    """``client.v1.customers``: records the default method Odoo sets."""

    def __init__(self):
        self.updates = []

    def update(self, customer_id, params, options=None):
        self.updates.append((customer_id, params))
        return {"id": customer_id, "object": "customer", **params}


class FakeClient:
    def __init__(self, intents, customers=None):
        self.v1 = type(
            "V1", (), {"payment_intents": intents, "customers": customers or FakeCustomers()}
        )()


class ChargeCommon(OmniCommon):
    """Invoices of the main company, a customer in automatic mode, and a Stripe fake.

    Whatever modules the database has, the charging jobs run through the scheduled actions;
    the classes that test the queue_job path set ``charge_on_queue_job``."""

    charge_on_queue_job = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Attempt = cls.env["omni.charge.attempt"]
        cls.Case = cls.env["omni.dunning.case"]
        cls.customer.write({"omni_payment_mode": "automatic", "email": "billing@omni.example"})
        cls.company = cls.env.company
        cls.stripe.company_id = cls.company
        cls.policy = cls.env.ref("omni_payment_charging.omni_dunning_policy_default")

    def setUp(self):
        # PaymentCommon mocks account_payment's post-processing: the charges need the real
        # one (it creates and reconciles the payment).
        self.enable_post_process_patcher = False
        super().setUp()
        if not self.charge_on_queue_job:
            patcher = patch.object(
                self.registry["omni.bulk.charge"], "_queue_job_available", lambda self: False
            )
            patcher.start()
            self.addCleanup(patcher.stop)

    @classmethod
    def _invoice(cls, partner=None, amount=120.0, due=None, currency=None, post=True):
        """A customer invoice, due ``due`` (default: a month ago, overdue on any date)."""
        partner = partner or cls.customer
        due = due or fields.Date.today() - datetime.timedelta(days=30)
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": due,
                "invoice_date_due": due,
                "currency_id": (currency or cls.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create({"name": "Subscription", "quantity": 1, "price_unit": amount})
                ],
            }
        )
        if post:
            invoice.action_post()
            invoice.invoice_date_due = due
        return invoice

    @classmethod
    def _authorized_token(cls, partner=None, **values):
        token = cls._omni_token(partner or cls.customer, **values)
        token._omni_record_authorization()
        return token

    @contextlib.contextmanager
    def _fake_stripe(self):
        intents = FakePaymentIntents()
        client = FakeClient(intents)
        with patch.object(
            self.registry["payment.provider"], "_omni_stripe_client", lambda provider: client
        ):
            yield intents

    def _run_charges(self):
        return self.Attempt._cron_charge_due_invoices()

    def _attempts(self, invoice):
        return self.Attempt.search([("invoice_id", "=", invoice.id)], order="attempt_no")

    def _customer_emails(self, partner=None):
        """Emails to the customer, posted on the customer's chatter, oldest first."""
        partner = partner or self.customer
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("subtype_id", "=", self.env.ref("mail.mt_comment").id),
                ("partner_ids", "!=", False),
            ],
            order="id",
        )

    @staticmethod
    def _later(minutes):
        return fields.Datetime.now() + datetime.timedelta(minutes=minutes)


class LocalStripeChargeCommon(LocalStripeMixin, ChargeCommon):
    """The same against a running localstripe (real HTTP, real SDK)."""

    def _localstripe_token(self, partner=None, number="4242424242424242"):
        token = self._stripe_token(partner or self.customer, number=number)
        token._omni_record_authorization()
        return token
