"""Stripe object mapping and error classification: omni_payment_methods/lib/stripe_api.py.

The payment_method example is Stripe's own current-API fixture (tests/data); the bank
shapes below follow the same API reference (PaymentMethod object, per-type hashes).
"""

import copy

import pytest
import stripe
from omni_pm_lib import stripe_api

SEPA_DEBIT = {
    "bank_code": "37040044",
    "branch_code": "",
    "country": "DE",
    "fingerprint": "ySfUdmHyRGZhYrFQ",
    "generated_from": {"charge": None, "setup_attempt": None},
    "last4": "3000",
}
US_BANK_ACCOUNT = {
    "account_holder_type": "individual",
    "account_type": "checking",
    "bank_name": "STRIPE TEST BANK",
    "financial_connections_account": None,
    "fingerprint": "LstWJFsCK7P349Bg",
    "last4": "6789",
    "networks": {"preferred": "ach", "supported": ["ach"]},
    "routing_number": "110000000",
    "status_details": None,
}
ACSS_DEBIT = {
    "bank_name": "STRIPE TEST BANK",
    "fingerprint": "6Ds3Uly8V8pSjcY3",
    "institution_number": "000",
    "last4": "6789",
    "transit_number": "11000",
}


@pytest.fixture
def card_pm(stripe_fixtures):
    return copy.deepcopy(stripe_fixtures["payment_method"])


def bank_pm(card_pm, pm_type, details, name="Jenny Rosen"):
    """A PaymentMethod of ``pm_type`` built on the fixture's envelope."""
    pm = {key: value for key, value in card_pm.items() if key != "card"}
    pm.update({"type": pm_type, pm_type: details, "id": "pm_bank_" + pm_type})
    pm["billing_details"]["name"] = name
    return pm


def test_card_fixture_maps_every_field(card_pm):
    assert stripe_api.payment_method_values(card_pm) == {
        "stripe_payment_method": "pm_1Pgc75B7WZ01zgkWlHVgdEGJ",
        "omni_method_kind": "card",
        "omni_stripe_pm_type": "card",
        "omni_holder_name": False,  # billing_details.name is null in the fixture
        "omni_fingerprint": "AOB934RVNwzk6xtn",
        "payment_details": "4242",
        "omni_card_brand": "visa",
        "omni_card_exp_month": 8,
        "omni_card_exp_year": 2030,
        "omni_card_funding": "credit",
        "card_country_code": "US",
        "omni_card_wallet": "link",
        "omni_bank_name": False,
    }


def test_sdk_object_maps_like_the_dict(card_pm):
    obj = stripe.PaymentMethod.construct_from(card_pm, "sk_test_omni")
    assert isinstance(obj, stripe.StripeObject)
    assert stripe_api.payment_method_values(obj) == stripe_api.payment_method_values(card_pm)


def test_holder_name_from_billing_details(card_pm):
    card_pm["billing_details"]["name"] = "Jenny Rosen"
    assert stripe_api.payment_method_values(card_pm)["omni_holder_name"] == "Jenny Rosen"


@pytest.mark.parametrize(
    ("brand", "display_brand", "expected"),
    [
        ("visa", "cartes_bancaires", "cartes bancaires"),  # display_brand wins
        ("amex", "american_express", "american express"),
        ("mastercard", None, "mastercard"),  # older shapes have no display_brand
        ("Visa", None, "visa"),  # old Card objects capitalize the brand
        (None, None, False),
    ],
)
def test_card_brand_prefers_display_brand(card_pm, brand, display_brand, expected):
    card_pm["card"].update(brand=brand, display_brand=display_brand)
    assert stripe_api.payment_method_values(card_pm)["omni_card_brand"] == expected


@pytest.mark.parametrize(
    ("funding", "expected"),
    [
        ("credit", "credit"),
        ("debit", "debit"),
        ("prepaid", "prepaid"),
        ("unknown", "unknown"),
        ("charge_card", "unknown"),
        (None, "unknown"),
    ],
)
def test_card_funding(card_pm, funding, expected):
    card_pm["card"]["funding"] = funding
    assert stripe_api.payment_method_values(card_pm)["omni_card_funding"] == expected


