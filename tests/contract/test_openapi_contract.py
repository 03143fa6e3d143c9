"""Contract tests (no Odoo): the addon's Stripe layer against Stripe's API description.

- Requests: the Stripe SDK client ``stripe_api.make_client`` builds sends every call in
  2024-06-20 (``stripe_api.API_VERSION``); the parameters ``stripe_api`` builds, encoded by
  the SDK exactly as they leave for Stripe, are checked against that version's parameters
  (every one known, of its type and enum, the required ones present).
- Payloads: the PaymentMethod the addon's tests feed the webhook handler
  (omni_payment_methods/tests/data/payment_method.json) against the object of 2019-05-16, the
  version of payment_stripe's webhook endpoint; the fields the mapping reads exist in that
  version (or the field it falls back on does), and the mapping of a payload cut down to that
  version stores the same values.

The requests built in the Odoo models (customers, SetupIntent confirmation, PaymentIntents,
the webhook endpoint) are checked by test_openapi_contract_odoo.py.
"""

import copy
import json
from pathlib import Path

import pytest
from omni_pm_lib import stripe_api
from openapi_contract import (
    ENDPOINT_VERSION,
    SDK_VERSION,
    RecordingHTTPClient,
    check_request,
    decode_form,
    spec,
    validate,
)

PM_FIXTURE = (
    Path(__file__).resolve().parents[2]
    / "omni_payment_methods"
    / "tests"
    / "data"
    / "payment_method.json"
)

# What the webhook handler reads of an event (models/omni_stripe_event.py
# ``_parse_event``) and of its PaymentMethod (``stripe_api.payment_method_values`` and
# ``customer_id_of`` through payment_token.py ``_omni_apply_payment_method``), as
# (field path, fallback read when it is absent).
EVENT_READS = [("id", None), ("type", None), ("created", None), ("data.object", None)]
CARD_READS = [
    ("id", None),
    ("type", None),
    ("customer", None),
    ("billing_details.name", None),
    ("card.fingerprint", None),
    ("card.last4", None),
    ("card.display_brand", "card.brand"),
    ("card.brand", None),
    ("card.exp_month", None),
    ("card.exp_year", None),
    ("card.funding", None),
    ("card.country", None),
    ("card.wallet.type", None),
]
# Bank debits' PaymentMethods postdate the 2019-05-16 description (Stripe added them to every
# version later): they are checked against 2024-06-20, the version the addon reads them in.
BANK_READS = [
    (f"{kind}.{field}", None)
    for kind, fields in {
        "sepa_debit": ("fingerprint", "last4", "country", "bank_code"),
        "acss_debit": ("fingerprint", "last4", "bank_name"),
        "us_bank_account": ("fingerprint", "last4", "bank_name"),
        "bacs_debit": ("fingerprint", "last4"),
        "au_becs_debit": ("fingerprint", "last4"),
    }.items()
    for field in fields
]
# What the addon reads of the objects its SDK calls return (2024-06-20): the SetupIntent and
# Mandate in omni_payment_setup.py ``_finish``/``stripe_api.mandate_values``, the
# PaymentIntent in omni_charge_attempt.py, the customer's id.
SDK_READS = {
    "setup_intent": ["id", "client_secret", "status", "payment_method", "customer", "mandate"],
    "mandate": ["id", "status", "payment_method_details.type"]
    + [f"payment_method_details.{kind}.reference" for kind in ("sepa_debit", "bacs_debit")],
    "payment_intent": [
        "id",
        "status",
        "amount",
        "currency",
        "last_payment_error.code",
        "last_payment_error.decline_code",
        "last_payment_error.message",
    ],
    "customer": ["id"],
}


def field_schema(schema, dotted):
    """The schema of the field ``dotted`` (``card.wallet.type``) of an object, or None."""
    for part in dotted.split("."):
        while "anyOf" in schema:  # an expandable or nullable field: its object form
            schema = next((s for s in schema["anyOf"] if "properties" in s), schema["anyOf"][0])
        schema = (schema.get("properties") or {}).get(part)
        if schema is None:
            return None
    return schema


def missing_reads(object_schema, reads):
    return [
        field
        for field, fallback in reads
        if field_schema(object_schema, field) is None
        and (fallback is None or field_schema(object_schema, fallback) is None)
    ]


def project(value, schema):
    """``value`` cut down to the fields ``schema`` knows (a payload of that version)."""
    while "anyOf" in schema:
        schema = next((s for s in schema["anyOf"] if "properties" in s), schema["anyOf"][0])
    if isinstance(value, dict) and schema.get("properties") is not None:
        return {
            key: project(item, schema["properties"][key])
            for key, item in value.items()
            if key in schema["properties"]
        }
    return value


@pytest.fixture
def recorder(monkeypatch):
    """The HTTP client of every ``make_client``: records, answers ``{"id": ...}``."""
    client = RecordingHTTPClient(lambda method, path, params: {"id": "obj_contract"})
    for timeout in (stripe_api.DEFAULT_TIMEOUT,):
        monkeypatch.setitem(stripe_api._HTTP_CLIENTS, timeout, client)
    return client


@pytest.fixture
def pm_fixture():
    return json.loads(PM_FIXTURE.read_text(encoding="utf-8"))


# --- the description itself --------------------------------------------------------------


