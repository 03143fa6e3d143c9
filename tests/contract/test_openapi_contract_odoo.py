"""Contract tests on Odoo (pytest-odoo): every request the addon's models send to Stripe, and
every webhook event its tests feed the handler, against Stripe's API description.

The addon's Stripe client is the real one (``stripe_api.make_client`` and the SDK's form
encoding); only its HTTP client is replaced by one that records each request and answers it
(tests/contract/openapi_contract.py). Each request is checked against the version it is sent
in: 2024-06-20 for the SDK calls; the webhook endpoint payment_stripe creates (with the
addon's events) against 2019-05-16, the endpoint's version, as are the events.

Skipped without Odoo (``pytest -p no:odoo tests/``).
"""

import copy
from unittest.mock import patch

import pytest
from openapi_contract import (
    ENDPOINT_VERSION,
    SDK_VERSION,
    RecordingHTTPClient,
    check_request,
    spec,
    validate,
)

try:
    from odoo.tests import tagged

    from odoo.addons.omni_payment_methods.lib import stripe_api, stripe_events
    from odoo.addons.omni_payment_methods.lib.stripe_events import event_names_for_version
    from odoo.addons.omni_payment_methods.models.omni_stripe_event import (
        OMNI_SUBSCRIBED_EVENTS,
        OMNI_WEBHOOK_EVENTS,
    )
    from odoo.addons.omni_payment_methods.tests.charge_common import ChargeCommon
    from odoo.addons.omni_payment_methods.tests.common import (
        current_api_payment_method,
        endpoint_version_payment_method,
        stripe_event,
    )
    from odoo.addons.payment_stripe import const as stripe_const
except ImportError:  # no Odoo here (pytest -p no:odoo)
    pytest.skip("needs Odoo (pytest-odoo)", allow_module_level=True)

pytestmark = pytest.mark.odoo

ENDPOINT_EVENTS = spec(ENDPOINT_VERSION)["requests"]["POST /v1/webhook_endpoints"]["properties"][
    "enabled_events"
]["items"]["enum"]


class FakeStripeAnswers:
    """The answers of the recorder: just enough of each object for the flows to go on."""

    def __init__(self, pm):
        self.pm = pm  # the PaymentMethod the SetupIntent confirmed

    def __call__(self, method, path, params):
        parts = path.strip("/").split("/")[1:]
        resource = parts[0]
        if resource == "customers":
            return {"id": parts[1] if len(parts) > 1 else "cus_contract", "object": "customer"}
        if resource == "setup_intents":
            return {
                "id": "seti_contract",
                "object": "setup_intent",
                "client_secret": "seti_contract_secret_x",
                "status": "succeeded",
                "customer": "cus_contract",
                "payment_method": self.pm["id"],
                "mandate": "mandate_contract" if self.pm["type"] != "card" else None,
            }
        if resource == "payment_methods":
            pm = dict(self.pm, customer=None if "attach" not in parts else "cus_contract")
            return pm
        if resource == "mandates":
            return {
                "id": "mandate_contract",
                "object": "mandate",
                "status": "active",
                "payment_method_details": {
                    "type": "sepa_debit",
                    "sepa_debit": {"reference": "OMNI-REF-1", "url": "https://example.com/m"},
                },
            }
        if resource == "payment_intents":
            return {
                "id": "pi_contract",
                "object": "payment_intent",
                "status": "processing",
                "amount": int(params.get("amount") or 0),
                "currency": params.get("currency") or "eur",
            }
        return {"id": "obj_contract"}


def sepa_payment_method():
    return {
        "id": "pm_contract_sepa",
        "object": "payment_method",
        "type": "sepa_debit",
        "billing_details": {"name": "Omni Customer", "email": "billing@omni.example"},
        "customer": None,
        "sepa_debit": {
            "bank_code": "37040044",
            "country": "DE",
            "fingerprint": "fp_contract",
            "last4": "3000",
        },
    }


