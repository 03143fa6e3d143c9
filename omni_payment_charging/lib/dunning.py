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
SOFT = "soft"  # may succeed later (funds, issuer unavailable, ...): retried on schedule
RETRY_LATER = "retry_later"  # the issuer or network advises a later retry (not before a delay)
AUTHENTICATION = "authentication"  # the bank wants the customer (3-D Secure)
CONFIG = "config"  # nothing was sent: no method, not authorized, currency, ...

# Stripe decline codes (https://docs.stripe.com/declines/codes) and error codes
# (https://docs.stripe.com/error-codes) that mean "this method, with the data on file, will
# not work again": lost/stolen, closed or invalid account, revoked authorization, fraud, the
# issuer's "do not try again" (Visa category 1), and the card data the issuer refused (CVC,
# expiry, postal code, number: Visa category 3), which a retry with the same stored data
# cannot fix. Everything else is soft. The README's "Declines and retries" lists them.
HARD_CARD_CODES = frozenset(
    {
        "card_not_supported",
        "currency_not_supported",
        "do_not_try_again",
        "expired_card",
        "fraudulent",
        "incorrect_cvc",
        "incorrect_number",
        "incorrect_zip",
        "invalid_account",
        "invalid_cvc",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "invalid_number",
        "lost_card",
        "merchant_blacklist",
        "new_account_information_available",
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
# Bank debits (SEPA, ACH, Bacs, ACSS): the failure codes of a returned debit, as Stripe reports
# them (the PaymentIntent's ``last_payment_error``, the charge's ``failure_code``). A debit on
# a closed, unknown, blocked or invalid account, or without a valid mandate, must not be
# presented again (NACHA: only R01/R09 "insufficient funds" may be re-presented; SEPA AC01,
# AC04, AC06, MD01, MS02; Bacs ADDACS/ARUDD "no instruction", "account closed"). Only
# insufficient funds and unspecified bank refusals are soft.
HARD_BANK_CODES = frozenset(
    {
        "account_closed",
        "account_frozen",
        "bank_account_closed",
        "bank_account_declined",
        "bank_account_invalid_details",
        "bank_account_restricted",
        "bank_account_unusable",
        "branch_does_not_exist",
        "debit_not_authorized",
        "incorrect_account_holder_address",
        "incorrect_account_holder_name",
        "incorrect_account_holder_tax_id",
        "incorrect_account_type",
        "invalid_account_number",
        "invalid_currency",
        "no_account",
        "refer_to_customer",
    }
)
HARD_DECLINE_CODES = HARD_CARD_CODES | HARD_BANK_CODES
# Stripe's former "try again later" decline code (its guidance now comes as an advice code).
RETRY_LATER_CODES = frozenset({"try_again_later"})
AUTHENTICATION_CODES = frozenset({"authentication_required"})

# Stripe's ``advice_code`` (https://docs.stripe.com/declines/card#retrying-issuer-declines).
HARD_ADVICE_CODES = frozenset({"do_not_try_again", "confirm_card_data"})
RETRY_LATER_ADVICE_CODES = frozenset({"try_again_later"})

# ``network_advice_code``: Mastercard's Merchant Advice Codes (MAC) and Visa's decline
# categories, two digits. 01, 02 and 03 mean the same for a retry on both networks (Mastercard:
# new account information / try later / do not try again; Visa: never approves / cannot
# approve now / data quality); 04 is hard on Mastercard only (token requirements not met; on
# Visa, category 4 is the generic, retryable one).
HARD_NETWORK_ADVICE = frozenset({"01", "03", "21"})
HARD_NETWORK_ADVICE_BY_BRAND = {"mastercard": frozenset({"04"})}
# MAC 02 "cannot approve at this time" and 24-30 "retry after": the minimum wait, in days (the
# job runs once a day: "after 1 hour" is the next run).
RETRY_AFTER_NETWORK_ADVICE = {
    "02": 1,
    "24": 1,
    "25": 1,
    "26": 2,
    "27": 4,
    "28": 6,
    "29": 8,
    "30": 10,
}


def classify_decline(*codes, advice_code=None, network_advice_code=None, brand=None):
    """Classify a failed charge from everything Stripe said about it.

    :param codes: Stripe's codes, in any order: the decline code, the error code, the charge's
        failure code of a bank debit (``None`` entries are ignored)
    :param advice_code: Stripe's ``advice_code`` (``do_not_try_again``, ``try_again_later``,
        ``confirm_card_data``), or None
    :param network_advice_code: the card network's two-digit advice (Mastercard MAC, Visa
        category), or None
    :param brand: the card's brand (``visa``, ``mastercard``...), to read the network advice
    :return: AUTHENTICATION, HARD, RETRY_LATER or SOFT. The customer's authentication comes
        first (the payment may succeed on-session), then any "never retry" answer (a code, the
        advice or the network's), then any "retry later" advice.
    """
    known = {code for code in codes if code}
    if known & AUTHENTICATION_CODES:
        return AUTHENTICATION
    network_hard = HARD_NETWORK_ADVICE | HARD_NETWORK_ADVICE_BY_BRAND.get(brand or "", set())
    if (
        known & HARD_DECLINE_CODES
        or advice_code in HARD_ADVICE_CODES
        or network_advice_code in network_hard
    ):
        return HARD
    if (
        known & RETRY_LATER_CODES
        or advice_code in RETRY_LATER_ADVICE_CODES
        or network_advice_code in RETRY_AFTER_NETWORK_ADVICE
    ):
        return RETRY_LATER
    return SOFT


def retry_after_days(advice_code=None, network_advice_code=None):
    """Days to wait before the next retry that the advice asks for (0: no advice to wait)."""
    days = RETRY_AFTER_NETWORK_ADVICE.get(network_advice_code or "", 0)
    if advice_code in RETRY_LATER_ADVICE_CODES:
        days = max(days, 1)
    return days


def payment_failure(intent):
    """What a failed PaymentIntent (a dict, as a webhook or the API sends it) says about the
    failure, in the webhook endpoint's version (2019-05-16: the ``charges`` list) and in later
    ones (``latest_charge``, when expanded).

    :return: dict with ``decline_code``, ``code`` (of ``last_payment_error``),
        ``failure_code`` (of the latest charge: a bank debit's return code), ``advice_code``,
        ``network_advice_code`` and ``message``; missing values are None (message: "")
    """
    error = intent.get("last_payment_error") or {}
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        charges = (intent.get("charges") or {}).get("data") or []
        charge = charges[0] if charges else {}  # newest first
    outcome = charge.get("outcome") or {}
    return {
        "decline_code": error.get("decline_code"),
        "code": error.get("code"),
        "failure_code": charge.get("failure_code"),
        "advice_code": error.get("advice_code") or outcome.get("advice_code"),
        "network_advice_code": error.get("network_advice_code")
        or outcome.get("network_advice_code"),
        "message": error.get("message") or charge.get("failure_message") or "",
    }


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


# Retry limits of the networks, which a policy's schedule must respect.
#: Visa: at most 15 reattempts of a declined transaction within 30 days (none after a
#: "never approve" category 1 decline).
VISA_MAX_REATTEMPTS = 15
VISA_WINDOW_DAYS = 30
#: NACHA (ACH): a debit returned for insufficient funds (R01, R09) may be re-presented at most
#: twice; the addon applies it to every bank debit.
BANK_MAX_REPRESENTMENTS = 2
#: The default schedule, close to Stripe's Smart Retries (8 tries within 2 weeks): the first
#: charge on day 1 and a retry every other day until day 14.
DEFAULT_RETRY_DAYS = (2, 4, 6, 8, 10, 12, 14)


def parse_retry_days(text):
    """The retry days written in ``text`` ("2, 4, 6": commas, semicolons or spaces), sorted
    and without repeats.

    :raise ValueError: for anything but whole numbers of days from day 2 (day 1 is the day
        of the failed charge)
    """
    days = set()
    for part in (text or "").replace(";", ",").replace(",", " ").split():
        if not part.isdigit():
            raise ValueError(f"not a whole number of days: {part!r}")
        if int(part) < 2:
            raise ValueError(f"a retry is on day 2 or later: {part!r}")
        days.add(int(part))
    return sorted(days)


def format_retry_days(days):
    return ", ".join(str(day) for day in sorted(set(days)))


def most_retries_in_window(days, window=VISA_WINDOW_DAYS):
    """The largest number of the retry ``days`` that fall within ``window`` consecutive
    days."""
    days = sorted(set(days))
    most = 0
    for index, first in enumerate(days):
        most = max(most, len([day for day in days[index:] if day < first + window]))
    return most


@dataclasses.dataclass(frozen=True)
class Level:
    day: int
    retry: bool = False


@dataclasses.dataclass(frozen=True)
class Step:
    """What the case must do now. ``level`` is the index to move to (None: stay); ``retry``:
    charge the case's invoices again (today counts as a retry day)."""

    level: int | None
    retry: bool = False
    reason: str = ""


def plan(
    levels,
    current,
    day,
    *,
    retry_days=(),
    last_retry_day=0,
    retries_done=0,
    max_retries=None,
    retry_not_before=None,
    hard_decline=False,
    paused=False,
    waiting=False,
):
    """Plan the next step of a case.

    :param levels: the policy's levels (``Level``), sorted by ``day``.
    :param current: index of the level the case is at (-1: none applied yet).
    :param day: the case's day number (``dunning_day``).
    :param retry_days: the policy's retry days; the first day of a level that retries is one
        too.
    :param last_retry_day: the case's day of its last scheduled retry (0: none).
    :param retries_done: scheduled retries made so far (with the current method).
    :param max_retries: at most this many scheduled retries (None: no cap; bank debits).
    :param retry_not_before: the case's day before which no retry is made (a "retry later"
        advice), or None.
    :param hard_decline: the last failure was final for the method on file.
    :param paused: staff paused the case.
    :param waiting: the customer must authenticate a payment (3-D Secure).

    Days missed (the job did not run) are not replayed one by one: the case moves to the
    level it has reached, and retries once if a retry day passed since its last retry.
    """
    if paused:
        return Step(None, reason="paused")
    if waiting:
        return Step(None, reason="waiting")
    target = reached_level([level.day for level in levels], day)
    level = target if target > current else None
    schedule = set(retry_days) | {level.day for level in levels if level.retry}
    due = any(last_retry_day < retry_day <= day for retry_day in schedule)
    reason = ""
    if due and hard_decline:
        due, reason = False, "hard decline"
    elif due and max_retries is not None and retries_done >= max_retries:
        due, reason = False, "retries used up"
    elif due and retry_not_before and day < retry_not_before:
        due, reason = False, "retry later"
    if level is None and not due:
        return Step(None, reason=reason or "up to date")
    return Step(level, retry=due, reason=reason)
