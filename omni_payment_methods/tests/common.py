# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import hashlib
import hmac
import json
import os
import socket
import time
import unittest
import uuid
from unittest.mock import patch

from odoo.tools import file_path

from odoo.addons.payment_stripe.tests.common import StripeCommon

from ..const import DEV_API_BASE_ENV
from ..lib import stripe_api
from . import compat

LOCALSTRIPE_URL = os.environ.get("OMNI_LOCALSTRIPE_URL")
LOCALSTRIPE_KEY = "sk_test_omni"

# No test depends on the day it runs (``make test-dates`` runs the suite at a month's end, on
# 29 February and years ahead): dates are taken from the day of the run, never written out.
TODAY = datetime.date.today()
# An expiry year still years ahead: the tests' cards stay valid on any date.
CARD_YEAR = TODAY.year + 4


def closed_port_url():
    """An http URL on 127.0.0.1 where nothing listens (Stripe "down")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def current_api_payment_method():
    """The current-API PaymentMethod example of Stripe (licence in its ``_license`` key)."""
    with open(file_path("omni_payment_methods/tests/data/payment_method.json")) as f:
        return json.load(f)


def endpoint_version_payment_method():
    """Stripe's PaymentMethod example in API version 2019-05-16, the version of the webhook
    endpoint payment_stripe creates (licence in its ``_license`` key)."""
    with open(file_path("omni_payment_methods/tests/data/payment_method_2019_05_16.json")) as f:
        return json.load(f)


def stripe_event(event_type, obj, created=None, event_id=None, api_version=None):
    """A Stripe event as Stripe sends it, in ``api_version`` (default: the version the addon
    sends its own requests in)."""
    return {
        "id": event_id or f"evt_omni_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "type": event_type,
        "created": created or int(time.time()),
        "data": {"object": obj},
        "api_version": api_version or stripe_api.API_VERSION,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
    }


def stripe_signature(body, secret, timestamp):
    """The Stripe-Signature header of ``body`` as Stripe signs it with ``secret``."""
    signature = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={signature.hexdigest()}"


class OmniCommon(compat.KeepRequestTimeouts, StripeCommon):
    """Stripe provider and helpers; tokens without Stripe unless a test asks for it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The development server of the Stripe provider (a server-level setting): nothing
        # listens there unless a test says otherwise (_stripe_at); restored after each test
        # (setUp) and after the class.
        cls.startClassPatcher(patch.dict(os.environ, {DEV_API_BASE_ENV: closed_port_url()}))
        cls.Token = cls.env["payment.token"]
        cls.card_method = cls.env.ref("payment.payment_method_card")
        cls.customer = cls.env["res.partner"].create({"name": "Omni Customer", "is_company": True})
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "Omni Contact", "parent_id": cls.customer.id}
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "Other Customer"})
        cls._seq = 0

    def setUp(self):
        super().setUp()
        self.startPatcher(patch.dict(os.environ))  # what _stripe_at changes, per test

    @classmethod
    def _stripe_at(cls, url):
        """Point the Stripe provider (in test mode) at the Stripe-compatible server at
        ``url``, as the server-level setting does (environment ``OMNI_STRIPE_API_BASE``)."""
        os.environ[DEV_API_BASE_ENV] = url

    @classmethod
    def _omni_token(cls, partner, last4="4242", brand="visa", month=12, year=CARD_YEAR, **values):
        cls._seq += 1
        vals = {
            "provider_id": cls.stripe.id,
            "payment_method_id": cls.card_method.id,
            "partner_id": partner.id,
            "payment_details": last4,
            "provider_ref": f"cus_omni_{cls._seq}",
            "stripe_payment_method": f"pm_omni_{cls._seq}",
            "omni_method_kind": "card",
            "omni_stripe_pm_type": "card",
            "omni_card_brand": brand,
            "omni_card_exp_month": month,
            "omni_card_exp_year": year,
        }
        vals.update(values)
        return cls.env["payment.token"].create(vals)

    def _omni_validation_tx(self):
        """A Stripe validation transaction asking for a token, as the portal creates it."""
        return self._create_transaction(
            "direct",
            operation="validation",
            tokenize=True,
            partner_id=self.customer.id,
            payment_method_id=self.card_method.id,
        )


class LocalStripeMixin:
    """Tests that talk to a real localstripe (started by the project's test command)."""

    @classmethod
    def setUpClass(cls):
        if not LOCALSTRIPE_URL:
            raise unittest.SkipTest("OMNI_LOCALSTRIPE_URL is not set: localstripe is not running")
        super().setUpClass()
        cls._stripe_at(LOCALSTRIPE_URL)
        cls.stripe.write({"stripe_secret_key": LOCALSTRIPE_KEY})
        cls.client = stripe_api.make_client(
            LOCALSTRIPE_KEY, api_base=LOCALSTRIPE_URL, max_network_retries=0
        )

    def _stripe_card(
        self, number="4242424242424242", month=8, year=CARD_YEAR + 1, name="Ada Lovelace"
    ):
        """Create a Stripe customer and an attached card; return (customer id, pm dict)."""
        customer = self.client.v1.customers.create({"name": name})
        pm = self.client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {"number": number, "exp_month": month, "exp_year": year, "cvc": "123"},
                "billing_details": {"name": name},
            }
        )
        pm = self.client.v1.payment_methods.attach(pm["id"], {"customer": customer["id"]})
        return customer["id"], stripe_api.as_dict(pm)

    def _stripe_token(self, partner, number="4242424242424242", **kwargs):
        customer_id, pm = self._stripe_card(number=number, **kwargs)
        token = self.Token.create(
            {
                "provider_id": self.stripe.id,
                "payment_method_id": self.card_method.id,
                "partner_id": partner.id,
                "payment_details": pm["card"]["last4"],
                "provider_ref": customer_id,
                "stripe_payment_method": pm["id"],
            }
        )
        token._omni_capture_stripe_details(pm)
        return token
