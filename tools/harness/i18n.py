"""``make i18n``: OCA's click-odoo-makepot exports the addon's .pot from a throwaway install
and merges it into the .po files; the harness then sets the project line of the headers
(the catalogs serve every supported series) and lists what is left to translate."""

from __future__ import annotations

import ast
import re
import shutil

import odoo_source

from .common import ADDON, LOG_DIR, REPO, HarnessError, display, free_port, say, tail
from .deps import pip_deps
from .install import click_odoo, odoo_install, write_odoo_conf
from .odoo import require_odoo
from .postgres import Postgres
from .session import Session, stop_leftovers

I18N_DIR = REPO / ADDON / "i18n"
POT_FILE = I18N_DIR / f"{ADDON}.pot"


def cmd_i18n(_args=None) -> int:
    """Regenerate the .pot and merge it into the .po files with click-odoo-makepot (OCA's
    click-odoo-contrib: Odoo's own export, then GNU gettext's msgmerge, obsolete entries
    purged), on a throwaway install; then list what is left to translate."""
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
    odoo_install(session, odoo, conf, db, ADDON, demo=False)
    log = LOG_DIR / "i18n-makepot.log"
    cmd = [
        "-c",
        str(conf),
        "-d",
        db,
        "--addons-dir",
        str(REPO),
        "--modules",
        ADDON,
        "--msgmerge",
        "--purge-old-translations",
    ]
    say(f"click-odoo-makepot {ADDON}; log: {display(log)}")
    rc = click_odoo(session, odoo, "click-odoo-makepot", *cmd, log=log)
    session.close()
    if rc:
        raise HarnessError(f"click-odoo-makepot failed ({rc}):\n{tail(log)}")

    import polib  # noqa: PLC0415 - requirements-test.txt; only this command needs it

    # The catalogs serve every series the addon supports, whichever Odoo exported them.
    manifest = ast.literal_eval((REPO / ADDON / "__manifest__.py").read_text(encoding="utf-8"))
    series = " and ".join(odoo_source.SUPPORTED_SERIES)
    project = f"{ADDON} {manifest['version']} (Odoo {series})"
    header = f'"Project-Id-Version: {project}\\n"'
    for path in (POT_FILE, *sorted(I18N_DIR.glob("*.po"))):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r'^"Project-Id-Version: .*"$', lambda _m: header, text, count=1, flags=re.M)
        path.write_text(text, encoding="utf-8")

    msgids = len([e for e in polib.pofile(str(POT_FILE)) if e.msgid])
    status = 0
    for po in sorted(I18N_DIR.glob("*.po")):
        catalog = polib.pofile(str(po))
        todo = [e.msgid for e in catalog if not e.translated()]
        say(f"{display(po)}: {len(catalog.translated_entries())}/{msgids} translated")
        for msgid in todo[:30]:
            print(f"    untranslated or fuzzy: {msgid[:90]!r}", flush=True)
        if len(todo) > 30:
            print(f"    ... and {len(todo) - 30} more", flush=True)
        status = status or (1 if todo else 0)
    if status:
        say("translate the entries above (tests/unit/test_translations.py fails until then)")
    return status
