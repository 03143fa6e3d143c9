"""Dunning arithmetic (omni_payment_methods/lib/dunning.py)."""

import datetime

import pytest
from omni_pm_lib import dunning

# The "retry later" outcome (dunning.RETRY_LATER), spelled out so that the table reads alone.
RETRY_LATER = "retry_later"

DEFAULT = [
    dunning.Level(day=1),
    dunning.Level(day=4, retry=True),
    dunning.Level(day=8),
    dunning.Level(day=15),
]


@pytest.mark.parametrize(
    ("codes", "kind"),
    [
        (("lost_card", "card_declined"), dunning.HARD),
        (("stolen_card", None), dunning.HARD),
        (("invalid_account",), dunning.HARD),
        ((None, "expired_card"), dunning.HARD),
        (("insufficient_funds", "card_declined"), dunning.SOFT),
        (("card_declined",), dunning.SOFT),  # localstripe's 4000000000000341
        ((None, None), dunning.SOFT),
        (("authentication_required", "card_declined"), dunning.AUTHENTICATION),
        # Visa 05 "do not honor" is retryable (Visa category 4): soft.
        (("do_not_honor", "card_declined"), dunning.SOFT),
        # The issuer said not to retry: hard.
        (("do_not_try_again", "card_declined"), dunning.HARD),
        # Stripe's deprecated "try again later" decline code: retry later, not on schedule.
        (("try_again_later", "card_declined"), RETRY_LATER),
        # A retry with the same stored data cannot succeed: hard (needs new card data).
        ((None, "incorrect_cvc"), dunning.HARD),
        (("incorrect_cvc", "card_declined"), dunning.HARD),
        ((None, "invalid_cvc"), dunning.HARD),
        ((None, "invalid_expiry_month"), dunning.HARD),
        ((None, "invalid_expiry_year"), dunning.HARD),
        (("incorrect_zip", "card_declined"), dunning.HARD),
        (("expired_card", "card_declined"), dunning.HARD),
        # Bank debits: returns the networks forbid to re-present are hard.
        ((None, "account_closed"), dunning.HARD),
        ((None, "no_account"), dunning.HARD),
        ((None, "debit_not_authorized"), dunning.HARD),
        ((None, "invalid_account_number"), dunning.HARD),
        ((None, "bank_account_restricted"), dunning.HARD),
        (("bank_account_closed",), dunning.HARD),
        (("bank_account_invalid_details",), dunning.HARD),
        # ... and insufficient funds may be re-presented (a limited number of times).
        ((None, "insufficient_funds"), dunning.SOFT),
        # Any hard code among the codes given wins (a generic error code and the charge's
        # failure code of a bank debit).
        ((None, "payment_intent_payment_attempt_failed", "account_closed"), dunning.HARD),
    ],
)
def test_classify_decline(codes, kind):
    assert dunning.classify_decline(*codes) == kind


def test_retry_later_is_an_outcome():
    assert dunning.RETRY_LATER == RETRY_LATER


def test_authentication_not_handled_is_not_a_stripe_code():
    assert "authentication_not_handled" not in dunning.AUTHENTICATION_CODES
    assert dunning.classify_decline("authentication_not_handled") == dunning.SOFT


@pytest.mark.parametrize(
    ("decline_code", "advice", "kind"),
    [
        # Stripe's advice codes win over a soft decline code.
        ("insufficient_funds", "do_not_try_again", dunning.HARD),
        ("generic_decline", "confirm_card_data", dunning.HARD),
        ("generic_decline", "try_again_later", RETRY_LATER),
        ("do_not_honor", "try_again_later", RETRY_LATER),
        # ... never over a hard one (retrying a lost card is penalized whatever the advice).
        ("lost_card", "try_again_later", dunning.HARD),
        ("generic_decline", None, dunning.SOFT),
        ("generic_decline", "unknown_future_advice", dunning.SOFT),
    ],
)
def test_classify_decline_reads_the_advice_code(decline_code, advice, kind):
    assert dunning.classify_decline(decline_code, "card_declined", advice_code=advice) == kind


