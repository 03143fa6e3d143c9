"""Which expiry reminder is due for a card on a given day.

Stages are day offsets before the expiry date (the card's last valid day): with the default
offsets (60, 30, 7, 0) a card gets a reminder 60, 30 and 7 days before expiry and one at
expiry. Only the most advanced stage reached is due: a stage that was missed (the job did not
run, the card was added late) is never sent afterwards. The "at expiry" stage stays due for
``grace_days`` after the expiry date, so a job that was down on that day catches up.
"""

DEFAULT_OFFSETS = (60, 30, 7, 0)
DEFAULT_GRACE_DAYS = 30
MAX_OFFSET = 365


def parse_offsets(text):
    """Parse "60, 30, 7, 0" into (60, 30, 7, 0): unique, sorted from farthest to expiry.

    :raise ValueError: on anything but whole numbers from 0 to 365.
    """
    if text is None or not str(text).strip():
        raise ValueError("no offsets")
    offsets = set()
    for raw in str(text).replace(";", ",").split(","):
        part = raw.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"not a whole number of days: {part!r}")
        value = int(part)
        if value > MAX_OFFSET:
            raise ValueError(f"more than {MAX_OFFSET} days: {value}")
        offsets.add(value)
    if not offsets:
        raise ValueError("no offsets")
    return tuple(sorted(offsets, reverse=True))


def format_offsets(offsets):
    return ", ".join(str(offset) for offset in offsets)


def due_stage(days_left, offsets=DEFAULT_OFFSETS, grace_days=DEFAULT_GRACE_DAYS):
    """Return the stage (an offset) due for a card ``days_left`` days before expiry, or None.

    ``days_left`` is 0 on the last valid day and negative once expired. The smallest offset
    still >= ``days_left`` is due; once expired, the smallest offset (usually 0, "at expiry")
    stays due for ``grace_days`` days.
    """
    if days_left is None or not offsets:
        return None
    if days_left < -grace_days:
        return None
    for offset in sorted(offsets):
        if days_left <= offset:
            return offset
    return None


def window(offsets=DEFAULT_OFFSETS, grace_days=DEFAULT_GRACE_DAYS):
    """Return (first, last) days-left values for which some stage may be due."""
    return -grace_days, max(offsets)
