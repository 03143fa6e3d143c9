#!/usr/bin/env python3
"""omnictl: run the demo and the tests of our addons on throwaway local servers.

Our addons are the folders of the repository that hold a ``__manifest__.py``; a command
installs those whose ``depends`` this Odoo has (queue_job's glue only where queue_job is).

Every server it starts listens on 127.0.0.1 or on a unix socket only, lives in a fresh
directory under /tmp/omni-harness/ and is stopped (and the directory removed) when the
command ends, also on Ctrl-C, SIGTERM or an error.

Odoo is found the way integrators expect: the ``odoo`` package importable by the interpreter
running this script, or the Odoo 18.0 or 19.0 source tree named by ``ODOO_HOME`` (a directory
holding ``odoo-bin``; its addons are ``$ODOO_HOME/odoo/addons`` and/or ``$ODOO_HOME/addons``)
whose requirements that interpreter has.

Subcommands::

    deps            pip install -r requirements-test.txt and npm ci (each skipped when
                    already satisfied)
    run             the demo: PostgreSQL + localstripe + Odoo on http://127.0.0.1:8069
    test [-- ARGS]  the linters, then every test in one pytest run (ARGS go to pytest,
                    e.g. -- -k expiry), Odoo's own suites, each addon installed alone
                    (--no-alone skips it), with --upgrade-from REF the upgrade-check, and
                    every benchmark of bench/ at a tiny size (--no-bench skips it)
    lint            the linters only: ruff check, ruff format --check, pylint-odoo (OCA
                    mandatory checks), prettier --check on our addons' XML
    i18n            regenerate each addon's .pot from a throwaway install and merge it into
                    its .po files
    odoo-suites     Odoo's own payment, payment_stripe and account_payment suites with our
                    addons installed
    uninstall-check install our addons with demo data, upgrade them (every stored value must
                    be kept), uninstall them (nothing may be left), then run Odoo's payment
                    suites on that database
    upgrade-check [--from REF]  install the addons of git commit REF (default: the last
                    commit before the split) with demo data, upgrade to the working tree's
                    addons: every stored value must be kept, each of ours installed
    stop-leftovers  stop servers left behind by a killed run and remove their directories

The code is the package tools/harness/ (one module per concern, see its __init__); this
file is the entry point, and the names the bench scripts use (bench/benchlib.py imports
``omnictl``) are re-exported here. Standard library only, Python 3.10+; the commands run
OCA's click-odoo-contrib tools (requirements-test.txt) in Odoo's interpreter.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness/ and odoo_source.py

# the names bench/ uses (bench/benchlib.py: ``import omnictl``)
from harness.cli import main  # noqa: E402
from harness.common import (  # noqa: E402, F401
    ADDON,
    LOG_DIR,
    HarnessError,
    free_port,
    install_signal_handlers,
)
from harness.install import odoo_install, write_odoo_conf  # noqa: E402, F401
from harness.localstripe import LOCALSTRIPE_SECRET_KEY, LocalStripe  # noqa: E402, F401
from harness.odoo import require_odoo  # noqa: E402, F401
from harness.postgres import PG_USER, Postgres  # noqa: E402, F401
from harness.session import Session, run_guarded, stop_leftovers  # noqa: E402, F401

if __name__ == "__main__":
    sys.exit(main())
