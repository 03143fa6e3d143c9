"""Each addon's Odoo tests import only from the addons it depends on, so that they run in a
database where only that addon (and its dependencies) is installed: omni_pan_guard's tests
run without the saved payment methods."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = {path.parent.name: path for path in REPO.glob("*/__manifest__.py")}


def _depends(name):
    return ast.literal_eval(OURS[name].read_text()).get("depends", [])


def our_closure(name):
    """``name`` and every addon of ours it depends on, directly or not."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += [dep for dep in _depends(current) if dep in OURS]
    return seen


def imported_addons(path):
    """The addons named by ``odoo.addons.<addon>`` imports of a Python file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[:2] == ["odoo", "addons"] and len(parts) > 2:
                names.add(parts[2])
    return names


def test_the_scan_finds_imports(tmp_path):
    source = tmp_path / "t.py"
    source.write_text(
        "from odoo.addons.omni_payment_methods.tests import compat\n"
        "import odoo.addons.mail.tests.common\nfrom ..models import x\n"
    )
    assert imported_addons(source) == {"omni_payment_methods", "mail"}
    assert our_closure("omni_payment_charging") >= {"omni_payment_methods", "omni_pan_base"}
    assert our_closure("omni_pan_guard") == {"omni_pan_guard", "omni_pan_base"}


@pytest.mark.parametrize("addon", sorted(OURS))
def test_tests_import_only_what_the_addon_depends_on(addon):
    allowed = our_closure(addon)
    wrong = {}
    for path in sorted((REPO / addon / "tests").rglob("*.py")):
        outside = {name for name in imported_addons(path) if name in OURS} - allowed
        if outside:
            wrong[str(path.relative_to(REPO))] = sorted(outside)
    assert not wrong, f"{addon}'s tests import addons it does not depend on: {wrong}"


def test_the_guard_tests_need_no_payment_module():
    """omni_pan_guard depends on Discuss only: its tests use no payment or invoicing code."""
    wrong = {}
    for path in sorted((REPO / "omni_pan_guard" / "tests").rglob("*.py")):
        names = imported_addons(path) - {"omni_pan_base", "omni_pan_guard", "mail", "base"}
        if names:
            wrong[path.name] = sorted(names)
    assert not wrong, f"omni_pan_guard's tests import {wrong}"
