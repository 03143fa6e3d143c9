"""``make i18n``: OCA's click-odoo-makepot exports each of our addons' .pot
(``<addon>/i18n/<addon>.pot``) from one throwaway install of them all and merges it into the
addon's .po files; the harness then sets the project line of the headers (the catalogs serve
every supported series) and lists what is left to translate."""

from __future__ import annotations

import re
import shutil

import odoo_source

from .common import LOG_DIR, REPO, HarnessError, display, free_port, manifest, say, tail
from .deps import pip_deps
from .install import click_odoo, odoo_install, write_odoo_conf
from .odoo import installable_addons, require_odoo
from .postgres import Postgres
from .session import Session, stop_leftovers


def _set_project_headers(name: str) -> None:
    """The catalogs serve every series the addon supports, whichever Odoo exported them."""
    i18n = REPO / name / "i18n"
    series = " and ".join(odoo_source.SUPPORTED_SERIES)
    project = f"{name} {manifest(name)['version']} (Odoo {series})"
    header = f'"Project-Id-Version: {project}\\n"'
    for path in (i18n / f"{name}.pot", *sorted(i18n.glob("*.po"))):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        text = re.sub(r'^"Project-Id-Version: .*"$', lambda _m: header, text, count=1, flags=re.M)
        path.write_text(text, encoding="utf-8")


def _untranslated(name: str) -> int:
    """List what is left to translate in the addon's .po files: 1 if anything is."""
    import polib  # noqa: PLC0415 - requirements-test.txt; only this command needs it

    i18n = REPO / name / "i18n"
    pot = i18n / f"{name}.pot"
    if not pot.is_file():
        say(f"{name}: no translatable term (no .pot written)")
        return 0
    msgids = len([e for e in polib.pofile(str(pot)) if e.msgid])
    say(f"{display(pot)}: {msgids} terms")
    status = 0
    for po in sorted(i18n.glob("*.po")):
        catalog = polib.pofile(str(po))
        todo = [e.msgid for e in catalog if not e.translated()]
        say(f"{display(po)}: {len(catalog.translated_entries())}/{msgids} translated")
        for msgid in todo[:30]:
            print(f"    untranslated or fuzzy: {msgid[:90]!r}", flush=True)
        if len(todo) > 30:
            print(f"    ... and {len(todo) - 30} more", flush=True)
        status = status or (1 if todo else 0)
    return status


def cmd_i18n(_args=None) -> int:
    """Regenerate each addon's .pot and merge it into its .po files with click-odoo-makepot
    (OCA's click-odoo-contrib: Odoo's own export, then GNU gettext's msgmerge, obsolete
    entries purged), on one throwaway install of our addons; then list what is left to
    translate."""
    pip_deps()
    odoo = require_odoo()
    if shutil.which("msgmerge") is None:
        raise HarnessError("msgmerge not found: install GNU gettext (Debian package gettext)")
    stop_leftovers(quiet=True)
    session = Session("i18n")
    pg = Postgres(session).start()
    db = "omni_i18n"
    conf = write_odoo_conf(
        session, odoo, pg, name="i18n", db_name=db, http_port=free_port(), demo=False
    )
    ours = installable_addons(odoo)[0]
    modules = ",".join(ours)
    odoo_install(session, odoo, conf, db, modules, demo=False)
    log = LOG_DIR / "i18n-makepot.log"
    cmd = [
        "-c",
        str(conf),
        "-d",
        db,
        "--addons-dir",
        str(REPO),
        "--modules",
        modules,
        "--msgmerge",
        "--purge-old-translations",
    ]
    say(f"click-odoo-makepot {modules}; log: {display(log)}")
    rc = click_odoo(session, odoo, "click-odoo-makepot", *cmd, log=log)
    session.close()
    if rc:
        raise HarnessError(f"click-odoo-makepot failed ({rc}):\n{tail(log)}")

    status = 0
    for name in ours:
        _set_project_headers(name)
        status = _untranslated(name) or status
    if status:
        say("translate the entries above (tests/unit/test_translations.py fails until then)")
    return status
