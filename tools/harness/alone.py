"""The "installs alone" step of ``make test``: each of our addons that is not auto_install,
installed on its own (no demo data) into a database of the test run's cluster, must install
without an error record and with exit code 0: its manifest's ``depends`` must be enough.

Lean: the addons that need the same Odoo modules (their ``depends`` outside our addons,
through the ones of ours they depend on) share a template database holding exactly those
modules, installed once (from a smaller template when one fits); each addon is installed
into a copy of its template (OCA's click-odoo-copydb). A template has nothing an addon's
install from scratch would not get: ``-i`` on a fresh database installs the same modules,
auto_install ones included. The project's own: no ecosystem tool checks this."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from .common import LOG_DIR, REPO, display, free_port, manifest, say
from .install import copy_database, run_install, write_odoo_conf
from .odoo import Odoo
from .postgres import Postgres
from .session import Session


@dataclasses.dataclass
class AloneResult:
    """One addon installed alone: ok, seconds, what went wrong."""

    name: str
    ok: bool
    seconds: float
    detail: str = ""


def odoo_depends(name: str, ours: list[str], root: Path = REPO) -> frozenset[str]:
    """The modules outside ``ours`` that ``name`` depends on, directly or through ours."""
    needed: set[str] = set()
    for dep in manifest(name, root).get("depends", []):
        needed |= odoo_depends(dep, ours, root) if dep in ours else {dep}
    return frozenset(needed)


def alone_candidates(installable: list[str], root: Path = REPO) -> list[str]:
    """The addons installed alone: those whose manifest does not set auto_install."""
    return [name for name in installable if not manifest(name, root).get("auto_install")]


def _conf(session: Session, odoo: Odoo, pg: Postgres, db: str) -> Path:
    return write_odoo_conf(
        session, odoo, pg, name=db, db_name=db, http_port=free_port(), demo=False
    )


def _template(
    session: Session, odoo: Odoo, pg: Postgres, modules: frozenset, templates: dict
) -> tuple[str, str]:
    """A database holding ``modules`` (and base): (its name, "" or what went wrong).
    Copied from the largest template already made whose modules are a subset."""
    db = f"omni_alone_tpl{len(templates)}"
    conf = _conf(session, odoo, pg, db)
    smaller = [mods for mods, (_, error) in templates.items() if mods <= modules and not error]
    base = max(smaller, key=len, default=frozenset())
    if base:
        copy_database(session, odoo, conf, templates[base][0], db, step=f"alone-{db}-copy")
    todo = sorted(modules - base) or ["base"]
    log = LOG_DIR / f"{session.command}-alone-{db}.log"
    say(f"installs alone: template {db} with {', '.join(todo)}; log: {display(log)}")
    rc, problems = run_install(session, odoo, conf, db, ",".join(todo), demo=False, log=log)
    error = f"template {db} failed (exit code {rc}, {len(problems)} error records)"
    return db, (error if rc or problems else "")


def _install_alone(
    session: Session, odoo: Odoo, pg: Postgres, name: str, template: str
) -> AloneResult:
    db = f"omni_alone_{name}"
    conf = _conf(session, odoo, pg, db)
    started = time.monotonic()
    copy_database(session, odoo, conf, template, db, step=f"alone-{name}-copy")
    log = LOG_DIR / f"{session.command}-alone-{name}.log"
    rc, problems = run_install(session, odoo, conf, db, name, demo=False, log=log)
    seconds = time.monotonic() - started
    if rc or problems:
        for text in problems[:10]:
            print(text, flush=True)
        detail = f"exit code {rc}, {len(problems)} error records; log: {display(log)}"
        say(f"installs alone: {name} FAILED ({detail})")
        return AloneResult(name, False, seconds, detail)
    say(f"installs alone: {name} ok ({seconds:.0f}s)")
    return AloneResult(name, True, seconds)


def installs_alone(
    session: Session, odoo: Odoo, pg: Postgres, installable: list[str]
) -> list[AloneResult]:
    """Install each non-auto_install addon of ``installable`` alone, on its template."""
    results = []
    templates: dict[frozenset, tuple[str, str]] = {}
    groups: dict[frozenset, list[str]] = {}
    for name in alone_candidates(installable):
        groups.setdefault(odoo_depends(name, installable), []).append(name)
    for modules in sorted(groups, key=lambda mods: (len(mods), sorted(mods))):
        started = time.monotonic()
        templates[modules] = _template(session, odoo, pg, modules, templates)
        db, error = templates[modules]
        if error:
            say(f"installs alone: {error}")
            results += [AloneResult(name, False, 0.0, error) for name in groups[modules]]
            continue
        say(f"installs alone: template {db} ready in {time.monotonic() - started:.0f}s")
        results += [_install_alone(session, odoo, pg, name, db) for name in groups[modules]]
    return results
