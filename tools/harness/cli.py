"""The ``omnictl`` command line: one subcommand per make target (see tools/omnictl.py)."""

from __future__ import annotations

import argparse
import os
import sys

from .common import install_signal_handlers
from .demo import cmd_run
from .deps import cmd_deps
from .i18n import cmd_i18n
from .lint import cmd_lint
from .odoo import reexec_with_odoo_source
from .session import run_guarded, stop_leftovers
from .suites import cmd_odoo_suites
from .testrun import cmd_test
from .uninstall import cmd_uninstall_check
from .upgrade import DEFAULT_UPGRADE_FROM, cmd_upgrade_check

DEFAULT_LOCALSTRIPE_PORT = 8420
DEFAULT_ODOO_PORT = 8069
DEFAULT_SUITE_TAGS = "/payment,/payment_stripe,/account_payment"
# the subcommands that need Odoo: with ODOO_SOURCE they run under the interpreter built for it
ODOO_COMMANDS = ("run", "test", "odoo-suites", "uninstall-check", "upgrade-check", "i18n")
DESCRIPTION = "run the demo and the tests of our addons on throwaway local servers."


def cmd_stop_leftovers(args) -> int:
    return stop_leftovers(force=args.force)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        index = argv.index("--")
        argv, extra = argv[:index], argv[index + 1 :]

    parser = argparse.ArgumentParser(prog="omnictl", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("deps", help="install requirements-test.txt and run npm ci")
    run = sub.add_parser("run", help="start the demo (Ctrl-C stops everything)")
    run.add_argument("--port", type=int, default=DEFAULT_ODOO_PORT, help="Odoo HTTP port")
    run.add_argument("--stripe-port", type=int, default=DEFAULT_LOCALSTRIPE_PORT)
    run.add_argument("--database", default="omni_demo")
    run.add_argument(
        "--no-cache",
        action="store_true",
        help="install the demo database from scratch (ignore and do not keep the cache)",
    )
    test = sub.add_parser("test", help="run the linters and every test (pytest args after --)")
    test.add_argument("--no-lint", action="store_true", help="skip the linters")
    test.add_argument(
        "--no-odoo",
        action="store_true",
        help="only the tests that need no Odoo (tests/), without installing anything",
    )
    test.add_argument(
        "--no-odoo-suites", action="store_true", help="skip Odoo's own payment suites"
    )
    test.add_argument("--tags", default=DEFAULT_SUITE_TAGS, help="Odoo's suites: --test-tags")
    test.add_argument(
        "--no-alone",
        action="store_true",
        help="skip installing each addon alone (quick local runs; CI runs it)",
    )
    test.add_argument(
        "--no-bench",
        action="store_true",
        help="skip running the benchmarks at a tiny size (quick local runs; CI runs it)",
    )
    test.add_argument(
        "--upgrade-from",
        metavar="REF",
        default=os.environ.get("OMNI_UPGRADE_FROM", "").strip() or None,
        help="also check the upgrade from the addons of git commit REF (env OMNI_UPGRADE_FROM)",
    )
    test.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    sub.add_parser("lint", help="run the linters only")
    sub.add_parser("i18n", help="regenerate the .pot and merge it into the .po files")
    suites = sub.add_parser("odoo-suites", help="Odoo's own payment suites with the addon")
    suites.add_argument("--tags", default=DEFAULT_SUITE_TAGS, help="Odoo --test-tags value")
    uninstall = sub.add_parser(
        "uninstall-check", help="upgrade keeps every value, uninstall leaves Odoo working"
    )
    uninstall.add_argument("--tags", default=DEFAULT_SUITE_TAGS, help="Odoo --test-tags value")
    upgrade = sub.add_parser(
        "upgrade-check", help="a database of an older commit's addons upgrades, keeping values"
    )
    upgrade.add_argument(
        "--from",
        dest="from_ref",
        metavar="REF",
        default=DEFAULT_UPGRADE_FROM,
        help=f"the git commit whose addons are installed first (default {DEFAULT_UPGRADE_FROM})",
    )
    leftovers = sub.add_parser("stop-leftovers", help="clean up after a killed run")
    leftovers.add_argument("--force", action="store_true", help="also runs whose owner lives")
    args = parser.parse_args(argv)
    if args.command == "test":
        args.pytest_args = [*args.pytest_args, *extra]
    elif extra:
        parser.error(f"{args.command} takes no arguments after --")

    install_signal_handlers()
    if args.command in ODOO_COMMANDS:
        again = argv + (["--", *extra] if extra else [])
        rc = run_guarded(lambda: reexec_with_odoo_source(again), "omnictl")
        if rc:
            return rc
    handlers = {
        "deps": cmd_deps,
        "run": cmd_run,
        "test": cmd_test,
        "lint": cmd_lint,
        "i18n": cmd_i18n,
        "odoo-suites": cmd_odoo_suites,
        "uninstall-check": cmd_uninstall_check,
        "upgrade-check": cmd_upgrade_check,
        "stop-leftovers": cmd_stop_leftovers,
    }

    return run_guarded(lambda: handlers[args.command](args), "omnictl")
