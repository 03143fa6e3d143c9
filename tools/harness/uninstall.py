"""``make uninstall-check``: install our addons with demo data, upgrade them (every stored
value must be kept: tools/upgrade_check.py takes the snapshots in ``odoo-bin shell``, see
``upgrade``), uninstall them with OCA's click-odoo-uninstall (the dependent ones first;
nothing may be left: tools/upgrade_check.py lists what is), then run Odoo's payment suites
on that database."""

from __future__ import annotations

import time

from .common import LOG_DIR, HarnessError, banner, dependency_order, display, free_port, say, tail
from .deps import pip_deps
from .install import click_odoo, install_with_demo, write_odoo_conf
from .odoo import installable_addons, require_odoo
from .postgres import Postgres
from .session import Session, stop_leftovers
from .suites import run_odoo_suites
from .upgrade import shell_step, snapshot_differences, upgrade


def _upgrade_keeps_values(session, odoo, conf, db, ours: list[str]) -> tuple[bool, str]:
    say("seeding settings, reminders and audit rows; snapshot of every stored value")
    shell_step(session, odoo, conf, db, "seed", ours)
    before = shell_step(session, odoo, conf, db, "snapshot", ours)
    rc, problems, _log = upgrade(session, odoo, conf, db, ours)
    after = shell_step(session, odoo, conf, db, "snapshot", ours)
    records, values, differences = snapshot_differences(before, after)
    ok = rc == 0 and not problems and not differences and records > 0
    for text in (differences + problems)[:20]:
        print(f"    {text}", flush=True)
    return ok, (
        f"upgrade: {records} records of {len(before)} models, {values} stored values compared, "
        f"{len(differences)} changed, {len(problems)} error records -> "
        f"{'ok' if ok else 'FAILED'}"
    )


def _uninstall_leaves_nothing(session, odoo, conf, db, ours: list[str]) -> tuple[bool, str]:
    log = LOG_DIR / "uninstall-check-uninstall.log"
    modules = ",".join(reversed(ours))  # the dependent ones first
    say(f"uninstalling {modules} (click-odoo-uninstall); log: {display(log)}")
    rc = click_odoo(
        session, odoo, "click-odoo-uninstall", "-c", str(conf), "-d", db, "-m", modules, log=log
    )
    if rc:
        raise HarnessError(f"click-odoo-uninstall failed ({rc}):\n{tail(log)}")
    left = shell_step(session, odoo, conf, db, "leftovers", ours)
    states = left.pop("states")
    leftovers = {key: value for key, value in left.items() if value}
    still = {name: state for name, state in states.items() if state != "uninstalled"}
    ok = not still and not leftovers
    return ok, (
        f"uninstall: modules {still or 'uninstalled'}, left behind: "
        f"{leftovers or 'nothing'} -> {'ok' if ok else 'FAILED'}"
    )


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
    ours = dependency_order(installable_addons(odoo)[0])
    install_with_demo(session, odoo, conf, db, ",".join(ours))
    upgrade_ok, upgrade_line = _upgrade_keeps_values(session, odoo, conf, db, ours)
    uninstall_ok, uninstall_line = _uninstall_leaves_nothing(session, odoo, conf, db, ours)
    suites = run_odoo_suites(
        session, odoo, conf, db, args.tags, context=f"after uninstalling {', '.join(ours)}"
    )
    session.close()
    ok = upgrade_ok and uninstall_ok and suites.ok
    lines = [f"uninstall-check of {', '.join(ours)}", upgrade_line, uninstall_line, *suites.lines]
    lines.append(f"{(time.monotonic() - started) / 60:.1f} min; logs: {display(LOG_DIR)}")
    print(banner(lines, "=" if ok else "!"), flush=True)
    if not ok:
        say("uninstall-check FAILED")
        return 1
    return 0
