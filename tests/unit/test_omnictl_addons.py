"""The harness finds our addons (folders holding a __manifest__.py), installs those whose
depends this Odoo has, installs each alone on the right template, and reports each one."""

import importlib
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _harness(module: str):
    """tools/harness/<module>.py (tools/ on sys.path, as tools/omnictl.py puts it)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return importlib.import_module(f"harness.{module}")


def _addon(root: Path, name: str, depends: list[str], **keys) -> None:
    (root / name).mkdir(parents=True)
    manifest = {"name": name, "version": "1.0.0", "depends": depends, **keys}
    (root / name / "__manifest__.py").write_text(repr(manifest))


@pytest.fixture
def split_tree(tmp_path):
    """The addons after the split, and an Odoo whose addons path has queue_job or not."""
    ours = tmp_path / "repo"
    _addon(ours, "omni_pan_base", ["mail"])
    _addon(ours, "omni_pan_guard", ["omni_pan_base"])
    _addon(ours, "omni_payment_methods", ["payment_stripe", "contacts", "omni_pan_base"])
    _addon(ours, "omni_payment_charging", ["omni_payment_methods"])
    glue = ["omni_payment_charging", "queue_job"]
    _addon(ours, "omni_payment_charging_queue_job", glue, auto_install=True)
    (ours / "docs").mkdir()  # not an addon
    odoo_addons = tmp_path / "odoo"
    for name in ("base", "web", "mail", "payment_stripe", "contacts"):
        _addon(odoo_addons, name, [])
    return ours, odoo_addons


def _odoo(addons_path: list[Path]):
    return _harness("odoo").Odoo("18.0", ["odoo-bin"], addons_path, None, "test")


def test_addons_are_the_folders_with_a_manifest_in_dependency_order(split_tree):
    common = _harness("common")
    ours, _odoo_addons = split_tree
    names = common.addon_names(ours)
    assert names == [
        "omni_pan_base",
        "omni_pan_guard",
        "omni_payment_charging",
        "omni_payment_charging_queue_job",
        "omni_payment_methods",
    ]
    assert common.dependency_order(list(reversed(names)), ours) == [
        "omni_pan_base",
        "omni_pan_guard",
        "omni_payment_methods",
        "omni_payment_charging",
        "omni_payment_charging_queue_job",
    ]


def test_an_addon_whose_depends_are_missing_is_left_out(split_tree, tmp_path):
    ours, odoo_addons = split_tree
    installable, excluded = _harness("odoo").installable_addons(_odoo([odoo_addons]), ours)
    assert "omni_payment_charging_queue_job" not in installable
    assert excluded == {"omni_payment_charging_queue_job": "needs queue_job"}
    _addon(tmp_path / "oca", "queue_job", ["mail"])
    odoo = _odoo([odoo_addons, tmp_path / "oca"])
    installable, excluded = _harness("odoo").installable_addons(odoo, ours)
    assert len(installable) == 5 and excluded == {}


def test_an_addon_depending_on_a_left_out_addon_is_left_out(split_tree):
    ours, odoo_addons = split_tree
    (odoo_addons / "contacts" / "__manifest__.py").unlink()
    installable, excluded = _harness("odoo").installable_addons(_odoo([odoo_addons]), ours)
    assert installable == ["omni_pan_base", "omni_pan_guard"]
    assert excluded["omni_payment_methods"] == "needs contacts"
    assert excluded["omni_payment_charging"] == "needs omni_payment_methods"


def test_installed_alone_on_a_template_of_exactly_their_odoo_depends(split_tree):
    alone = _harness("alone")
    ours, _odoo_addons = split_tree
    names = _harness("common").addon_names(ours)
    assert alone.alone_candidates(names, ours) == [
        "omni_pan_base",
        "omni_pan_guard",
        "omni_payment_charging",
        "omni_payment_methods",
    ]
    assert alone.odoo_depends("omni_pan_guard", names, ours) == {"mail"}
    assert alone.odoo_depends("omni_payment_charging", names, ours) == {
        "mail",
        "payment_stripe",
        "contacts",
    }


def _report(monkeypatch, per_addon, excluded, checks=()):
    report = _harness("report")
    monkeypatch.setenv("CI", "true")
    suites = _harness("suites").SuiteResult(True, 10, 0, 0, [], ["payment"])
    odoo = _odoo([])
    return report.report_test_run(
        odoo, ((1, 0, 0), per_addon, excluded), 0, ([], []), suites, list(checks)
    )


def test_ci_fails_when_an_addon_has_no_test_in_the_report(monkeypatch, capsys):
    assert _report(monkeypatch, {"omni_pan_base": (3, 0, 0)}, {}) == 0
    out = capsys.readouterr().out
    assert "= omni_pan_base tests on Odoo (pytest-odoo): 3 ran, 3 passed" in out
    assert "summary: 14 passed, 0 failed, 0 skipped" in out
    assert _report(monkeypatch, {"omni_pan_base": (3, 0, 0), "omni_pan_guard": None}, {}) == 1
    assert "omni_pan_guard tests on Odoo (pytest-odoo): none in pytest's report" in (
        capsys.readouterr().out
    )


def test_ci_fails_when_an_addon_does_not_install(monkeypatch, capsys):
    excluded = {"omni_payment_charging_queue_job": "needs queue_job"}
    assert _report(monkeypatch, {"omni_pan_base": (3, 0, 0)}, excluded) == 1
    assert "does not install in this Odoo (needs queue_job)" in capsys.readouterr().out


def test_a_failed_install_alone_counts_as_a_failure(monkeypatch, capsys):
    check = _harness("report").Check("installs alone (omni_pan_base)", 0, 1, ["x: FAILED"])
    assert _report(monkeypatch, {"omni_pan_base": (3, 0, 0)}, {}, [check]) == 1
    out = capsys.readouterr().out
    assert "! installs alone (omni_pan_base): 1 ran, 0 passed, 1 failed, 0 skipped" in out
    assert "summary: 14 passed, 1 failed, 0 skipped" in out
