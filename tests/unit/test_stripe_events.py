"""Stripe webhook events read in the API version of the endpoint that delivers them:
omni_payment_methods/lib/stripe_events.py (names and shapes from Stripe's changelog and its
OpenAPI descriptions of 2019-05-16 and 2024-06-20)."""

import copy
import json
from pathlib import Path

from omni_pm_lib import stripe_api, stripe_events

DATA = Path(__file__).resolve().parents[2] / "omni_payment_methods" / "tests" / "data"


def _pm(name):
    pm = json.loads((DATA / name).read_text())
    pm.pop("_license")
    return pm


def _event(event_type, obj, api_version):
    return {
        "id": "evt_1",
        "object": "event",
        "type": event_type,
        "api_version": api_version,
        "created": 1700000000,
        "data": {"object": obj},
    }


def test_card_updater_event_of_the_endpoint_version_is_read_under_the_current_name():
    pm = _pm("payment_method_2019_05_16.json")
    event = _event("payment_method.card_automatically_updated", pm, "2019-05-16")
    original = copy.deepcopy(event)
    normalized = stripe_events.normalize_event(event)
    assert normalized["type"] == "payment_method.automatically_updated"
    assert normalized["data"]["object"]["card"]["display_brand"] == "visa"
    assert event == original, "the received event is left as it is"


def test_event_of_the_addon_version_is_unchanged():
    pm = _pm("payment_method.json")
    event = _event("payment_method.automatically_updated", pm, stripe_api.API_VERSION)
    assert stripe_events.normalize_event(event) == event


def test_display_brand_kept_when_present_and_added_only_for_cards():
    pm = _pm("payment_method.json")
    pm["card"]["display_brand"] = "cartes_bancaires"
    event = stripe_events.normalize_event(_event("payment_method.updated", pm, "2019-05-16"))
    assert event["data"]["object"]["card"]["display_brand"] == "cartes_bancaires"
    sepa = {"id": "pm_1", "object": "payment_method", "type": "sepa_debit", "sepa_debit": {}}
    event = stripe_events.normalize_event(_event("payment_method.updated", sepa, "2019-05-16"))
    assert "card" not in event["data"]["object"]


def test_old_name_is_read_whatever_version_the_event_says():
    pm = _pm("payment_method.json")
    event = _event("payment_method.card_automatically_updated", pm, None)
    assert stripe_events.normalize_event(event)["type"] == "payment_method.automatically_updated"


def test_event_names_for_an_endpoint_version():
    names = ("payment_method.automatically_updated", "payment_method.updated")
    assert stripe_events.event_names_for_version(names, "2019-05-16") == [
        "payment_method.card_automatically_updated",
        "payment_method.updated",
    ]
    assert stripe_events.event_names_for_version(names, "2020-08-27") == list(names)
    assert stripe_events.event_names_for_version(names, "2024-09-30.acacia") == list(names)
    # An endpoint without a version follows the account's: both names are unknown to us,
    # the current ones are asked.
    assert stripe_events.event_names_for_version(names, None) == list(names)


def test_version_comparison():
    assert stripe_events.is_before("2019-05-16", "2020-08-27")
    assert not stripe_events.is_before("2020-08-27", "2020-08-27")
    assert not stripe_events.is_before("2025-03-31.basil", "2020-08-27")
    assert not stripe_events.is_before(None, "2020-08-27")
    assert not stripe_events.is_before("garbage", "2020-08-27")
