"""SetupIntent parameters for bank debits and Mandate mapping:
omni_payment_methods/lib/stripe_api.py (shapes from Stripe's API reference)."""

import pytest
from omni_pm_lib import stripe_api

META = {"odoo_setup_id": "7"}


def test_card_setup_intent_has_no_options():
    params = stripe_api.setup_intent_params("card", "cus_1", META)
    assert params == {
        "customer": "cus_1",
        "usage": "off_session",
        "payment_method_types": ["card"],
        "metadata": META,
    }


def test_sepa_setup_intent_is_off_session_sepa_only():
    params = stripe_api.setup_intent_params("sepa_debit", "cus_1", META)
    assert params["payment_method_types"] == ["sepa_debit"]
    assert params["usage"] == "off_session"
    assert "payment_method_options" not in params


@pytest.mark.parametrize("transaction_type", ["business", "personal"])
def test_acss_setup_intent_carries_currency_and_mandate_options(transaction_type):
    params = stripe_api.setup_intent_params(
        "acss_debit", "cus_1", META, acss_transaction_type=transaction_type
    )
    options = params["payment_method_options"]["acss_debit"]
    assert options["currency"] == "cad"
    assert options["mandate_options"] == {
        "payment_schedule": "sporadic",
        "transaction_type": transaction_type,
    }


def test_us_bank_account_setup_intent_verification():
    params = stripe_api.setup_intent_params("us_bank_account", "cus_1", META)
    options = params["payment_method_options"]["us_bank_account"]
    assert options["verification_method"] == "automatic"
    assert options["financial_connections"] == {"permissions": ["payment_method"]}


def test_unsupported_setup_type_is_refused():
    with pytest.raises(ValueError):
        stripe_api.setup_intent_params("ideal", "cus_1", META)


def test_email_required_for_sepa_and_acss_only():
    assert set(stripe_api.EMAIL_REQUIRED_TYPES) == {"sepa_debit", "acss_debit"}


SEPA_MANDATE = {
    "id": "mandate_1",
    "object": "mandate",
    "payment_method": "pm_1",
    "payment_method_details": {
        "sepa_debit": {"reference": "REF123", "url": "https://stripe.example/m"},
        "type": "sepa_debit",
    },
    "status": "active",
    "type": "multi_use",
}


def test_sepa_mandate_reference_and_status():
    assert stripe_api.mandate_values(SEPA_MANDATE) == ("REF123", "active")


@pytest.mark.parametrize("status", ["active", "inactive", "pending"])
def test_mandate_without_reference_uses_its_id(status):
    mandate = {
        "id": "mandate_2",
        "payment_method_details": {
            "acss_debit": {"payment_schedule": "sporadic"},
            "type": "acss_debit",
        },
        "status": status,
    }
    assert stripe_api.mandate_values(mandate) == ("mandate_2", status)


def test_unknown_mandate_status_is_not_stored():
    assert stripe_api.mandate_values(dict(SEPA_MANDATE, status="weird")) == ("REF123", False)


def test_localstripe_sepa_method_without_mandate_object():
    pm = {"id": "pm_1", "type": "sepa_debit", "sepa_debit": {"mandate_reference": "NXDS"}}
    assert stripe_api.mandate_values(None, pm) == ("NXDS", "active")
    assert stripe_api.mandate_values(None, {"type": "card", "card": {}}) == (False, False)
