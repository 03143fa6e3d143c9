"""Card expiry arithmetic.

A card is valid through the last day of its expiry month. The helpers below take plain
``datetime.date`` values so that callers decide what "today" is (company timezone, tests).
"""

import calendar
import datetime

STATE_VALID = "valid"
STATE_EXPIRING = "expiring"
STATE_EXPIRED = "expired"

DEFAULT_WARNING_DAYS = 60


def expiry_date(month, year):
    """Return the last day of the expiry month, or ``None`` for missing/invalid input."""
    try:
        month = int(month)
        year = int(year)
    except (TypeError, ValueError):
        return None
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        return None
    if year < 100:  # Two-digit years, as some card readers give them.
        year += 2000
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def days_until(exp_date, today):
    """Days left before the card stops working (0 on the last valid day, < 0 when expired)."""
    if not exp_date:
        return None
    return (exp_date - today).days


def expiry_state(exp_date, today, warning_days=DEFAULT_WARNING_DAYS):
    """Return ``valid``, ``expiring`` (within ``warning_days``) or ``expired``; None if unknown."""
    days = days_until(exp_date, today)
    if days is None:
        return None
    if days < 0:
        return STATE_EXPIRED
    if days <= warning_days:
        return STATE_EXPIRING
    return STATE_VALID


def format_expiry(month, year):
    """Return ``MM/YYYY`` or an empty string."""
    exp = expiry_date(month, year)
    return f"{exp.month:02d}/{exp.year}" if exp else ""
