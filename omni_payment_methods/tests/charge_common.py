# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import datetime
import itertools
import threading
from unittest.mock import patch

import stripe

from odoo import Command, fields

from .common import LocalStripeMixin, OmniCommon


class FakePaymentIntents:
    """SDK-level stand-in for ``client.v1.payment_intents`` that behaves like Stripe where
    localstripe does not: idempotency keys (the same key returns the first result and never
    charges again) and decline codes.

    ``script`` maps a payment method id to what the next request does:
    "succeed", "processing", "requires_action", ("decline", decline_code),
    "timeout_after_charge" (Stripe charges, the answer is lost), "down" (nothing sent),
    "server_error" (a 500 after charging).
    """

    _ids = itertools.count(1)

    def __init__(self):
        self.script = {}
        self.by_key = {}
        self.charges = []  # (idempotency key, amount) of each charge Stripe really made
        self.requests = []  # every request received, keys included
        self.lock = threading.Lock()

    # Stripe SDK stand-in, not an Odoo model: there is no super() to call.
    def create(self, params, options=None):  # pylint: disable=method-required-super
        key = (options or {}).get("idempotency_key")
        with self.lock:
            self.requests.append((key, params))
            behaviour = self.script.get(params["payment_method"], "succeed")
            if behaviour == "down":
                raise stripe.APIConnectionError("Connection refused (fake Stripe down)")
            if key in self.by_key:
                outcome = self.by_key[key]
            else:
                outcome = self._outcome(behaviour, params)
                self.by_key[key] = outcome
                if outcome["status"] in ("succeeded", "processing"):
                    self.charges.append((key, params["amount"]))
            if (
                behaviour == "timeout_after_charge"
                and len([r for r in self.requests if r[0] == key]) == 1
            ):
                raise stripe.APIConnectionError("Request timed out (fake)")
            if behaviour == "server_error" and len([r for r in self.requests if r[0] == key]) == 1:
                raise stripe.APIError("Internal error (fake)", http_status=500)
        if outcome.get("error"):
            error = outcome["error"]
            raise stripe.CardError(
                error["message"],
                None,
                error["code"],
                http_status=402,
                json_body={"error": error},
            )
        return dict(outcome["intent"])

    def _outcome(self, behaviour, params):
        intent = {
            "id": f"pi_fake_{next(self._ids)}",
            "object": "payment_intent",
            "amount": params["amount"],
            "currency": params["currency"],
            "customer": params["customer"],
            "payment_method": params["payment_method"],
            "status": "succeeded",
        }
        if behaviour == "processing":
            intent["status"] = "processing"
        elif behaviour == "requires_action":
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk"}
        elif isinstance(behaviour, tuple) and behaviour[0] == "decline":
            code = behaviour[1]
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": code,
                "message": f"Your card was declined ({code}).",
            }
            failed = dict(intent, status="requires_payment_method", last_payment_error=error)
            error = dict(error, payment_intent=failed)
            return {"status": "requires_payment_method", "intent": failed, "error": error}
        return {"status": intent["status"], "intent": intent}


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
    """Invoices of the main company, a customer in automatic mode, and a Stripe fake."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Attempt = cls.env["omni.charge.attempt"]
        cls.Case = cls.env["omni.dunning.case"]
        cls.customer.write({"omni_payment_mode": "automatic", "email": "billing@omni.example"})
        cls.company = cls.env.company
        cls.stripe.company_id = cls.company
        cls.policy = cls.env.ref("omni_payment_methods.omni_dunning_policy_default")

    def setUp(self):
        # PaymentCommon mocks account_payment's post-processing: the charges need the real
        # one (it creates and reconciles the payment).
        self.enable_post_process_patcher = False
        super().setUp()

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
