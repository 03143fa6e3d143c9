"""Stripe's minimum charge amounts (omni_payment_methods/lib/stripe_minimums.py)."""

from decimal import Decimal

import pytest
from omni_pm_lib import stripe_minimums


@pytest.mark.parametrize(
    ("currency", "minimum"),
    [
        ("USD", Decimal("0.50")),
        ("eur", Decimal("0.50")),
        ("GBP", Decimal("0.30")),
        ("JPY", Decimal("50")),
        ("CHF", Decimal("0.50")),
        ("HUF", Decimal("175")),
        ("MXN", Decimal("10")),
        ("DKK", Decimal("2.50")),
    ],
)
def test_minimum_per_currency(currency, minimum):
    assert stripe_minimums.minimum_amount(currency) == minimum


def test_unknown_currency_has_no_minimum():
    assert stripe_minimums.minimum_amount("XXX") is None
    assert stripe_minimums.minimum_amount(None) is None
    assert not stripe_minimums.is_below_minimum(0.01, "XXX")


@pytest.mark.parametrize(
    ("amount", "currency", "below"),
    [
        (0.49, "USD", True),
        (0.50, "USD", False),
        (0.29, "GBP", True),
        (0.30, "GBP", False),
        (49, "JPY", True),
        (50, "JPY", False),
        (0.499999999, "EUR", False),  # rounded to the currency's cents first
        (0, "EUR", True),
    ],
)
def test_is_below_minimum(amount, currency, below):
    assert stripe_minimums.is_below_minimum(amount, currency) is below
