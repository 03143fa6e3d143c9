"""The closing summary line of `make test` counts tests the way pytest does."""

import importlib.util
import sys
from pathlib import Path

OMNICTL = Path(__file__).resolve().parents[2] / "tools" / "omnictl.py"


def _omnictl():
    spec = importlib.util.spec_from_file_location("omnictl_under_test", OMNICTL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
