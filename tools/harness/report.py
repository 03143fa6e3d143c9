"""The closing report of ``make test``: per part (tests/, each addon's suites on Odoo, Odoo's
own suites, the installs alone, the upgrade, the linters) how many ran, passed, failed and
were skipped, read from pytest's JUnit XML, then the one ``summary:`` line that CI reads."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from xml.etree import ElementTree

from .common import LOG_DIR, banner, display, say


@dataclasses.dataclass
class Check:
    """A step of ``make test`` that is not pytest's (installs alone, the upgrade): its line
    of the report counts it as passed or failed; ``lines`` detail it below."""

    label: str
    passed: int
    failed: int
    lines: list[str]


def _addon_lines(per_addon: dict, excluded: dict, add, lines: list[str]) -> bool:
    """One line per addon of ours; False when CI must fail (an addon's tests missing from
    the report, or an addon that does not install)."""
    complete = True
    for name, counts in per_addon.items():
        if counts is None or not sum(counts):
            lines.append(f"{name} tests on Odoo (pytest-odoo): none in pytest's report")
            complete = False
        else:
            add(f"{name} tests on Odoo (pytest-odoo)", *counts)
    for name, why in excluded.items():
        lines.append(f"{name}: does not install in this Odoo ({why}), its tests did not run")
        complete = False
    return complete


def report_test_run(odoo, pytest_counts, rc: int, linters, suites, checks=()) -> int:
    """The closing report of ``test``: what ran where, then one plain summary line."""
    lines = []
    counts = {"passed": 0, "failed": 0, "skipped": 0}

    def add(label: str, passed: int, failed: int, skipped: int) -> None:
        counts["passed"] += passed
        counts["failed"] += failed
        counts["skipped"] += skipped
        lines.append(
            f"{label}: {passed + failed + skipped} ran, {passed} passed, {failed} failed, "
            f"{skipped} skipped"
        )

    plain, per_addon, excluded = pytest_counts
    running, lint_failed = linters
    if plain is None:
        lines.append("pytest wrote no report (see its output above)")
        rc = rc or 1
    else:
        add("tests outside our addons (pytest: tests/, contracts included)", *plain)
    if odoo:
        lines.insert(0, f"Odoo {odoo.version} ({odoo.origin})")
        complete = _addon_lines(per_addon or {}, excluded, add, lines)
        if suites is not None:
            label = f"Odoo's own suites ({', '.join(suites.modules)})"
            add(label, suites.passed, suites.failed, suites.skipped)
            lines.extend("  " + line for line in suites.lines)
            if not suites.ok:
                rc = rc or 1
        else:
            lines.append(
                "Odoo's own suites: not run (pytest was given paths; run them with "
                "`make odoo-suites`)"
            )
        if os.environ.get("CI") and (not complete or suites is None):
            lines.append("CI: every Odoo suite must run; some did not: FAILED")
            rc = rc or 1
        for check in checks:
            add(check.label, check.passed, check.failed, 0)
            lines.extend("  " + line for line in check.lines)
    else:
        lines.append("ODOO SUITES NOT RUN (--no-odoo): only the tests that need no Odoo ran")
    if running:
        passed = len(running) - len(lint_failed)
        add(
            "linters (" + ", ".join(linter.name for linter in running) + ")",
            passed,
            len(lint_failed),
            0,
        )
        if lint_failed:
            say(
                f"LINTERS FAILED: {', '.join(linter.name for linter in lint_failed)} "
                f"(logs: {display(LOG_DIR)}/lint-*.log)"
            )
            rc = rc or 1
    ok = rc == 0 and counts["failed"] == 0
    print(banner(lines, "=" if ok else "!"), flush=True)
    # One plain closing line, for tools that read the last line.
    print(
        f"summary: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped",
        flush=True,
    )
    return rc or (0 if ok else 1)


_OUTCOME_RANK = ("failed", "passed", "skipped")


def junit_counts(path: Path, prefix: str = "") -> tuple[int, int, int] | None:
    """Return (passed, failed incl. errors, skipped) tests from pytest's JUnit XML report,
    of the tests whose class name starts with ``prefix`` (all by default).

    Sub-tests (``self.subTest``) are reported as extra entries of their test: a test counts
    once, as failed if any of its entries failed.
    """
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    outcome: dict[tuple[str, str], str] = {}
    for case in root.iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        if not key[0].startswith(prefix):
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            state = "failed"
        elif case.find("skipped") is not None:
            state = "skipped"
        else:
            state = "passed"
        # failed > passed > skipped, whatever the order of the entries
        outcome[key] = min(outcome.get(key, state), state, key=_OUTCOME_RANK.index)
    states = list(outcome.values())
    return states.count("passed"), states.count("failed"), states.count("skipped")
