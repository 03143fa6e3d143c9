"""``make odoo-suites`` and the last part of ``make test``: Odoo's own payment,
payment_stripe and account_payment suites run by Odoo's test runner on a database where
our addons are installed, summarized per module from Odoo's log. The project's own:
pytest-odoo runs our addons' tests, not Odoo's with an addon's overrides loaded."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from .common import LOG_DIR, banner, display, free_port, say, tail
from .deps import pip_deps
from .install import odoo_install, odoo_log_records, write_odoo_conf
from .odoo import Odoo, installable_addons, require_odoo
from .postgres import Postgres
from .session import Session, stop_leftovers

FAILED_TESTS = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
STATS_LINE = re.compile(r"^(\w+): (\d+) tests ")
TEST_LOGGER = re.compile(r"^odoo\.addons\.(\w+)\.tests\b")


def summarize_suite_log(log: Path, modules: list[str]) -> tuple[dict, dict, tuple | None, list]:
    """Per module: tests started (Odoo logs "Starting Class.test ..." for each), FAIL/ERROR
    records and skips; Odoo's own total; the error records (other errors, then test failures)."""
    ran: Counter = Counter()
    stats: dict[str, int] = {}
    failed: Counter = Counter()
    total = None
    other_errors = []
    details = []
    for level, logger, first, lines in odoo_log_records(log):
        message = first.split(": ", 1)[1] if ": " in first else first
        test_module = TEST_LOGGER.match(logger)
        if test_module and level == "INFO" and message.startswith("Starting "):
            ran[test_module[1]] += 1
        elif test_module and message.startswith("skipped "):
            failed[(test_module[1], "skipped")] += 1
        elif logger == "odoo.tests.stats":
            match = STATS_LINE.match(message)
            if match:
                stats[match[1]] = int(match[2])
        elif logger == "odoo.tests.result":
            match = FAILED_TESTS.search(message)
            if match:
                total = (int(match[1]), int(match[2]), int(match[3]))
        elif level in ("ERROR", "CRITICAL"):
            match = TEST_LOGGER.match(logger)
            if match and message.startswith(("FAIL:", "ERROR:")):
                failed[(match[1], message.split(":", 1)[0])] += 1
                details.append("\n".join(lines[:30]))
            elif not match or match[1] not in modules:
                other_errors.append("\n".join(lines[:15]))
    return (dict(ran) or stats), failed, total, other_errors + details


def suite_modules(tags: str) -> list[str]:
    """The modules named by an Odoo ``--test-tags`` value ("/payment,/payment_stripe:Cls")."""
    modules = [t.strip().lstrip("/").split(":")[0].split(".")[0] for t in tags.split(",")]
    return [m for m in modules if m and not m.startswith(("-", "*"))]


def odoo_tests_command(odoo, conf: Path, db: str, tags: str) -> list[str]:
    """Odoo's own test runner on an installed database: no -i/-u, so Odoo runs the at_install
    tests of each module as it loads it (filtered by ``tags``) and the post_install tests once
    the whole registry, our overrides included, is loaded."""
    return [
        *odoo.command,
        "-c",
        str(conf),
        "-d",
        db,
        "--test-enable",
        f"--test-tags={tags}",
        "--stop-after-init",
        "--log-handler=odoo.tests.stats:INFO",
    ]


@dataclasses.dataclass
class SuiteResult:
    """Odoo's own test runner's outcome on one database."""

    ok: bool
    tests: int
    failed: int  # failures and errors
    skipped: int
    lines: list[str]  # the report, for a banner
    modules: list[str]

    @property
    def passed(self) -> int:
        return max(self.tests - self.failed - self.skipped, 0)


def run_odoo_suites(
    session: Session,
    odoo: Odoo,
    conf: Path,
    db: str,
    tags: str,
    *,
    context: str = "with our addons installed",
) -> SuiteResult:
    """Run Odoo's test runner with ``tags`` on the installed database ``db``."""
    modules = suite_modules(tags)
    log = LOG_DIR / f"{session.command}-odoo-suites.log"
    cmd = odoo_tests_command(odoo, conf, db, tags)
    say(f"running Odoo's tests {tags} {context}; log: {display(log)}")
    started = time.monotonic()
    rc = session.run("odoo-tests", cmd, env=odoo.env(), log=log, stdin=subprocess.DEVNULL)
    minutes = (time.monotonic() - started) / 60
    ran, failed, total, error_records = summarize_suite_log(log, modules)
    lines = [f"Odoo {odoo.version} test suites {context} ({minutes:.1f} min)"]
    skipped = 0
    for module in modules:
        fails, errors = failed[(module, "FAIL")], failed[(module, "ERROR")]
        skipped += failed[(module, "skipped")]
        lines.append(
            f"{module:>16}: {ran.get(module, 0):4d} tests, {fails} failed, {errors} errors, "
            f"{failed[(module, 'skipped')]} skipped"
        )
    for module in sorted(set(ran) - set(modules)):
        lines.append(f"{module:>16}: {ran[module]:4d} tests (pulled in by the tags)")
    if total:
        lines.append(f"total: {total[0]} failed, {total[1]} error(s) of {total[2]} tests")
    else:
        lines.append("total: no test summary in the log (Odoo stopped early?)")
    lines.append(f"full log: {display(log)}")
    ok = rc == 0 and total is not None and total[0] == 0 and total[1] == 0 and total[2] > 0
    if error_records:
        print(f"\n[omnictl] ERROR records of {display(log)}:", flush=True)
        for text in error_records[:20]:
            print(text, flush=True)
    if not total:
        print(tail(log), flush=True)
    tests, bad = (total[2], total[0] + total[1]) if total else (0, 1)
    if not ok:
        bad = max(bad, 1)
        say(f"Odoo's suites FAILED (odoo exit code {rc})")
    return SuiteResult(ok, tests, bad, skipped, lines, modules)


def cmd_odoo_suites(args) -> int:
    pip_deps()
    odoo = require_odoo()
    stop_leftovers(quiet=True)
    session = Session("odoo-suites")
    pg = Postgres(session).start()
    tags = args.tags
    db = "omni_suites"
    conf = write_odoo_conf(
        session, odoo, pg, name="suites", db_name=db, http_port=free_port(), demo=False
    )
    ours = installable_addons(odoo)[0]
    to_install = ",".join(dict.fromkeys([*ours, *suite_modules(tags)]))
    odoo_install(session, odoo, conf, db, to_install, demo=False)
    result = run_odoo_suites(session, odoo, conf, db, tags)
    session.close()
    print(banner(result.lines, "=" if result.ok else "!"), flush=True)
    return 0 if result.ok else 1
