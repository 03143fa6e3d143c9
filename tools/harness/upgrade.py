"""``make upgrade-check FROM=REF`` (and ``make test`` given ``--upgrade-from REF``): a
database made by an older commit's addons, upgraded to the working tree's, must keep every
stored value. The addons of REF are exported with ``git archive`` into the session's
directory and installed with demo data (addons path: that tree, not the working tree);
tools/upgrade_check.py seeds what the demo lacks and takes a snapshot of every stored value
(in ``odoo-bin shell``); then Odoo runs on the working tree's addons with ``-u`` and the
snapshot is taken again: every record and value of the old one must be found unchanged (the
new one may have more), each of our addons that installs here must be ``installed``, and
the upgrade's log must hold no error. ``uninstall-check`` shares the snapshots."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import tarfile
import time
from pathlib import Path

from .common import (
    LOG_DIR,
    REPO,
    HarnessError,
    addon_names,
    banner,
    dependency_order,
    display,
    free_port,
    manifest,
    say,
    tail,
)
from .deps import pip_deps
from .install import install_problems, install_with_demo, write_odoo_conf
from .odoo import Odoo, installable_addons, optional_modules, require_odoo
from .postgres import Postgres
from .session import Session, stop_leftovers

UPGRADE_CHECK_SCRIPT = REPO / "tools" / "upgrade_check.py"
# the last commit with the single module omni_payment_methods, before it was split
DEFAULT_UPGRADE_FROM = "d28a3cd"


def shell_step(
    session: Session, odoo: Odoo, conf: Path, db: str, step: str, addons: list[str]
) -> dict:
    """Run one step of tools/upgrade_check.py in ``odoo-bin shell``, ``addons`` being ours
    in the installed tree; return its JSON."""
    out = session.work / f"{step}.json"
    out.unlink(missing_ok=True)
    log = LOG_DIR / f"{session.command}-{step}.log"
    env = {
        **odoo.env(),
        "OMNI_CHECK_STEP": step,
        "OMNI_CHECK_OUT": str(out),
        "OMNI_CHECK_ADDONS": ",".join(addons),
    }
    with UPGRADE_CHECK_SCRIPT.open() as script:
        rc = session.run(
            f"odoo-shell-{step}",
            [*odoo.command, "shell", "-c", str(conf), "-d", db, "--no-http"],
            env=env,
            log=log,
            stdin=script,
        )
    if rc or not out.exists():
        raise HarnessError(f"{session.command} step {step} failed ({rc}):\n{tail(log)}")
    return json.loads(out.read_text())


def _migration_constants(name: str) -> list:
    """The values of ``name = <literal>`` at the top of our migration scripts, read from
    the scripts' source, in version order."""
    values = []
    for script in sorted(REPO.glob("*/migrations/*/*.py")):
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
                name
            ]:
                values.append(ast.literal_eval(node.value))
    return values


def renamed_params() -> dict[str, str]:
    """The system parameters our migrations rename (``RENAMED_PARAMS = {old: new}``)."""
    renamed = {}
    for value in _migration_constants("RENAMED_PARAMS"):
        renamed.update(value)
    return renamed


def renamed_fields() -> dict[str, dict[str, str]]:
    """The fields our migrations rename (``RENAMED_FIELDS = {model: {old: new}}``)."""
    renamed = {}
    for value in _migration_constants("RENAMED_FIELDS"):
        for model, names in value.items():
            renamed.setdefault(model, {}).update(names)
    return renamed


def snapshot_differences(
    before: dict,
    after: dict,
    renamed: dict[str, str] | None = None,
    fields: dict[str, dict[str, str]] | None = None,
) -> tuple[int, int, list[str]]:
    """(records compared, values compared, differences) between two snapshots.

    :param renamed: system parameter keys a migration renames ({old: new}): a parameter
        whose key became its new name is not a difference
    :param fields: fields a migration renames ({model: {old: new}}): the old field's value
        is compared with the new field's
    """
    renamed = renamed or {}
    fields = fields or {}
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
            for old_name, old_value in row.items():
                values += 1
                name = fields.get(model, {}).get(old_name, old_name)
                value = old_value
                if model == "ir.config_parameter" and name == "key" and value in renamed:
                    value = renamed[value]
                if new.get(name, "<missing>") != value:
                    differences.append(
                        f"{model},{row['id']}.{name}: {value!r} -> {new.get(name, '<missing>')!r}"
                    )
    return records, values, differences


def upgrade(session: Session, odoo: Odoo, conf: Path, db: str, modules: list[str]) -> tuple:
    """``odoo-bin -u modules --stop-after-init``: (exit code, error records, log)."""
    log = LOG_DIR / f"{session.command}-upgrade.log"
    say(f"upgrading {', '.join(modules)} (-u); log: {display(log)}")
    cmd = [*odoo.command, "-c", str(conf), "-d", db, "-u", ",".join(modules), "--stop-after-init"]
    rc = session.run("odoo-upgrade", cmd, env=odoo.env(), log=log, stdin=subprocess.DEVNULL)
    return rc, install_problems(log), log