@tagged("post_install", "-at_install")
class TestRequestContract(ChargeCommon):
    test_module = "omni_payment_methods"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe.write({"stripe_secret_key": "sk_test_contract", "state": "test"})
        cls.Setup = cls.env["omni.payment.setup"]

    def setUp(self):
        super().setUp()
        card = current_api_payment_method()
        card["card"]["exp_year"] = card["card"]["exp_year"] + 10  # never expired
        self.answers = FakeStripeAnswers(card)
        self.recorder = RecordingHTTPClient(self.answers)
        patcher = patch.dict(
            stripe_api._HTTP_CLIENTS, {self.stripe._omni_stripe_timeout(): self.recorder}
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def assertRequestsMatch(self, *expected):
        """The requests sent are ``expected`` (method, path) and each matches 2024-06-20."""
        sent = [(r["method"], r["path"]) for r in self.recorder.requests]
        self.assertEqual(sent, list(expected))
        for request in self.recorder.requests:
            self.assertEqual(check_request(spec(SDK_VERSION), request), [], request)

    def test_card_setup_create_finish_cancel(self):
        setup, _secret, _handle = self.Setup._omni_start(self.customer, "staff")
        setup._finish()
        setup._cancel_intent()
        self.assertRequestsMatch(
            ("POST", "/v1/customers"),
            ("POST", "/v1/setup_intents"),
            ("GET", "/v1/setup_intents/seti_contract"),
            ("GET", f"/v1/payment_methods/{self.answers.pm['id']}"),
            ("POST", f"/v1/payment_methods/{self.answers.pm['id']}/attach"),
            ("GET", f"/v1/payment_methods/{self.answers.pm['id']}"),
            ("POST", "/v1/setup_intents/seti_contract/cancel"),
        )

    def test_bank_setup_create(self):
        for method_type in stripe_api.BANK_SETUP_TYPES:
            self.Setup._omni_start(self.customer, "staff", method_type=method_type)
        # No saved method holds a Stripe customer yet: each attempt creates one.
        self.assertRequestsMatch(
            *[
                ("POST", path)
                for _t in stripe_api.BANK_SETUP_TYPES
                for path in ("/v1/customers", "/v1/setup_intents")
            ]
        )
        types = [r["params"]["payment_method_types"] for r in self.recorder.requests[1::2]]
        self.assertEqual(types, [[t] for t in stripe_api.BANK_SETUP_TYPES])

    def test_sepa_setup_finish_reads_the_mandate(self):
        self.answers.pm = sepa_payment_method()
        setup, _secret, _handle = self.Setup._omni_start(
            self.customer, "staff", method_type="sepa_debit"
        )
        token = setup._finish()
        self.assertEqual(token.omni_mandate_reference, "OMNI-REF-1")
        pm = self.answers.pm["id"]
        self.assertRequestsMatch(
            ("POST", "/v1/customers"),
            ("POST", "/v1/setup_intents"),
            ("GET", "/v1/setup_intents/seti_contract"),
            ("GET", f"/v1/payment_methods/{pm}"),
            ("POST", f"/v1/payment_methods/{pm}/attach"),
            ("GET", "/v1/mandates/mandate_contract"),
            ("GET", f"/v1/payment_methods/{pm}"),
        )

    def test_token_default_refresh_and_delete(self):
        first = self._omni_token(self.customer)
        token = self._omni_token(self.customer, last4="1111")
        token.action_omni_set_default()
        token._omni_fetch_stripe_payment_method()
        first._omni_delete()
        self.assertFalse(first.active)
        self.assertRequestsMatch(
            ("POST", f"/v1/customers/{token.provider_ref}"),
            ("GET", f"/v1/payment_methods/{token.stripe_payment_method}"),
            ("POST", f"/v1/payment_methods/{first.stripe_payment_method}/detach"),
        )

    def test_off_session_payment_intent(self):
        invoice = self._invoice()
        token = self._authorized_token(stripe_mandate="mandate_contract")
        self._run_charges()
        self.assertRequestsMatch(("POST", "/v1/payment_intents"))
        params = self.recorder.requests[0]["params"]
        self.assertEqual(params["payment_method"], token.stripe_payment_method)
        self.assertEqual(params["metadata"]["odoo_invoice"], invoice.name)

    # --- payment_stripe's webhook endpoint (2019-05-16) ---------------------------------

    def _endpoint_payload(self):
        """payment_stripe's webhook endpoint creation, with the addon's additions."""
        payload = {
            "url": "https://odoo.example/payment/stripe/webhook",
            "enabled_events[]": list(stripe_const.HANDLED_WEBHOOK_EVENTS),
            "api_version": stripe_const.API_VERSION,
        }
        sent = self.stripe._omni_stripe_request_payload("POST", "webhook_endpoints", payload)
        return {key.removesuffix("[]"): value for key, value in sent.items()}

    def test_webhook_endpoint_is_created_in_the_endpoint_version(self):
        payload = self._endpoint_payload()
        self.assertEqual(payload["api_version"], ENDPOINT_VERSION)
        schema = spec(ENDPOINT_VERSION)["requests"]["POST /v1/webhook_endpoints"]
        # Only the addon's additions: payment_stripe's own events are its own business.
        own = set(stripe_const.HANDLED_WEBHOOK_EVENTS)
        added = dict(payload, enabled_events=[e for e in payload["enabled_events"] if e not in own])
        self.assertEqual(
            sorted(added["enabled_events"]),
            sorted(event_names_for_version(OMNI_SUBSCRIBED_EVENTS, ENDPOINT_VERSION)),
        )
        self.assertEqual(validate(dict(added, enabled_events=[]), schema), [])

    # Event types Stripe added after the 2019-05-16 description (its last snapshot, August
    # 2019): an endpoint of any version may subscribe to them and receives their objects in
    # its version (payment_stripe's own 2019-05-16 endpoint subscribes to
    # payment_intent.processing and payment_intent.canceled, added later too). A rename is
    # different: the new name does not exist in the old version (RENAMED_EVENTS).
    ADDED_AFTER_ENDPOINT_VERSION = frozenset({"setup_intent.canceled"})

    def test_webhook_endpoint_events_exist_in_the_endpoint_version(self):
        own = set(stripe_const.HANDLED_WEBHOOK_EVENTS)
        added = [e for e in self._endpoint_payload()["enabled_events"] if e not in own]
        unknown = [e for e in added if e not in ENDPOINT_EVENTS]
        self.assertEqual(sorted(set(unknown) - self.ADDED_AFTER_ENDPOINT_VERSION), [])
        # ... and none of them is the new name of a renamed event
        self.assertFalse(set(unknown) & set(stripe_events.RENAMED_EVENTS))

    # --- webhook events (2019-05-16) ----------------------------------------------------

    def _fed_events(self):
        """One event per handled type, as the endpoint sends them: in its version, under
        that version's names, with that version's PaymentMethod."""
        return [
            stripe_event(name, endpoint_version_payment_method(), api_version=ENDPOINT_VERSION)
            for name in event_names_for_version(OMNI_WEBHOOK_EVENTS, ENDPOINT_VERSION)
        ]

    def test_webhook_events_match_the_endpoint_version(self):
        objects = spec(ENDPOINT_VERSION)["objects"]
        for event in self._fed_events():
            envelope = copy.deepcopy(event)
            pm = envelope["data"].pop("object")
            envelope["data"]["object"] = {}
            self.assertEqual(validate(envelope, objects["event"], unknown="allow"), [])
            errors = validate(pm, objects["payment_method"], unknown="allow")
            # Link wallets (2022) postdate the 2019 description; Stripe adds enum values to
            # every version and the addon stores the wallet as free text.
            self.assertEqual([e for e in errors if "'link'" not in e], [])
            # And the handler takes it in.
            record = self.env["omni.stripe.event"]._process_event(event, self.stripe)
            self.assertTrue(record)

    def test_webhook_events_are_of_the_endpoint_version(self):
        for event in self._fed_events():
            self.assertEqual(event["api_version"], ENDPOINT_VERSION)
            self.assertIn(event["type"], ENDPOINT_EVENTS)
