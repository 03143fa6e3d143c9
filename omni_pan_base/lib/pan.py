"""Detection of primary account numbers (card numbers) in free text.

A candidate is a run of 13 to 19 digits, optionally grouped by single spaces, dashes or
dots ("4242.4242.4242.4242"), that passes the Luhn checksum. Digits glued to letters or to
more digits are not candidates, so an IBAN, a long reference or a phone number with a
country code rarely matches by accident.
"""

import re

MIN_DIGITS = 13
MAX_DIGITS = 19

# A digit, then up to 18 more digits each optionally preceded by one space or dash; not
# preceded or followed by another digit or an ASCII letter (an IBAN's digits are glued to
# its country code: DK5000400440116243 holds a Luhn-valid 16-digit run).
# A no-break space (what rich-text editors type between groups) separates like a space; a
# dot too (a number typed "4242.4242.4242.4242"). A decimal amount seldom has 13 digits.
_CANDIDATE_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d[ .\u00a0-]?){12,18}\d(?![0-9A-Za-z])")
_SEPARATORS_RE = re.compile(r"[ .\u00a0-]")


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
        digits = _SEPARATORS_RE.sub("", raw)
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


def _phone_like(text, start, digits):
    """Whether a candidate reads as an international or trunk-prefixed phone number.

    No card number starts with 0 (no issuer identification number does), and none is
    written after a "+".
    """
    return digits.startswith("0") or text[:start].rstrip(" ").endswith("+")


def mask_pans(text, mask_char="*", phone=False):
    """Return ``(masked_text, count)`` with every card number reduced to first 6 / last 4.

    Separators inside the number are kept so the text keeps its shape.

    :param phone: the text is a phone number field: a number after "+" or starting with 0
        (a phone number with its country or trunk prefix) is left alone
    """
    if not text or not isinstance(text, str):
        return text, 0
    pieces = []
    last = 0
    count = 0
    for start, end, digits in _candidate_spans(text):
        if phone and _phone_like(text, start, digits):
            continue
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


# Inline elements do not end a word: "4242 <b>4242</b> 4242 4242" reads as one number. Any
# other tag (p, div, br, td, li, ...) and any comment separates what is before from after.
_INLINE_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "wbr",
    ]
)
_HTML_TOKEN_RE = re.compile(
    r"<!--.*?-->|<(?P<tag>/?[A-Za-z][A-Za-z0-9-]*)[^>]*>|(?P<entity>&#?[A-Za-z0-9]+;)|.",
    re.DOTALL,
)
_NBSP_ENTITIES = frozenset({"&nbsp;", "&#160;", "&#xa0;", "&#xA0;"})


def _hidden_digits(text, start, end, digits):
    """Indexes in ``text`` of the digits masking hides in the number at ``start:end``."""
    hidden = []
    seen = 0
    for index in range(start, end):
        if text[index].isdigit():
            if 6 <= seen < len(digits) - 4:
                hidden.append(index)
            seen += 1
    return hidden


def mask_pans_html(html, mask_char="*"):
    """Return ``(masked_html, count)``: :func:`mask_pans` for an HTML fragment.

    Numbers are looked for in the text the reader sees (inline tags such as ``<b>`` and
    ``&nbsp;`` do not hide one) and in attribute values; only their hidden digits are
    replaced, in place: tags, entities and separators are kept, so the markup stays valid.
    """
    if not html or not isinstance(html, str):
        return html, 0
    visible = []  # the characters the reader sees
    origin = []  # for each of them, its index in ``html`` (-1: not a character of its own)
    hidden = set()
    count = 0
    for match in _HTML_TOKEN_RE.finditer(html):
        token, tag, entity = match.group(0), match.group("tag"), match.group("entity")
        if tag is not None or token.startswith("<!--"):
            # A number in an attribute (a link, a title) or a comment is masked in place too.
            for start, end, digits in _candidate_spans(token):
                count += 1
                hidden.update(match.start() + i for i in _hidden_digits(token, start, end, digits))
            if tag is not None and tag.lstrip("/").lower() in _INLINE_TAGS:
                continue
            visible.append("\n")
        elif entity is not None:
            visible.append(" " if entity in _NBSP_ENTITIES else "\n")
        else:
            visible.append(token)
            origin.append(match.start())
            continue
        origin.append(-1)
    text = "".join(visible)
    for start, end, digits in _candidate_spans(text):
        count += 1
        hidden.update(origin[i] for i in _hidden_digits(text, start, end, digits))
    if not count:
        return html, 0
    return "".join(mask_char if i in hidden else c for i, c in enumerate(html)), count
