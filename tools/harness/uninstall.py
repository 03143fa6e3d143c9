"""``make uninstall-check``: install the addon with demo data, upgrade it (every stored
value must be kept: tools/upgrade_check.py takes the snapshots in ``odoo-bin shell``),
uninstall it with OCA's click-odoo-uninstall (nothing may be left: tools/upgrade_check.py
lists what is), then run Odoo's payment suites on that database."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from .common import ADDON, LOG_DIR, REPO, HarnessError, banner, display, free_port, say, tail
from .deps import pip_deps
from .install import click_odoo, install_problems, install_with_demo, write_odoo_conf
from .odoo import Odoo, require_odoo
from .postgres import Postgres
from .session import Session, stop_leftovers
from .suites import run_odoo_suites

UPGRADE_CHECK_SCRIPT = REPO / "tools" / "upgrade_check.py"


def _shell_step(session: Session, odoo: Odoo, conf: Path, db: str, step: str) -> dict:
    """Run one step of tools/upgrade_check.py in ``odoo-bin shell``; return its JSON."""
    out = session.work / f"{step}.json"
    log = LOG_DIR / f"uninstall-check-{step}.log"
    env = {**odoo.env(), "OMNI_CHECK_STEP": step, "OMNI_CHECK_OUT": str(out)}
    with UPGRADE_CHECK_SCRIPT.open() as script:
        rc = session.run(
            f"odoo-shell-{step}",
            [*odoo.command, "shell", "-c", str(conf), "-d", db, "--no-http"],
            env=env,
            log=log,
            stdin=script,
        )
    if rc or not out.exists():
        raise HarnessError(f"uninstall-check step {step} failed ({rc}):\n{tail(log)}")
    return json.loads(out.read_text())


def _snapshot_differences(before: dict, after: dict) -> tuple[int, int, list[str]]:
    """(records compared, values compared, differences) between two snapshots."""
    records = values = 0
    differences = []
    for model, rows in before.items():
        after_rows = {row["id"]: row for row in after.get(model, [])}
        for row in rows:
            records += 1
            new = after_rows.get(row["id"])
            if new is None:
                differences.append(f"{model},{row['id']}: gone after the upgrade")
                continue
            for name, value in row.items():
                values += 1
                if new.get(name, "<missing>") != value:
                    differences.append(
                        f"{model},{row['id']}.{name}: {value!r} -> {new.get(name, '<missing>')!r}"
                    )
    return records, values, differences


def cmd_uninstall_check(args) -> int:
    pip_deps()
    odoo = require_odoo()
    stop_leftovers(quiet=True)
    session = Session("uninstall-check")
    pg = Postgres(session).start()
    db = "omni_uninstall"
    conf = write_odoo_conf(
        session, odoo, pg, name="uninstall", db_name=db, http_port=free_port(), demo=True
    )
    started = time.monotonic()
    install_with_demo(session, odoo, conf, db, ADDON)
    lines = []
    ok = True

    say("seeding settings, reminders and audit rows; snapshot of every stored value")
    _shell_step(session, odoo, conf, db, "seed")
    before = _shell_step(session, odoo, conf, db, "snapshot")
    log = LOG_DIR / "uninstall-check-upgrade.log"
    say(f"upgrading {ADDON} (-u); log: {display(log)}")
    cmd = [*odoo.command, "-c", str(conf), "-d", db, "-u", ADDON, "--stop-after-init"]
    rc = session.run("odoo-upgrade", cmd, env=odoo.env(), log=log, stdin=subprocess.DEVNULL)
    problems = install_problems(log)
    after = _shell_step(session, odoo, conf, db, "snapshot")
    records, values, differences = _snapshot_differences(before, after)
    upgrade_ok = rc == 0 and not problems and not differences and records > 0
    ok = ok and upgrade_ok
    lines.append(
        f"upgrade: {records} records of {len(before)} models, {values} stored values compared, "
        f"{len(differences)} changed, {len(problems)} error records -> "
        f"{'ok' if upgrade_ok else 'FAILED'}"
    )
    for text in (differences + problems)[:20]:
        print(f"    {text}", flush=True)

    log = LOG_DIR / "uninstall-check-uninstall.log"
    say(f"uninstalling {ADDON} (click-odoo-uninstall); log: {display(log)}")
    args_ = ("-c", str(conf), "-d", db, "-m", ADDON)
    rc = click_odoo(session, odoo, "click-odoo-uninstall", *args_, log=log)
    if rc:
        raise HarnessError(f"click-odoo-uninstall failed ({rc}):\n{tail(log)}")
    left = _shell_step(session, odoo, conf, db, "leftovers")
    leftovers = {key: value for key, value in left.items() if key != "state" and value}
    uninstall_ok = left["state"] == "uninstalled" and not leftovers
    ok = ok and uninstall_ok
    lines.append(
        f"uninstall: module {left['state']}, left behind: {leftovers or 'nothing'} -> "
        f"{'ok' if uninstall_ok else 'FAILED'}"
    )

    suites = run_odoo_suites(
        session, odoo, conf, db, args.tags, context=f"after uninstalling {ADDON}"
    )
    session.close()
    ok = ok and suites.ok
    lines.extend(suites.lines)
    lines.append(f"{(time.monotonic() - started) / 60:.1f} min; logs: {display(LOG_DIR)}")
    print(banner([f"uninstall-check of {ADDON}", *lines], "=" if ok else "!"), flush=True)
    if not ok:
        say("uninstall-check FAILED")
        return 1
    return 0