def test_card_without_optional_details(card_pm):
    for key in ("wallet", "country", "funding", "fingerprint", "display_brand"):
        del card_pm["card"][key]
    card_pm["card"].update(exp_month="08", exp_year="2031")  # strings are accepted
    values = stripe_api.payment_method_values(card_pm)
    assert values["omni_card_wallet"] is False
    assert values["card_country_code"] is False
    assert values["omni_card_funding"] == "unknown"
    assert values["omni_fingerprint"] is False
    assert values["omni_card_brand"] == "visa"
    assert (values["omni_card_exp_month"], values["omni_card_exp_year"]) == (8, 2031)


def test_card_country_is_upper_case(card_pm):
    card_pm["card"]["country"] = "fr"
    assert stripe_api.payment_method_values(card_pm)["card_country_code"] == "FR"


def test_card_wallet_null(card_pm):
    card_pm["card"]["wallet"] = None
    assert stripe_api.payment_method_values(card_pm)["omni_card_wallet"] is False


@pytest.mark.parametrize(
    ("pm_type", "details", "bank_name", "country"),
    [
        ("sepa_debit", SEPA_DEBIT, "37040044", "DE"),  # no bank_name in SEPA: the bank code
        ("us_bank_account", US_BANK_ACCOUNT, "STRIPE TEST BANK", False),
        ("acss_debit", ACSS_DEBIT, "STRIPE TEST BANK", False),
    ],
)
def test_bank_debit_maps_to_bank_kind(card_pm, pm_type, details, bank_name, country):
    pm = bank_pm(card_pm, pm_type, details)
    assert stripe_api.payment_method_values(pm) == {
        "stripe_payment_method": "pm_bank_" + pm_type,
        "omni_method_kind": "bank",
        "omni_stripe_pm_type": pm_type,
        "omni_holder_name": "Jenny Rosen",
        "omni_fingerprint": details["fingerprint"],
        "payment_details": details["last4"],
        "omni_card_brand": False,
        "omni_card_exp_month": 0,
        "omni_card_exp_year": 0,
        "omni_card_funding": False,
        "card_country_code": country,
        "omni_card_wallet": False,
        "omni_bank_name": bank_name,
    }


def test_unsupported_type_has_no_kind(card_pm):
    pm = bank_pm(card_pm, "ideal", {"bank": "abn_amro", "bic": "ABNANL2A"})
    values = stripe_api.payment_method_values(pm)
    assert values["omni_method_kind"] is None
    assert values["omni_stripe_pm_type"] == "ideal"


@pytest.mark.parametrize(
    ("pm_type", "kind"),
    [
        ("card", "card"),
        ("sepa_debit", "bank"),
        ("acss_debit", "bank"),
        ("us_bank_account", "bank"),
        ("bacs_debit", "bank"),
        ("au_becs_debit", "bank"),
        ("ideal", None),
        ("link", None),
        (None, None),
    ],
)
def test_method_kind(pm_type, kind):
    assert stripe_api.method_kind(pm_type) == kind


def test_customer_id_of(card_pm):
    assert stripe_api.customer_id_of(card_pm) is None
    card_pm["customer"] = "cus_123"
    assert stripe_api.customer_id_of(card_pm) == "cus_123"
    card_pm["customer"] = {"id": "cus_456", "object": "customer"}  # expanded
    assert stripe_api.customer_id_of(card_pm) == "cus_456"
    obj = stripe.PaymentMethod.construct_from(card_pm, "sk_test_omni")
    assert stripe_api.customer_id_of(obj) == "cus_456"


