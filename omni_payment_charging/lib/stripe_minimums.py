"""Stripe's minimum charge amount per currency.

Stripe refuses a charge below these amounts (``amount_too_small``); the table is Stripe's
"Minimum and maximum charge amounts" (https://docs.stripe.com/currencies#minimum-and-maximum-
charge-amounts), in major units of the charge currency. For the currencies it does not list,
Stripe's rule is that the amount must be worth at least 0.50 USD in the account's settlement
currency, which depends on the exchange rate of the day: those are not checked here (Stripe's
refusal is then the answer).

No Odoo import: the charging engine and the installment plans ask it before sending.
"""

from decimal import ROUND_HALF_UP, Decimal

MINIMUM_CHARGE_AMOUNTS = {
    "USD": Decimal("0.50"),
    "AED": Decimal("2.00"),
    "AUD": Decimal("0.50"),
    "BGN": Decimal("1.00"),
    "BRL": Decimal("0.50"),
    "CAD": Decimal("0.50"),
    "CHF": Decimal("0.50"),
    "CZK": Decimal("15.00"),
    "DKK": Decimal("2.50"),
    "EUR": Decimal("0.50"),
    "GBP": Decimal("0.30"),
    "HKD": Decimal("4.00"),
    "HUF": Decimal("175.00"),
    "INR": Decimal("0.50"),
    "JPY": Decimal("50"),
    "MXN": Decimal("10"),
    "MYR": Decimal("2"),
    "NOK": Decimal("3.00"),
    "NZD": Decimal("0.50"),
    "PLN": Decimal("2.00"),
    "RON": Decimal("2.00"),
    "SEK": Decimal("3.00"),
    "SGD": Decimal("0.50"),
    "THB": Decimal("10"),
}


def minimum_amount(currency_code):
    """Stripe's minimum charge in ``currency_code`` (ISO 4217, any case), as a ``Decimal``
    in major units, or None when Stripe's table does not list the currency."""
    if not currency_code:
        return None
    return MINIMUM_CHARGE_AMOUNTS.get(currency_code.upper())


def is_below_minimum(amount, currency_code):
    """True when ``amount`` (major units; a float is rounded to the minimum's precision
    first) is below Stripe's minimum charge in ``currency_code``; False for unlisted
    currencies."""
    minimum = minimum_amount(currency_code)
    if minimum is None:
        return False
    value = Decimal(str(amount)).quantize(
        Decimal("0.01") if minimum.as_tuple().exponent < 0 else Decimal("1"),
        rounding=ROUND_HALF_UP,
    )
    return value < minimum