@pytest.mark.parametrize(
    ("network_advice", "brand", "kind"),
    [
        # Mastercard Merchant Advice Codes.
        ("01", "mastercard", dunning.HARD),  # new account information available
        ("02", "mastercard", RETRY_LATER),  # cannot approve at this time
        ("03", "mastercard", dunning.HARD),  # do not try again
        ("04", "mastercard", dunning.HARD),  # token requirements not fulfilled
        ("21", "mastercard", dunning.HARD),  # payment cancellation (recurring stopped)
        ("24", "mastercard", RETRY_LATER),  # retry after 1 hour
        ("27", "mastercard", RETRY_LATER),  # retry after 4 days
        ("30", "mastercard", RETRY_LATER),  # retry after 10 days
        # Visa's decline categories.
        ("01", "visa", dunning.HARD),  # issuer will never approve
        ("02", "visa", RETRY_LATER),  # issuer cannot approve at this time
        ("03", "visa", dunning.HARD),  # data quality: new card data needed
        ("04", "visa", dunning.SOFT),  # generic
        ("04", None, dunning.SOFT),
        (None, "visa", dunning.SOFT),
    ],
)
def test_classify_decline_reads_the_network_advice_code(network_advice, brand, kind):
    assert (
        dunning.classify_decline(
            "generic_decline", "card_declined", network_advice_code=network_advice, brand=brand
        )
        == kind
    )


@pytest.mark.parametrize(
    ("advice", "network_advice", "days"),
    [
        (None, None, 0),
        ("try_again_later", None, 1),
        (None, "02", 1),
        (None, "24", 1),  # 1 hour: the next daily run
        (None, "25", 1),  # 24 hours
        (None, "26", 2),
        (None, "27", 4),
        (None, "28", 6),
        (None, "29", 8),
        (None, "30", 10),
        ("try_again_later", "27", 4),
    ],
)
def test_retry_after_days(advice, network_advice, days):
    assert dunning.retry_after_days(advice, network_advice) == days


def test_dunning_day_counts_the_failure_day_as_day_1():
    start = datetime.date(2026, 12, 1)
    assert dunning.dunning_day(start, start) == 1
    assert dunning.dunning_day(start, datetime.date(2026, 12, 4)) == 4
    assert dunning.dunning_day(datetime.datetime(2026, 12, 1, 23), datetime.date(2026, 12, 2)) == 2
    assert dunning.dunning_day(start, datetime.date(2026, 11, 30)) == 1  # clock skew


@pytest.mark.parametrize(
    ("day", "level"), [(0, -1), (1, 0), (3, 0), (4, 1), (7, 1), (8, 2), (14, 2), (15, 3), (99, 3)]
)
def test_reached_level(day, level):
    assert dunning.reached_level([1, 4, 8, 15], day) == level


def test_plan_walks_the_default_policy():
    assert dunning.plan(DEFAULT, -1, 1) == dunning.Step(0, retry=False)
    assert dunning.plan(DEFAULT, 0, 3).level is None
    assert dunning.plan(DEFAULT, 0, 4) == dunning.Step(1, retry=True)
    # The same day again: nothing (the retry of day 4 was made).
    assert dunning.plan(DEFAULT, 1, 4, last_retry_day=4) == dunning.Step(None, reason="up to date")
    assert dunning.plan(DEFAULT, 1, 8, last_retry_day=4) == dunning.Step(2, retry=False)
    assert dunning.plan(DEFAULT, 2, 15, last_retry_day=4) == dunning.Step(3, retry=False)
    assert dunning.plan(DEFAULT, 3, 40, last_retry_day=4).level is None


def test_plan_skipped_levels_retry_once_and_jump():
    step = dunning.plan(DEFAULT, 0, 9)
    assert (step.level, step.retry) == (2, True)


def test_plan_hard_decline_never_retries_but_advances():
    step = dunning.plan(DEFAULT, 0, 4, hard_decline=True)
    assert (step.level, step.retry) == (1, False)


def test_plan_paused_and_waiting_cases_stay():
    assert dunning.plan(DEFAULT, 0, 20, paused=True) == dunning.Step(None, reason="paused")
    assert dunning.plan(DEFAULT, -1, 20, waiting=True).level is None


def test_plan_without_levels():
    assert dunning.plan([], -1, 5).level is None


