"""Detection of primary account numbers (card numbers) in free text.

A candidate is a run of 13 to 19 digits, optionally grouped by single spaces or dashes, that
passes the Luhn checksum. Digits glued to letters or to more digits are not candidates, so an
IBAN, a long reference or a phone number with a country code rarely matches by accident.
"""

import re

MIN_DIGITS = 13
MAX_DIGITS = 19

# A digit, then up to 18 more digits each optionally preceded by one space or dash; not
# preceded or followed by another digit or an ASCII letter (an IBAN's digits are glued to
# its country code: DK5000400440116243 holds a Luhn-valid 16-digit run).
_CANDIDATE_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z])")


def luhn_valid(digits):
    """Return whether the string of digits passes the Luhn (mod 10) checksum."""
    if not digits or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _candidate_spans(text):
    for match in _CANDIDATE_RE.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"[ -]", "", raw)
        if MIN_DIGITS <= len(digits) <= MAX_DIGITS and luhn_valid(digits):
            yield match.start(), match.end(), digits


def find_pans(text):
    """Return the list of ``(start, end)`` spans of card numbers found in ``text``."""
    if not text or not isinstance(text, str):
        return []
    return [(start, end) for start, end, _digits in _candidate_spans(text)]


def contains_pan(value):
    """Return whether ``value`` (any type) holds a card number when read as text."""
    if value is None or value is False:
        return False
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "ignore")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return False
    return bool(find_pans(value))


def mask_pans(text, mask_char="*"):
    """Return ``(masked_text, count)`` with every card number reduced to first 6 / last 4.

    Separators inside the number are kept so the text keeps its shape.
    """
    if not text or not isinstance(text, str):
        return text, 0
    pieces = []
    last = 0
    count = 0
    for start, end, digits in _candidate_spans(text):
        keep_head, keep_tail = 6, 4
        hidden = len(digits) - keep_head - keep_tail
        out = []
        seen = 0
        for char in text[start:end]:
            if char.isdigit():
                out.append(mask_char if keep_head <= seen < keep_head + hidden else char)
                seen += 1
            else:
                out.append(char)
        pieces.append(text[last:start])
        pieces.append("".join(out))
        last = end
        count += 1
    pieces.append(text[last:])
    return "".join(pieces), count