def test_as_dict():
    assert stripe_api.as_dict(None) is None
    assert stripe_api.as_dict({"a": 1}) == {"a": 1}
    obj = stripe.StripeObject.construct_from({"a": {"b": 1}}, "sk_test_omni")
    assert stripe_api.as_dict(obj) == {"a": {"b": 1}}
    assert type(stripe_api.as_dict(obj)["a"]) is dict


def test_idempotency_key_is_stable_and_distinct():
    key = stripe_api.idempotency_key("attach", 42, "pm_123")
    assert key == stripe_api.idempotency_key("attach", 42, "pm_123")
    assert key.startswith("omni-") and len(key) <= 255  # Stripe's limit
    others = {
        stripe_api.idempotency_key("attach", 42, "pm_124"),
        stripe_api.idempotency_key("detach", 42, "pm_123"),
        stripe_api.idempotency_key("attach", 4, "2pm_123"),
        stripe_api.idempotency_key("attach42", "pm_123"),
        stripe_api.idempotency_key("attach", 42, "pm_123", 1),
    }
    assert key not in others and len(others) == 5


@pytest.mark.parametrize(
    ("brand", "label"),
    [
        ("visa", "Visa"),
        ("amex", "American Express"),
        ("american express", "American Express"),
        ("cartes bancaires", "Cartes Bancaires"),
        ("Mastercard", "Mastercard"),
        ("some_new_brand", "Some New Brand"),
        ("", ""),
        (False, ""),
        (None, ""),
    ],
)
def test_brand_label(brand, label):
    assert stripe_api.brand_label(brand) == label


# --- classify_error ------------------------------------------------------------------------


def card_error(decline_code=None, code="card_declined"):
    body = {
        "error": {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": "Your card was declined.",
        }
    }
    return stripe.CardError("Your card was declined.", None, code, json_body=body, http_status=402)


@pytest.mark.parametrize(
    ("exc", "category", "decline"),
    [
        (
            stripe.APIConnectionError(
                "Unexpected error communicating with Stripe.\n\n(Network error: ReadTimeout: "
                "HTTPConnectionPool(host='api.stripe.com', port=443): Read timed out. "
                "(read timeout=20.0))"
            ),
            "timeout",
            None,
        ),
        (
            stripe.APIConnectionError(
                "Unexpected error communicating with Stripe.\n\n(Network error: ConnectionError: "
                "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded "
                "(Caused by NewConnectionError('Failed to establish a new connection: "
                "[Errno 111] Connection refused'))"
            ),
            "unreachable",
            None,
        ),
        (card_error("insufficient_funds"), "card", "insufficient_funds"),
        (card_error(None), "card", "card_declined"),  # no decline_code: falls back to the code
        (card_error(None, code="expired_card"), "card", "expired_card"),
        (
            stripe.InvalidRequestError(
                "No such PaymentMethod: 'pm_x'", "id", code="resource_missing", http_status=404
            ),
            "not_found",
            None,
        ),
        (stripe.InvalidRequestError("Not Found", None, http_status=404), "not_found", None),
        (
            stripe.InvalidRequestError(
                "No such customer", "customer", code="resource_missing", http_status=400
            ),
            "not_found",
            None,
        ),
        (stripe.InvalidRequestError("Bad request", "card", http_status=400), "invalid", None),
        (stripe.AuthenticationError("Invalid API Key provided", http_status=401), "auth", None),
        (stripe.PermissionError("Not allowed", http_status=403), "auth", None),
        (stripe.APIError("Something went wrong", http_status=500), "server", None),
        (stripe.RateLimitError("Too many requests", http_status=429), "server", None),
        (RuntimeError("boom"), "server", None),
    ],
)
def test_classify_error(exc, category, decline):
    got_category, message, got_decline = stripe_api.classify_error(exc)
    assert (got_category, got_decline) == (category, decline)
    assert message and isinstance(message, str)


def test_classify_error_message_is_the_user_message():
    assert stripe_api.classify_error(card_error("do_not_honor"))[1] == "Your card was declined."
    assert stripe_api.classify_error(RuntimeError())[1] == "RuntimeError"
