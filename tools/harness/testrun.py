"""``make test``: the linters, PostgreSQL, localstripe and one install of our addons (every
one that installs in this Odoo), then every test in one pytest run (pytest-odoo runs each
addon's Odoo suites on that database), then Odoo's own payment suites on a copy of it (OCA's
click-odoo-copydb), then each addon installed alone (``alone``), when asked the upgrade
from an older commit (``upgrade``), and every benchmark at a tiny size (``bench``). The
project's own is the order and the single install shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .alone import installs_alone
from .bench import run_benchmarks
from .common import LOG_DIR, REPO, HarnessError, display, free_port, say, warn
from .deps import cmd_deps, pip_deps
from .install import copy_database, odoo_install, write_odoo_conf
from .lint import finish_linters, start_linters
from .localstripe import LOCALSTRIPE_SECRET_KEY, LocalStripe
from .odoo import OPTIONAL_MODULES, Odoo, installable_addons, optional_modules, require_odoo
from .postgres import Postgres
from .report import Check, junit_counts, report_test_run
from .session import Session, stop_leftovers
from .suites import run_odoo_suites
from .upgrade import run_upgrade_check

# pytest options whose value is the next argument (so it is not mistaken for a path)
_PYTEST_VALUE_OPTIONS = {
    "-k",
    "-m",
    "-p",
    "-o",
    "-c",
    "-W",
    "-n",
    "-r",
    "--deselect",
    "--ignore",
    "--ignore-glob",
    "--maxfail",
    "--tb",
    "--durations",
    "--rootdir",
    "--basetemp",
    "--junitxml",
    "--log-level",
    "--confcutdir",
    "--import-mode",
    "--capture",
    "--override-ini",
}


def _has_path_args(extra: list[str]) -> bool:
    previous = ""
    for arg in extra:
        path = arg.split("::", 1)[0]
        is_value = arg.startswith("-") or previous in _PYTEST_VALUE_OPTIONS
        if not is_value and ((REPO / path).exists() or Path(path).exists()):
            return True
        previous = arg
    return False


def _install_for_tests(session: Session, odoo: Odoo, pg: Postgres, db: str) -> tuple:
    """Install every addon of ours that installs here, and the optional modules, into
    ``db``: (its configuration, the addons installed, {addon left out: why})."""
    conf = write_odoo_conf(
        session, odoo, pg, name="test", db_name=db, http_port=free_port(), demo=False
    )
    ours, excluded = installable_addons(odoo)
    found = optional_modules(odoo)
    optional = [name for name, missing in found.items() if not missing]
    odoo_install(session, odoo, conf, db, ",".join([*ours, *optional]), demo=False)
    for name in OPTIONAL_MODULES:
        if name in optional:
            say(f"{name} installed with our addons: its tests run")
        elif name in found:
            warn(
                f"{name} cannot be installed in this Odoo, its tests are skipped: missing "
                + ", ".join(found[name][:5])
            )
        else:
            say(
                f"{name} not on the addons path: its tests are skipped "
                "(ODOO_EXTRA_ADDONS=/path/to/OCA/queue to run them)"
            )
    for name, why in excluded.items():
        warn(f"{name} does not install in this Odoo ({why}): not installed, its tests not run")
    return conf, ours, excluded


def _suites_database(session: Session, odoo: Odoo, pg: Postgres, conf: Path, db: str) -> tuple:
    """A copy of the installed test database for Odoo's own suites: (its conf, its name)."""
    suites_db = "omni_suites"
    suites_conf = write_odoo_conf(
        session, odoo, pg, name="suites", db_name=suites_db, http_port=free_port(), demo=False
    )
    copy_database(session, odoo, conf, db, suites_db)
    return suites_conf, suites_db


def _alone_check(session: Session, odoo: Odoo, pg: Postgres, ours: list[str]) -> Check:
    started = time.monotonic()
    results = installs_alone(session, odoo, pg, ours)
    failed = [r for r in results if not r.ok]
    lines = [
        f"{r.name}: {'ok' if r.ok else 'FAILED: ' + r.detail} ({r.seconds:.0f}s)" for r in results
    ]
    minutes = (time.monotonic() - started) / 60
    names = ", ".join(r.name for r in results) or "none"
    label = f"installs alone ({names}; {minutes:.1f} min, templates included)"
    return Check(label, len(results) - len(failed), len(failed), lines)


