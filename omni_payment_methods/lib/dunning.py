# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Dunning arithmetic: which failures are final, which level a case has reached, what to do.

No Odoo import: the ORM side (``omni.dunning.case``) feeds plain values in and applies the
plan it gets back.
"""

import dataclasses
import datetime

# Outcomes of a charge attempt, as the dunning machine sees them.
HARD = "hard"  # retrying the same method cannot succeed: wait for a new method
SOFT = "soft"  # may succeed later (funds, issuer unavailable, ...)
AUTHENTICATION = "authentication"  # the bank wants the customer (3-D Secure)
CONFIG = "config"  # nothing was sent: no method, not authorized, currency, ...

# Stripe decline codes (https://docs.stripe.com/declines/codes) and error codes that mean
# "this method will not work again": lost/stolen, closed or invalid account, revoked
# authorization, fraud. Everything else is treated as soft.
HARD_DECLINE_CODES = frozenset(
    {
        "account_closed",
        "bank_account_restricted",
        "card_not_supported",
        "currency_not_supported",
        "debit_not_authorized",
        "do_not_honor",
        "expired_card",
        "fraudulent",
        "incorrect_number",
        "invalid_account",
        "invalid_number",
        "lost_card",
        "merchant_blacklist",
        "new_account_information_available",
        "no_account",
        "pickup_card",
        "restricted_card",
        "revocation_of_all_authorizations",
        "revocation_of_authorization",
        "security_violation",
        "stolen_card",
        "stop_payment_order",
        "transaction_not_allowed",
    }
)
AUTHENTICATION_CODES = frozenset({"authentication_required", "authentication_not_handled"})


def classify_decline(*codes):
    """Return HARD, SOFT or AUTHENTICATION for the given Stripe codes (the decline code first,
    then the error code; ``None`` entries are ignored)."""
    known = [code for code in codes if code]
    if any(code in AUTHENTICATION_CODES for code in known):
        return AUTHENTICATION
    if any(code in HARD_DECLINE_CODES for code in known):
        return HARD
    return SOFT


def dunning_day(started_on, today):
    """Day number of a case: the day of the first failure is day 1."""
    if isinstance(started_on, datetime.datetime):
        started_on = started_on.date()
    if isinstance(today, datetime.datetime):
        today = today.date()
    return max((today - started_on).days + 1, 1)


def reached_level(level_days, day):
    """Index of the last level whose first day is ``day`` or earlier (levels sorted by day);
    -1 before the first level."""
    index = -1
    for position, first_day in enumerate(level_days):
        if first_day <= day:
            index = position
    return index


@dataclasses.dataclass(frozen=True)
class Level:
    day: int
    retry: bool = False


@dataclasses.dataclass(frozen=True)
class Step:
    """What the case must do now. ``level`` is the index to move to (None: stay)."""

    level: int | None
    retry: bool = False
    reason: str = ""


def plan(levels, current, day, *, hard_decline=False, paused=False, waiting=False):
    """Plan the next step of a case.

    :param levels: the policy's levels (``Level``), sorted by ``day``.
    :param current: index of the level the case is at (-1: none applied yet).
    :param day: the case's day number (``dunning_day``).
    :param hard_decline: the last failure was final for the method on file.
    :param paused: staff paused the case.
    :param waiting: the customer must authenticate a payment (3-D Secure).

    Levels skipped (the job did not run for days) are not replayed one by one: the case moves
    to the level it has reached, and retries once if that level or a skipped one retries.
    """
    if paused:
        return Step(None, reason="paused")
    if waiting:
        return Step(None, reason="waiting")
    target = reached_level([level.day for level in levels], day)
    if target <= current:
        return Step(None, reason="up to date")
    crossed = levels[current + 1 : target + 1]
    retry = any(level.retry for level in crossed) and not hard_decline
    return Step(target, retry=retry, reason="hard decline" if hard_decline else "")
