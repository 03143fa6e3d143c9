"""Card-number (PAN) detection and masking: omni_payment_methods/lib/pan.py."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omni_pm_lib import pan


def with_check_digit(prefix):
    """Return ``prefix`` followed by the digit that makes it pass the Luhn check."""
    return next(prefix + d for d in "0123456789" if pan.luhn_valid(prefix + d))


def found(text):
    return [text[start:end] for start, end in pan.find_pans(text)]


VALID_19 = with_check_digit("627761234567890123")
VALID_12 = with_check_digit("42424242424")
VALID_20 = with_check_digit("4242424242424242424")


@pytest.mark.parametrize(
    "number",
    [
        "4242424242424242",  # Visa
        "5555555555554444",  # Mastercard
        "378282246310005",  # Amex, 15 digits
        "6011111111111117",  # Discover
        "36227206271667",  # Diners, 14 digits
        "4222222222222",  # Visa, 13 digits
        VALID_19,
    ],
)
def test_luhn_valid_test_numbers(number):
    assert pan.luhn_valid(number)


@pytest.mark.parametrize(
    "value",
    ["4242424242424241", "5555555555554445", "", None, "4242 4242 4242 4242", "42a2", "-42"],
)
def test_luhn_invalid(value):
    assert not pan.luhn_valid(value)


def test_finds_plain_number_in_text():
    text = "Please charge 4242424242424242 today."
    assert pan.find_pans(text) == [(14, 30)]
    assert pan.contains_pan(text)


def test_luhn_invalid_number_is_not_a_pan():
    assert pan.find_pans("order 4242424242424241") == []


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (VALID_12, False),  # 12 digits: too short
        ("4222222222222", True),  # 13 digits
        (VALID_19, True),  # 19 digits
        (VALID_20, False),  # 20 digits: too long, and no shorter slice of it either
    ],
)
def test_length_bounds(number, expected):
    assert pan.luhn_valid(number)
    assert found(f"card {number} end") == ([number] if expected else [])


@pytest.mark.parametrize(
    "grouped",
    [
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "3782 822463 10005",
        "3782-822463-10005",
        "4242 4242-4242 4242",
    ],
)
def test_grouping_by_single_spaces_or_dashes(grouped):
    assert found(f"number: {grouped}.") == [grouped]


def test_double_separators_break_the_number():
    assert pan.find_pans("4242  4242  4242  4242") == []
    assert pan.find_pans("4242--4242--4242--4242") == []


def test_several_numbers():
    text = "old 4242424242424242, new 5555-5555-5555-4444"
    assert found(text) == ["4242424242424242", "5555-5555-5555-4444"]


@pytest.mark.parametrize(
    "text",
    [
        "ref 00" + "4242424242424242" + "00",  # glued to more digits (20 in all)
        "9" * 25 + "4242424242424242",
        "4242424242424242" + "1234567",
        "ref " + VALID_20,
    ],
)
def test_not_inside_longer_digit_runs(text):
    assert pan.find_pans(text) == []


@pytest.mark.parametrize(
    "text", ["REF4242424242424242", "4242424242424242X", "id:a4242424242424242"]
)
def test_not_glued_to_letters(text):
    assert pan.find_pans(text) == []


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "GB29NWBK60161331926819",
        "GB82WEST12345698765432",
        "BE68539007547034",
        "NO9386011117947",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "CH9300762011623852957",
        "AT611904300234573201",
        # The registry's example Danish IBAN: its 16 digits pass the Luhn check, but they are
        # glued to the country code.
        "DK5000400440116243",
        "FI2112345600000785",
        "SE4550000000058398257466",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "IE29AIBK93115212345678",
        "PT50000201231234567890154",
        "DE89 3704 0044 0532 0130 00",
        "GB29 NWBK 6016 1331 9268 19",
        "BE68 5390 0754 7034",
        "DK50 0040 0440 1162 43",
    ],
)
def test_ibans_are_not_card_numbers(iban):
    assert pan.find_pans(f"IBAN: {iban}") == []
    assert pan.mask_pans(f"IBAN: {iban}") == (f"IBAN: {iban}", 0)


@pytest.mark.parametrize(
    "phone",
    [
        "+33 6 12 34 56 78",
        "+1 (415) 555-2671",
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+8613912345678",
        "+86 139 1234 5678",
        "001 415 555 2671",
        "+49 30 901820",
    ],
)
def test_phone_numbers_are_not_card_numbers(phone):
    assert pan.find_pans(f"call {phone} please") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4242424242424242", "424242******4242"),
        ("4242 4242 4242 4242", "4242 42** **** 4242"),
        ("4242-4242-4242-4242", "4242-42**-****-4242"),
        ("3782 822463 10005", "3782 82**** *0005"),
        ("4222222222222", "422222***2222"),
        (VALID_19, VALID_19[:6] + "*" * 9 + VALID_19[-4:]),
    ],
)
def test_masking_keeps_first_six_last_four_and_separators(text, expected):
    assert pan.mask_pans(f"card {text}!") == (f"card {expected}!", 1)


def test_masking_several_numbers_and_mask_char():
    masked, count = pan.mask_pans("a 4242424242424242 b 5555 5555 5555 4444 c", mask_char="x")
    assert (masked, count) == ("a 424242xxxxxx4242 b 5555 55xx xxxx 4444 c", 2)
    assert not pan.contains_pan(masked)


def test_masking_leaves_other_text_alone():
    text = "Invoice INV/2024/0001, amount 1234.56, IBAN DE89370400440532013000"
    assert pan.mask_pans(text) == (text, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (False, False),
        (True, False),
        ("", False),
        (4242424242424242, True),
        (4242424242424241, False),
        (b"4242 4242 4242 4242", True),
        (bytearray(b"card 5555555555554444"), True),
        (b"\xff\xfe 4242424242424242", True),
        (4.242424242424242e15, False),
        (["4242424242424242"], False),
        ({"pan": "4242424242424242"}, False),
    ],
)
def test_contains_pan_on_any_type(value, expected):
    assert pan.contains_pan(value) is expected


@pytest.mark.parametrize("value", [None, False, "", 4242424242424242, b"4242424242424242"])
def test_find_and_mask_ignore_non_text(value):
    assert pan.find_pans(value) == []
    assert pan.mask_pans(value) == (value, 0)


@st.composite
def embedded_numbers(draw):
    length = draw(st.integers(min_value=pan.MIN_DIGITS, max_value=pan.MAX_DIGITS))
    digits = with_check_digit(
        draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    )
    separators = draw(
        st.lists(st.sampled_from(["", "", " ", "-"]), min_size=length - 1, max_size=length - 1)
    )
    number = "".join(d + s for d, s in zip(digits, separators + [""], strict=True))
    around = st.text(alphabet="abcXYZ .,;:()/\n#€é", max_size=20)
    return digits, number, draw(around), draw(around)


@settings(deadline=None)  # timing varies on shared CI machines; correctness is the point
@given(embedded_numbers())
def test_every_luhn_valid_number_is_found_and_masked(case):
    digits, number, before, after = case
    text = f"{before} {number} {after}"
    start, end = len(before) + 1, len(before) + 1 + len(number)
    assert pan.find_pans(text) == [(start, end)]

    masked, count = pan.mask_pans(text)
    assert count == 1
    assert not pan.contains_pan(masked)
    assert (masked[:start], masked[end:]) == (text[:start], text[end:])
    # Same shape: each separator stays where it was, only the middle digits become "*".
    expected = iter(digits[:6] + "*" * (len(digits) - 10) + digits[-4:])
    assert masked[start:end] == "".join(c if c in " -" else next(expected) for c in number)


# === HTML (mail bodies, partner notes) === #


@pytest.mark.parametrize(
    ("html", "expected", "count"),
    [
        ("<p>4242424242424242</p>", "<p>424242******4242</p>", 1),
        (
            '<p class="x">Card: <b>4242 4242</b> 4242 4242, thanks</p>',
            '<p class="x">Card: <b>4242 42**</b> **** 4242, thanks</p>',
            1,
        ),
        # Editors type no-break spaces between groups, as an entity or as a character.
        (
            "<p>5555&nbsp;5555&nbsp;5555&nbsp;4444</p>",
            "<p>5555&nbsp;55**&nbsp;****&nbsp;4444</p>",
            1,
        ),
        (
            "<p>5555&#160;5555&#160;5555&#160;4444</p>",
            "<p>5555&#160;55**&#160;****&#160;4444</p>",
            1,
        ),
        (
            "<p>5555\u00a05555\u00a05555\u00a04444</p>",
            "<p>5555\u00a055**\u00a0****\u00a04444</p>",
            1,
        ),
        # In an attribute or a comment: masked in place, the markup stays.
        (
            '<a href="https://x.test/?n=4242424242424242">x</a>',
            '<a href="https://x.test/?n=424242******4242">x</a>',
            1,
        ),
        ("<!-- 4242424242424242 --><p>hi</p>", "<!-- 424242******4242 --><p>hi</p>", 1),
        # Escaped text around the number is left as it is.
        ("<p>a &lt; 378282246310005 &amp; b</p>", "<p>a &lt; 378282*****0005 &amp; b</p>", 1),
    ],
)
def test_html_masking_keeps_the_markup(html, expected, count):
    assert pan.mask_pans_html(html) == (expected, count)
    masked = pan.mask_pans_html(html)[0]
    # Only digits changed, one for one.
    assert len(masked) == len(html)
    assert all(a == b or (a.isdigit() and b == "*") for a, b in zip(html, masked, strict=True))


@pytest.mark.parametrize(
    "html",
    [
        # Block boundaries end a number: two paragraphs are not one 20-digit run.
        "<p>4242424242424242</p><p>4242</p>",
        "<p>4242424242424242<br>4242</p>",
    ],
)
def test_html_block_tags_separate_numbers(html):
    masked, count = pan.mask_pans_html(html)
    assert count == 1
    assert "424242******4242" in masked
    assert masked.endswith("4242</p>")


@pytest.mark.parametrize(
    "html",
    [
        "<p>Order SO/2026/0001234 ref 4242424242424241</p>",  # Luhn-invalid
        "<p>Call +33 6 12 34 56 78 or +1 (415) 555-2671</p>",
        "<p>IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX</p>",
        "<p>IBAN DK5000400440116243</p>",
        '<img src="data:image/png;base64,iVBORw0KGgo4242424242424242AAA"/>',
        "<p>Invoice INV/2026/00042 of 1234.56 EUR</p>",
        "<p>" + "9" * 25 + "</p>",
        "",
    ],
)
def test_html_masking_leaves_other_numbers_alone(html):
    assert pan.mask_pans_html(html) == (html, 0)


def test_html_masking_ignores_non_text():
    assert pan.mask_pans_html(None) == (None, 0)
    assert pan.mask_pans_html(False) == (False, 0)


@settings(deadline=None)
@given(embedded_numbers())
def test_every_number_in_html_is_masked(case):
    _digits, number, before, after = case
    html = f"<div><p>{before}</p><p>x <span>{number}</span> {after}</p></div>"
    masked, count = pan.mask_pans_html(html)
    assert count == 1
    assert not pan.find_pans(masked.replace("<span>", "").replace("</span>", ""))
    assert masked.startswith(f"<div><p>{before}</p><p>x <span>")


# Luhn-valid phone numbers: a Chinese mobile with its country code (+, or 00) and an
# Austrian mobile with its trunk prefix.
PHONE_14 = with_check_digit("8613912345670")
PHONE_00 = with_check_digit("00861391234567")
PHONE_0 = with_check_digit("066412345678")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # With their prefix, long phone numbers that happen to pass the Luhn check stay.
        (f"+{PHONE_14}", f"+{PHONE_14}"),
        (f"+ {PHONE_14}", f"+ {PHONE_14}"),
        (PHONE_00, PHONE_00),
        (PHONE_0, PHONE_0),
        # A card number typed into a phone field is still masked.
        ("4242 4242 4242 4242", "4242 42** **** 4242"),
        ("card: 378282246310005", "card: 378282*****0005"),
    ],
)
def test_phone_fields_keep_prefixed_numbers(text, expected):
    assert pan.mask_pans(text, phone=True)[0] == expected


def test_prefixed_numbers_are_masked_outside_phone_fields():
    assert all(pan.luhn_valid(number) for number in (PHONE_14, PHONE_00, PHONE_0))
    assert pan.mask_pans(f"+{PHONE_14}")[1] == 1
