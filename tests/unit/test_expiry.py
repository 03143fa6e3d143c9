"""Card expiry arithmetic: omni_payment_methods/lib/expiry.py."""

import datetime

import pytest
from omni_pm_lib import expiry

D = datetime.date


@pytest.mark.parametrize(
    ("month", "year", "expected"),
    [
        (2, 2024, D(2024, 2, 29)),  # leap year
        (2, 2023, D(2023, 2, 28)),
        (2, 2000, D(2000, 2, 29)),  # divisible by 400: leap
        (2, 2100, D(2100, 2, 28)),  # divisible by 100 only: not leap
        (12, 2030, D(2030, 12, 31)),
        (1, 2030, D(2030, 1, 31)),
        (4, 2030, D(2030, 4, 30)),
        ("08", "2030", D(2030, 8, 31)),  # strings, as forms and Stripe payloads give them
        (8, 30, D(2030, 8, 31)),  # two-digit year
        ("02", "28", D(2028, 2, 29)),
        (12, 99, D(2099, 12, 31)),
    ],
)
def test_expiry_date_is_last_day_of_month(month, year, expected):
    assert expiry.expiry_date(month, year) == expected


@pytest.mark.parametrize(
    ("month", "year"),
    [
        (0, 2030),
        (13, 2030),
        (-1, 2030),
        (None, 2030),
        (False, 2030),  # an empty Odoo field
        ("", 2030),
        ("ab", 2030),
        ("1.5", 2030),
        (8, None),
        (8, False),
        (8, ""),
        (8, 0),
        (8, -2030),
        (8, 10000),
        (None, None),
    ],
)
def test_expiry_date_invalid_input(month, year):
    assert expiry.expiry_date(month, year) is None


def test_days_until_and_state_around_the_last_valid_day():
    exp = expiry.expiry_date(8, 2030)
    last_day = D(2030, 8, 31)
    assert expiry.days_until(exp, last_day) == 0
    assert expiry.expiry_state(exp, last_day) == expiry.STATE_EXPIRING
    next_day = D(2030, 9, 1)
    assert expiry.days_until(exp, next_day) == -1
    assert expiry.expiry_state(exp, next_day) == expiry.STATE_EXPIRED
    assert expiry.days_until(exp, D(2031, 1, 1)) == -123


def test_days_until_across_a_leap_day():
    assert expiry.days_until(expiry.expiry_date(3, 2024), D(2024, 2, 1)) == 59


@pytest.mark.parametrize(
    ("days_before", "warning_days", "state"),
    [
        (expiry.DEFAULT_WARNING_DAYS, None, expiry.STATE_EXPIRING),
        (expiry.DEFAULT_WARNING_DAYS + 1, None, expiry.STATE_VALID),
        (1, None, expiry.STATE_EXPIRING),
        (30, 30, expiry.STATE_EXPIRING),
        (31, 30, expiry.STATE_VALID),
        (0, 0, expiry.STATE_EXPIRING),
        (1, 0, expiry.STATE_VALID),
        (-1, 0, expiry.STATE_EXPIRED),
        (-1, 90, expiry.STATE_EXPIRED),
    ],
)
def test_state_at_warning_threshold_edges(days_before, warning_days, state):
    exp = D(2030, 8, 31)
    today = exp - datetime.timedelta(days=days_before)
    kwargs = {} if warning_days is None else {"warning_days": warning_days}
    assert expiry.days_until(exp, today) == days_before
    assert expiry.expiry_state(exp, today, **kwargs) == state


def test_default_warning_is_sixty_days():
    assert expiry.DEFAULT_WARNING_DAYS == 60


@pytest.mark.parametrize("exp", [None, False])
def test_unknown_expiry(exp):
    assert expiry.days_until(exp, D(2030, 1, 1)) is None
    assert expiry.expiry_state(exp, D(2030, 1, 1)) is None


@pytest.mark.parametrize(
    ("month", "year", "text"),
    [
        (8, 2030, "08/2030"),
        ("8", "30", "08/2030"),
        (12, 2031, "12/2031"),
        (0, 2030, ""),
        (8, None, ""),
    ],
)
def test_format_expiry(month, year, text):
    assert expiry.format_expiry(month, year) == text