def _bench_check(session: Session, odoo: Odoo) -> Check:
    started = time.monotonic()
    results = run_benchmarks(session, odoo)
    failed = [r for r in results if not r.ok]
    lines = [
        f"{r.name}: {'ok' if r.ok else 'FAILED: ' + r.detail} ({r.seconds:.0f}s)" for r in results
    ]
    minutes = (time.monotonic() - started) / 60
    label = f"benchmarks run at a tiny size ({minutes:.1f} min; bench/, nothing measured)"
    return Check(label, len(results) - len(failed), len(failed), lines)


def _upgrade_check(session: Session, odoo: Odoo, pg: Postgres, ref: str) -> Check:
    result = run_upgrade_check(session, odoo, pg, ref)
    return Check(f"upgrade from {ref}", int(result.ok), int(not result.ok), result.lines)


def cmd_test(args) -> int:
    if args.no_lint:
        pip_deps()
    else:
        cmd_deps()
    odoo = None if args.no_odoo else require_odoo()
    if os.environ.get("CI") and (args.no_odoo or args.no_alone or args.no_bench):
        raise HarnessError(
            "CI runs every test: --no-odoo, --no-alone and --no-bench are not for CI"
        )
    stop_leftovers(quiet=True)
    session = Session("test")
    # The linters run side by side with the servers' start and our addons' installation;
    # their results come before pytest's.
    running = [] if args.no_lint else start_linters(session)
    pg = Postgres(session).start()
    stripe = LocalStripe(session).start(dict(os.environ))
    extra = list(args.pytest_args)
    pytest_log = LOG_DIR / "test-odoo.log"
    # Odoo's own suites run with the whole suite, not when pytest is given paths to run.
    own_suites = odoo is not None and not args.no_odoo_suites and not _has_path_args(extra)
    ours, excluded = [], {}

    if odoo:
        db = "omni_test"
        conf, ours, excluded = _install_for_tests(session, odoo, pg, db)
        if own_suites:
            suites_conf, suites_db = _suites_database(session, odoo, pg, conf, db)
        env = odoo.env()
        paths = ["tests", *(f"{name}/tests" for name in ours)]
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            f"--odoo-database={db}",
            f"--odoo-config={conf}",
            "--odoo-http",
            "--odoo-log-level=info",
            f"--odoo-extra=logfile={pytest_log}",
        ]
    else:
        env = dict(os.environ)
        paths = ["tests"]
        cmd = [sys.executable, "-m", "pytest", "-p", "no:odoo"]
    env["OMNI_LOCALSTRIPE_URL"] = stripe.url
    env["OMNI_LOCALSTRIPE_SECRET_KEY"] = LOCALSTRIPE_SECRET_KEY
    junit = session.work / "pytest-junit.xml"
    if not any(arg.startswith("--junitxml") for arg in extra):
        cmd.append(f"--junitxml={junit}")
    if not _has_path_args(extra):
        cmd.extend(p for p in paths if (REPO / p).is_dir())
    cmd.extend(extra)
    lint_failed = finish_linters(running) if running else []
    say("pytest: " + " ".join(cmd[1:]))
    if odoo:
        say(f"Odoo's log during the tests: {display(pytest_log)}")
    rc = session.run("pytest", cmd, env=env, stdin=subprocess.DEVNULL)
    # pytest exits 5 when it collected nothing: that is a failure here too.
    suites = (
        run_odoo_suites(session, odoo, suites_conf, suites_db, args.tags) if own_suites else None
    )
    checks = []
    if odoo and not args.no_alone:
        checks.append(_alone_check(session, odoo, pg, ours))
    if odoo and args.upgrade_from:
        checks.append(_upgrade_check(session, odoo, pg, args.upgrade_from))
    if odoo and not args.no_bench and not _has_path_args(extra):
        checks.append(_bench_check(session, odoo))
    plain = junit_counts(junit, "tests.")
    per_addon = {
        name: junit_counts(junit, f"{name}.") for name in ours if (REPO / name / "tests").is_dir()
    }
    session.close()
    return report_test_run(
        odoo,
        (plain, per_addon if odoo else None, excluded),
        rc,
        (running, lint_failed),
        suites,
        checks,
    )
