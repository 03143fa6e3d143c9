"""Each addon's French translation is complete, current and keeps every placeholder.

Plain Python (polib), no Odoo. When a test here fails after a change of the addon's texts:
run ``make i18n`` (regenerates the .pot from a throwaway install and merges it into fr.po),
then translate the entries it lists.
"""

import ast
import re
from collections import Counter
from pathlib import Path

import polib
import pytest

REPO = Path(__file__).resolve().parents[2]
#: the addons of the repository (top folders holding a manifest)
ADDON_DIRS = sorted(path.parent for path in REPO.glob("*/__manifest__.py"))

# msgids whose French is the English text itself (numbers, URLs, names, words spelled alike).
SAME_IN_FRENCH = {
    "60, 30, 7, 0",
    "2, 4, 6, 8, 10, 12, 14",
    "https://api.stripe.com",
    "Contact",
    "Date",
    "ID",
    "Message",
    "PaymentMethod",
    "Type",
}

# Python format fields: %s, %d, %(name)s, %%
PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
# inline template expressions of mail templates: {{ ... }}
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
# the string literals of an expression are text: 'Your card has expired' may be translated
STRING_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
# HTML/QWeb tags with their attributes (t-out="...", t-if="...", style="...")
TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")


def _normalize(text):
    return " ".join(text.split())


def placeholders(text):
    """What a translation must keep from its msgid, as a multiset."""
    found = Counter()
    for match in PRINTF.findall(text):
        found[("format", match)] += 1
    for match in EXPRESSION.findall(text):
        found[("expression", _normalize(STRING_LITERAL.sub("''", match)))] += 1
    for match in TAG.findall(text):
        found[("tag", _normalize(match))] += 1
    return found


@pytest.fixture(scope="module", params=ADDON_DIRS, ids=lambda path: path.name)
def addon_dir(request):
    return request.param


@pytest.fixture(scope="module")
def pot(addon_dir):
    return polib.pofile(str(addon_dir / "i18n" / f"{addon_dir.name}.pot"))


@pytest.fixture(scope="module")
def fr(addon_dir):
    return polib.pofile(str(addon_dir / "i18n" / "fr.po"))


def test_every_addon_is_checked():
    assert {path.name for path in ADDON_DIRS} >= {"omni_payment_methods", "omni_payment_charging"}


def _show(msgids):
    return "\n".join(f"  {msgid[:100]!r}" for msgid in sorted(msgids))


def test_fr_header(fr):
    assert fr.metadata.get("Language") == "fr"
    assert fr.metadata.get("Plural-Forms", "").startswith("nplurals=2; plural=")
    assert "charset=UTF-8" in fr.metadata.get("Content-Type", "")


def test_fr_has_exactly_the_msgids_of_the_pot(pot, fr):
    expected = {entry.msgid for entry in pot if not entry.obsolete}
    present = {entry.msgid for entry in fr if not entry.obsolete}
    missing, extra = expected - present, present - expected
    assert not missing, f"msgids of the .pot missing from fr.po (make i18n):\n{_show(missing)}"
    assert not extra, f"msgids of fr.po that the .pot no longer has (make i18n):\n{_show(extra)}"
    obsolete = [entry.msgid for entry in fr if entry.obsolete]
    assert not obsolete, f"obsolete entries kept in fr.po:\n{_show(obsolete)}"


def test_fr_is_complete_and_not_fuzzy(fr):
    fuzzy = [entry.msgid for entry in fr if "fuzzy" in entry.flags]
    assert not fuzzy, f"fuzzy entries in fr.po:\n{_show(fuzzy)}"
    empty = [entry.msgid for entry in fr if not entry.obsolete and not entry.msgstr.strip()]
    assert not empty, f"untranslated entries in fr.po:\n{_show(empty)}"
    copied = [
        entry.msgid
        for entry in fr
        if entry.msgstr == entry.msgid and entry.msgid not in SAME_IN_FRENCH
    ]
    assert not copied, f"entries of fr.po left in English:\n{_show(copied)}"


def test_fr_keeps_the_placeholders(fr):
    broken = []
    for entry in fr:
        if entry.obsolete or not entry.msgstr:
            continue
        expected, actual = placeholders(entry.msgid), placeholders(entry.msgstr)
        if expected != actual:
            lost = sorted(text for _kind, text in expected - actual)
            added = sorted(text for _kind, text in actual - expected)
            broken.append(f"  {entry.msgid[:70]!r}: lost {lost}, added {added}")
    assert not broken, "translations that change placeholders:\n" + "\n".join(broken)


def test_placeholders_are_found():
    """The checker itself: each kind of placeholder is seen, literals are text."""
    found = placeholders(
        "%(method)s, %s, 100%% {{ object.x < 0 and 'Expired' or 'Soon' }} "
        "<strong t-out=\"object.omni_issuer_display or ''\">Visa</strong><br/>"
    )
    assert found == Counter(
        {
            ("format", "%(method)s"): 1,
            ("format", "%s"): 1,
            ("format", "%%"): 1,
            ("expression", "{{ object.x < 0 and '' or '' }}"): 1,
            ("tag", "<strong t-out=\"object.omni_issuer_display or ''\">"): 1,
            ("tag", "</strong>"): 1,
            ("tag", "<br/>"): 1,
        }
    )
    assert placeholders("{{ a and 'Votre carte' }}") == placeholders("{{ a and 'Your card' }}")
    assert placeholders("<t t-out='x'/>") != placeholders("<t t-out='y'/>")


def _code_terms(addon_dir):
    """The literal texts passed to ``_`` / ``env._`` / ``_lt`` in the addon's Python code."""
    terms = {}
    for path in sorted(addon_dir.rglob("*.py")):
        if "tests" in path.relative_to(addon_dir).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in ("_", "_lt") and isinstance(getattr(first, "value", None), str):
                terms[first.value] = f"{path.relative_to(REPO)}:{node.lineno}"
    return terms


def test_the_scan_finds_the_texts_of_the_code():
    assert len(_code_terms(REPO / "omni_payment_methods")) > 100, "the scan is broken"


def test_pot_has_every_text_of_the_code(addon_dir, pot):
    """A text added to the Python code without `make i18n` is missing from the .pot."""
    terms = _code_terms(addon_dir)
    msgids = {entry.msgid for entry in pot}
    missing = {msgid: where for msgid, where in terms.items() if msgid not in msgids}
    assert not missing, "texts of the code missing from the .pot (make i18n):\n" + "\n".join(
        f"  {where}: {msgid[:90]!r}" for msgid, where in sorted(missing.items())
    )
