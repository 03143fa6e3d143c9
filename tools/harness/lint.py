"""``make lint`` (and the start of ``make test``): ruff check, ruff format --check, pylint-odoo
(OCA's mandatory checks, on every addon folder) and prettier on our addons' XML, side by
side, one line each.
Invoked directly rather than through pre-commit: OCA's pre-commit configuration fetches its
hooks by git clone, which this machine cannot do, and ``make test`` runs the linters while
the servers start."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .common import LOG_DIR, REPO, addon_names, display, say, tail
from .deps import PRETTIER, cmd_deps
from .session import Session

PYLINTRC = REPO / ".pylintrc-mandatory"


@dataclasses.dataclass
class Linter:
    name: str
    command: list[str]
    log: Path
    proc: subprocess.Popen | None = None
    waiter: threading.Thread | None = None
    started: float = 0.0
    seconds: float = 0.0
    rc: int | None = None

    def _wait(self) -> None:
        self.rc = self.proc.wait()
        self.seconds = time.monotonic() - self.started


def linters() -> list[Linter]:
    """The linters of the repository (`make lint`; `make test` runs them first)."""
    python = [sys.executable, "-m"]
    addons = addon_names()
    # prettier fails on a glob that matches nothing: only the addons that have XML
    xml = [f"{a}/**/*.xml" for a in addons if next((REPO / a).rglob("*.xml"), None)]
    commands = {
        "ruff check": [*python, "ruff", "check", "--no-cache", "."],
        "ruff format": [*python, "ruff", "format", "--no-cache", "--check", "."],
        # the OCA mandatory checks, listed in .pylintrc-mandatory
        "pylint-odoo": [*python, "pylint", f"--rcfile={PYLINTRC.name}", *addons],
        "prettier": [str(PRETTIER), "--check", "--no-color", *xml],
    }
    return [
        Linter(name, cmd, LOG_DIR / f"lint-{name.replace(' ', '-')}.log")
        for name, cmd in commands.items()
    ]


def start_linters(session: Session) -> list[Linter]:
    """Start every linter in the background (they run side by side, logs in .omni/logs)."""
    started = []
    for linter in linters():
        linter.started = time.monotonic()
        linter.proc = session.spawn(
            f"lint-{linter.name}", linter.command, env=dict(os.environ), log=linter.log
        )
        # a thread per linter notes when it ends, while the caller goes on
        linter.waiter = threading.Thread(target=linter._wait, daemon=True)
        linter.waiter.start()
        started.append(linter)
    return started


def finish_linters(running: list[Linter]) -> list[Linter]:
    """Wait for the linters, print one line each (and the output of those that failed);
    return the failed ones."""
    for linter in running:
        while linter.waiter.is_alive():  # a plain join() would defer Ctrl-C until it ends
            linter.waiter.join(0.1)
    failed = [linter for linter in running if linter.rc]
    for linter in failed:
        print(f"\n[omnictl] {linter.name} FAILED (log: {display(linter.log)}):", flush=True)
        print(tail(linter.log, 60), flush=True)
    say(
        "linters: "
        + ", ".join(
            f"{linter.name} {'FAILED' if linter.rc else 'ok'} ({linter.seconds:.1f}s)"
            for linter in running
        )
    )
    return failed


def cmd_lint(_args=None) -> int:
    cmd_deps()
    session = Session("lint")
    failed = finish_linters(start_linters(session))
    session.close()
    if failed:
        say(f"lint FAILED: {', '.join(linter.name for linter in failed)}")
        return 1
    return 0
