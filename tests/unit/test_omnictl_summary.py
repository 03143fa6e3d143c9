"""The closing summary line of `make test` counts tests the way pytest does."""

import importlib
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _omnictl():
    """tools/harness/report.py (tools/ on sys.path, as tools/omnictl.py puts it)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return importlib.import_module("harness.report")


def test_subtests_count_once_and_a_failed_entry_fails_the_test(tmp_path):
    report = tmp_path / "junit.xml"
    report.write_text(
        "<testsuites><testsuite>"
        '<testcase classname="m.C" name="test_a"/>'
        '<testcase classname="m.C" name="test_b"/>'
        '<testcase classname="m.C" name="test_b"><failure message="x"/></testcase>'
        '<testcase classname="m.C" name="test_b"/>'
        '<testcase classname="m.C" name="test_c"><skipped/></testcase>'
        '<testcase classname="m.C" name="test_d"><error message="y"/></testcase>'
        '<testcase classname="m.D" name="test_a"/>'
        "</testsuite></testsuites>"
    )
    assert _omnictl().junit_counts(report) == (2, 2, 1)


def test_missing_or_broken_report_gives_no_summary(tmp_path):
    omnictl = _omnictl()
    assert omnictl.junit_counts(tmp_path / "absent.xml") is None
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testsuite>")
    assert omnictl.junit_counts(broken) is None
