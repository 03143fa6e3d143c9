"""Stripe webhook events read in the API version of the endpoint that delivers them.

A webhook endpoint has its own API version: every event it delivers carries it in
``api_version`` and is named and shaped in it. payment_stripe creates its endpoint in
2019-05-16 (``payment_stripe/const.py``); the addon's own requests use
``stripe_api.API_VERSION``. The handlers read one shape, the addon's: ``normalize_event``
turns an event of an older version into it, once, where the event enters.

What differs between the versions, for the objects the addon reads from events (Stripe's
changelog, and its OpenAPI descriptions of 2019-05-16 and 2024-06-20):

- 2020-08-27 renamed ``payment_method.card_automatically_updated`` (the card account
  updater's event) to ``payment_method.automatically_updated``;
- ``card.display_brand`` (the brand the customer chose on a co-branded card) is not in the
  2019-05-16 PaymentMethod: there, ``card.brand`` is the brand shown.

SetupIntents are not read from events: the addon retrieves them in its own version.
"""

import copy
import re

# Event names Stripe renamed: {current name: (name before, first version of the current)}.
RENAMED_EVENTS = {
    "payment_method.automatically_updated": (
        "payment_method.card_automatically_updated",
        "2020-08-27",
    ),
}
# {name before: current name}
CURRENT_NAMES = {old: new for new, (old, _version) in RENAMED_EVENTS.items()}

_VERSION_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def _version_date(api_version):
    """The date part of an API version ("2025-03-31.basil" -> "2025-03-31"), or None."""
    match = _VERSION_DATE.match(api_version or "") if isinstance(api_version, str) else None
    return match.group(1) if match else None


def is_before(api_version, other):
    """Whether ``api_version`` is a known version older than ``other``."""
    date, other_date = _version_date(api_version), _version_date(other)
    return bool(date and other_date and date < other_date)


def current_name(event_type):
    """The name the addon's handlers know ``event_type`` by (its current name)."""
    return CURRENT_NAMES.get(event_type, event_type)


def event_names_for_version(event_types, api_version):
    """The names of ``event_types`` (current names) valid in ``api_version``.

    An unknown version (an endpoint that follows the account's default) gets the current
    names.
    """
    names = []
    for event_type in event_types:
        old, since = RENAMED_EVENTS.get(event_type, (None, None))
        names.append(old if old and is_before(api_version, since) else event_type)
    return names


def normalize_event(event):
    """Return ``event`` in the shape the addon's handlers read (a copy; ``event`` is left
    as received).

    Both names of a renamed event are accepted whatever ``api_version`` says; the payload is
    completed from the fields its version has when the event is older than 2024-06-20's
    shape.
    """
    event = copy.deepcopy(event)
    if isinstance(event.get("type"), str):
        event["type"] = current_name(event["type"])
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if isinstance(obj, dict) and obj.get("object") == "payment_method":
        card = obj.get("card")
        if obj.get("type") == "card" and isinstance(card, dict) and not card.get("display_brand"):
            # Before display_brand, the brand was the one shown.
            card["display_brand"] = card.get("brand")
    return event