def export_addons(session: Session, ref: str) -> Path:
    """The addons (top folders holding __manifest__.py) of commit ``ref``, from git archive,
    in the session's directory."""
    git = ["git", "-C", str(REPO)]
    listed = subprocess.run(
        [*git, "ls-tree", "--name-only", "-r", ref], capture_output=True, text=True, check=False
    )
    if listed.returncode:
        raise HarnessError(f"git ls-tree {ref} failed: {listed.stderr.strip()}")
    names = sorted(
        path.split("/")[0]
        for path in listed.stdout.splitlines()
        if path.count("/") == 1 and path.endswith("/__manifest__.py")
    )
    if not names:
        raise HarnessError(f"{ref} has no addon (no top folder holding __manifest__.py)")
    tree = session.work / "upgrade-from"
    tree.mkdir()
    archive = session.work / "upgrade-from.tar"
    cmd = [*git, "archive", "--format=tar", "-o", str(archive), ref, *names]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode:
        raise HarnessError(f"git archive {ref} failed: {result.stderr.strip()}")
    with tarfile.open(archive) as tar:
        # git's own archive; the "data" filter where this Python has it (3.10.12+)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tree, **safe)  # noqa: S202
    archive.unlink()
    say(f"{ref}: exported {', '.join(names)} into {display(tree)}")
    return tree


def _old_install(
    session: Session, odoo: Odoo, pg: Postgres, db: str, tree: Path
) -> tuple[Path, list[str]]:
    """Install the old tree's addons (and the optional modules, such as queue_job, as the
    tests do) with demo data; return the configuration and the old addons installed."""
    installable, excluded = installable_addons(odoo, tree)
    if "omni_payment_methods" not in installable:
        raise HarnessError(f"the old tree's omni_payment_methods cannot install: {excluded}")
    old = dependency_order(
        [n for n in installable if not manifest(n, tree).get("auto_install")], tree
    )
    optional = [name for name, missing in optional_modules(odoo).items() if not missing]
    conf = write_odoo_conf(
        session,
        odoo,
        pg,
        name="upgrade-old",
        db_name=db,
        http_port=free_port(),
        demo=True,
        ours=tree,
    )
    install_with_demo(session, odoo, conf, db, ",".join([*old, *optional]), step="old-install")
    return conf, old


@dataclasses.dataclass
class UpgradeResult:
    ok: bool
    lines: list[str]


def run_upgrade_check(session: Session, odoo: Odoo, pg: Postgres, ref: str) -> UpgradeResult:
    """The old tree installed, seeded and snapshotted, upgraded to the working tree's
    addons, snapshotted again and compared; what each step found, for a banner."""
    started = time.monotonic()
    db = "omni_upgrade"
    tree = export_addons(session, ref)
    old_conf, old = _old_install(session, odoo, pg, db, tree)
    say("seeding settings, reminders and audit rows; snapshot of every stored value")
    shell_step(session, odoo, old_conf, db, "seed", old)
    before = shell_step(session, odoo, old_conf, db, "snapshot", old)
    conf = write_odoo_conf(
        session, odoo, pg, name="upgrade-new", db_name=db, http_port=free_port(), demo=True
    )
    rc, problems, log = upgrade(session, odoo, conf, db, old)
    ours = addon_names()
    after = shell_step(session, odoo, conf, db, "snapshot", ours)
    renames = renamed_params()
    field_renames = renamed_fields()
    records, values, differences = snapshot_differences(before, after, renames, field_renames)
    moved = [
        f"{row['key']} -> {renames[row['key']]}"
        for row in before.get("ir.config_parameter", [])
        if row["key"] in renames
    ]
    for text in (differences + problems)[:20]:
        print(f"    {text}", flush=True)
    values_ok = rc == 0 and not problems and not differences and records > 0
    states = shell_step(session, odoo, conf, db, "states", ours)
    expected, _excluded = installable_addons(odoo)
    not_installed = {n: s for n, s in states.items() if n in expected and s != "installed"}
    lines = [
        f"upgrade-check from {ref} ({', '.join(old)}) to the working tree ({odoo.version})",
        f"upgrade: {records} records of {len(before)} models, {values} stored values compared, "
        f"{len(differences)} changed, {len(problems)} error records, odoo exit code {rc} -> "
        f"{'ok' if values_ok else 'FAILED'}",
        f"parameters renamed by the migrations: {', '.join(moved) or 'none'}",
        "fields renamed by the migrations (old values compared with the new fields): "
        + ("; ".join(f"{model} {len(names)}" for model, names in field_renames.items()) or "none"),
        "modules after the upgrade: "
        + ", ".join(f"{name} {state}" for name, state in states.items())
        + f" -> {'FAILED: not installed: ' + ', '.join(not_installed) if not_installed else 'ok'}",
        f"{(time.monotonic() - started) / 60:.1f} min; upgrade log: {display(log)}",
    ]
    return UpgradeResult(values_ok and not not_installed, lines)


def cmd_upgrade_check(args) -> int:
    pip_deps()
    odoo = require_odoo()
    stop_leftovers(quiet=True)
    session = Session("upgrade-check")
    pg = Postgres(session).start()
    result = run_upgrade_check(session, odoo, pg, args.from_ref)
    session.close()
    print(banner(result.lines, "=" if result.ok else "!"), flush=True)
    if not result.ok:
        say("upgrade-check FAILED")
        return 1
    return 0
