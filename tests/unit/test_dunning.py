"""Dunning arithmetic (omni_payment_methods/lib/dunning.py)."""

import datetime

import pytest
from omni_pm_lib import dunning

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
        (("do_not_honor",), dunning.HARD),
        (("invalid_account",), dunning.HARD),
        ((None, "expired_card"), dunning.HARD),
        (("insufficient_funds", "card_declined"), dunning.SOFT),
        (("card_declined",), dunning.SOFT),  # localstripe's 4000000000000341
        (("try_again_later",), dunning.SOFT),
        ((None, None), dunning.SOFT),
        (("authentication_required", "card_declined"), dunning.AUTHENTICATION),
    ],
)
def test_classify_decline(codes, kind):
    assert dunning.classify_decline(*codes) == kind


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
    assert dunning.plan(DEFAULT, 1, 4).level is None  # the same day again: nothing
    assert dunning.plan(DEFAULT, 1, 8) == dunning.Step(2, retry=False)
    assert dunning.plan(DEFAULT, 2, 15) == dunning.Step(3, retry=False)
    assert dunning.plan(DEFAULT, 3, 40).level is None


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