def test_extracts_are_of_the_versions_in_use():
    assert stripe_api.API_VERSION == SDK_VERSION
    for version in (SDK_VERSION, ENDPOINT_VERSION):
        api = spec(version)
        assert api["api_version"] == version
        assert "MIT" in api["_license"]
        assert api["requests"] and api["objects"]


def test_validator_refuses_what_stripe_refuses():
    schema = spec(SDK_VERSION)["requests"]["POST /v1/setup_intents"]
    good = {"customer": "cus_1", "usage": "off_session", "payment_method_types": ["card"]}
    assert validate(good, schema) == []
    assert validate(dict(good, usagee="off_session"), schema) == ["usagee: unknown parameter"]
    assert validate(dict(good, usage="sometimes"), schema)[0].startswith("usage: 'sometimes'")
    assert validate({"payment_method_options": {"card": {"moto": "yes"}}}, schema, form=True) == [
        "payment_method_options[card][moto]: 'yes' is not of type boolean"
    ]
    attach = spec(SDK_VERSION)["requests"]["POST /v1/payment_methods/{payment_method}/attach"]
    assert validate({}, attach) == ["customer: required"]


def test_decode_form_reads_stripe_encoding():
    encoded = "a[b][0]=x&a[b][1]=y&metadata[k]=v&confirm=true&amount=1250&empty="
    assert decode_form(encoded) == {
        "a": {"b": ["x", "y"]},
        "metadata": {"k": "v"},
        "confirm": "true",
        "amount": "1250",
        "empty": "",
    }


# --- requests (2024-06-20) ---------------------------------------------------------------


def test_client_sends_the_addon_api_version(recorder):
    client = stripe_api.make_client("sk_test_contract", api_base="http://127.0.0.1:9")
    client.v1.payment_methods.retrieve("pm_1")
    assert [r["version"] for r in recorder.requests] == [stripe_api.API_VERSION]
    assert check_request(spec(SDK_VERSION), recorder.requests[0]) == []


@pytest.mark.parametrize("pm_type", stripe_api.SETUP_TYPES)
@pytest.mark.parametrize("transaction_type", ["business", "personal"])
def test_setup_intent_params_match_the_api(recorder, pm_type, transaction_type):
    client = stripe_api.make_client("sk_test_contract", api_base="http://127.0.0.1:9")
    params = stripe_api.setup_intent_params(
        pm_type,
        "cus_contract",
        {"odoo_setup_id": "7", "channel": "portal"},
        acss_transaction_type=transaction_type,
    )
    client.v1.setup_intents.create(params, {"idempotency_key": "omni-contract"})
    (request,) = recorder.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/setup_intents")
    assert request["params"]["payment_method_types"] == [pm_type]
    assert check_request(spec(SDK_VERSION), request) == []


# --- webhook payloads (2019-05-16) -------------------------------------------------------


def test_event_fields_read_exist_in_the_endpoint_version():
    event = spec(ENDPOINT_VERSION)["objects"]["event"]
    assert missing_reads(event, EVENT_READS) == []


def test_card_fields_read_exist_in_the_endpoint_version():
    payment_method = spec(ENDPOINT_VERSION)["objects"]["payment_method"]
    assert missing_reads(payment_method, CARD_READS) == []


def test_payment_method_fields_read_exist_in_the_sdk_version():
    payment_method = spec(SDK_VERSION)["objects"]["payment_method"]
    assert missing_reads(payment_method, CARD_READS + BANK_READS) == []


@pytest.mark.parametrize("name", sorted(SDK_READS))
def test_sdk_object_fields_read_exist(name):
    reads = [(field, None) for field in SDK_READS[name]]
    assert missing_reads(spec(SDK_VERSION)["objects"][name], reads) == []


# Values Stripe added after 2019 to an enum of 2019-05-16, also sent in that version's events
# (Link wallets date from 2022); the addon stores the wallet as free text (``omni_card_wallet``).
ADDED_SINCE_2019 = [
    "card[wallet][type]: 'link' is not one of ['amex_express_checkout', 'apple_pay', "
    "'google_pay', 'masterpass', 'samsung_pay', 'visa_checkout']"
]


@pytest.mark.parametrize(
    ("version", "added"), [(ENDPOINT_VERSION, ADDED_SINCE_2019), (SDK_VERSION, [])]
)
def test_webhook_payment_method_fixture_matches_the_version(pm_fixture, version, added):
    # Fields the version does not list are accepted (Stripe adds fields to every version);
    # those it lists must have its types and values.
    schema = spec(version)["objects"]["payment_method"]
    assert validate(pm_fixture, schema, unknown="allow") == added


def test_mapping_of_an_endpoint_version_payload(pm_fixture):
    """A card PaymentMethod as 2019-05-16 describes it (no display_brand, no fields added
    since) is stored with the same values, its brand read from ``brand``."""
    schema = spec(ENDPOINT_VERSION)["objects"]["payment_method"]
    old = project(copy.deepcopy(pm_fixture), schema)
    old["card"]["wallet"]["type"] = "apple_pay"  # a wallet of 2019
    assert "display_brand" not in old["card"] and "brand" in old["card"]
    assert validate(old, schema) == []
    expected = stripe_api.payment_method_values(pm_fixture)
    expected["omni_card_brand"] = old["card"]["brand"].replace("_", " ").lower()
    expected["omni_card_wallet"] = "apple_pay"
    assert stripe_api.payment_method_values(old) == expected