def test_payment_failure_reads_the_webhook_version_and_later_ones():
    # 2019-05-16 (the webhook endpoint's version): the charges list, newest first.
    intent = {
        "last_payment_error": {"message": "Not authorized."},
        "charges": {"data": [{"failure_code": "debit_not_authorized"}, {"failure_code": "x"}]},
    }
    failure = dunning.payment_failure(intent)
    assert failure["failure_code"] == "debit_not_authorized"
    assert (failure["code"], failure["message"]) == (None, "Not authorized.")
    # Later versions: latest_charge (expanded) and the error's advice codes.
    intent = {
        "last_payment_error": {
            "code": "card_declined",
            "decline_code": "generic_decline",
            "advice_code": "try_again_later",
            "network_advice_code": "02",
            "message": "Declined.",
        },
        "latest_charge": {"failure_code": "card_declined", "outcome": {}},
    }
    assert dunning.payment_failure(intent) == {
        "decline_code": "generic_decline",
        "code": "card_declined",
        "failure_code": "card_declined",
        "advice_code": "try_again_later",
        "network_advice_code": "02",
        "message": "Declined.",
    }
    # An unexpanded latest_charge (an id) and no error at all.
    assert dunning.payment_failure({"latest_charge": "ch_1"})["failure_code"] is None


# === RETRY POLICY === #

SMART = (2, 4, 6, 8, 10, 12, 14)  # the default policy's retry days


def test_plan_retries_on_each_retry_day_once():
    retried = []
    last = 0
    for day in range(1, 31):
        step = dunning.plan(DEFAULT, 3, day, retry_days=SMART, last_retry_day=last)
        if step.retry:
            retried.append(day)
            last = day
    # Days 2..14 every other day (day 4 is also the warning level's retry): 8 tries in 14 days.
    assert retried == [2, 4, 6, 8, 10, 12, 14]


def test_plan_collapses_missed_retry_days_into_one():
    step = dunning.plan(DEFAULT, 3, 9, retry_days=SMART, last_retry_day=2)
    assert step.retry
    assert not dunning.plan(DEFAULT, 3, 9, retry_days=SMART, last_retry_day=9).retry


def test_plan_never_retries_a_hard_decline():
    for day in range(1, 31):
        step = dunning.plan(DEFAULT, -1, day, retry_days=SMART, hard_decline=True)
        assert not step.retry


def test_plan_retry_later_waits_for_the_advised_day():
    # "Retry after 4 days" on day 1: not on days 2-4, on day 5 (the missed days collapse).
    for day in (2, 3, 4):
        assert not dunning.plan(DEFAULT, 3, day, retry_days=SMART, retry_not_before=5).retry
    assert dunning.plan(DEFAULT, 3, 5, retry_days=SMART, retry_not_before=5).retry


def test_plan_caps_the_retries():
    """Bank debits: NACHA allows two re-presentments of a debit returned for insufficient
    funds."""
    assert dunning.plan(DEFAULT, 3, 6, retry_days=SMART, retries_done=1, max_retries=2).retry
    assert not dunning.plan(DEFAULT, 3, 6, retry_days=SMART, retries_done=2, max_retries=2).retry


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("2, 4, 6, 8, 10, 12, 14", [2, 4, 6, 8, 10, 12, 14]),
        ("14 2,4;4", [2, 4, 14]),
        ("", []),
        (None, []),
    ],
)
def test_parse_retry_days(text, days):
    assert dunning.parse_retry_days(text) == days


@pytest.mark.parametrize("text", ["1, 3", "two", "0", "-3", "3.5"])
def test_parse_retry_days_refuses(text):
    with pytest.raises(ValueError):
        dunning.parse_retry_days(text)


def test_most_retries_in_a_window():
    assert dunning.most_retries_in_window([2, 4, 6, 8, 10, 12, 14]) == 7
    assert dunning.most_retries_in_window(list(range(2, 18))) == 16
    # 16 retries, but never more than 15 within 30 days.
    days = [*range(2, 17), 40]
    assert dunning.most_retries_in_window(days) == 15
    assert dunning.most_retries_in_window([]) == 0
    assert dunning.VISA_MAX_REATTEMPTS == 15
