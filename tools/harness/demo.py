"""``make run``: the demo on http://127.0.0.1:8069 with PostgreSQL and localstripe, until
Ctrl-C, every addon of ours that installs in this Odoo installed with demo data. The
installed demo database is kept between runs (keyed by our addons' files, the Odoo and the
day) as a backup folder of OCA's click-odoo-backupdb, restored with
click-odoo-restoredb. click-odoo-initdb's template cache does not fit: its templates live in
the cluster, and the harness's cluster is thrown away after each run."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import (
    LOG_DIR,
    LOOPBACK,
    REPO,
    HarnessError,
    addon_names,
    banner,
    display,
    free_port,
    http_status,
    say,
    stop_process,
    tail,
    warn,
)
from .deps import pip_deps
from .install import click_odoo, install_with_demo, write_odoo_conf
from .localstripe import LOCALSTRIPE_PUBLISHABLE_KEY, LOCALSTRIPE_SECRET_KEY, LocalStripe
from .odoo import Odoo, installable_addons, require_odoo
from .postgres import Postgres
from .session import Session, stop_leftovers

# `make run` keeps the freshly installed demo database here (click-odoo-backupdb's folder),
# keyed by our addons' sources, the Odoo version and the day, and restores it next time.
DEMO_CACHE_DIR = REPO / ".omni" / "demo-cache"
DEMO_SETUP_SCRIPT = REPO / "tools" / "demo_setup.py"
# The portal user of the demo data (omni_payment_methods/demo/res_partner_demo.xml).
DEMO_PORTAL_LOGIN = "jane.cooper@example.com"
DEMO_PORTAL_PASSWORD = "jane-demo"


def demo_cache_key(odoo: Odoo) -> str:
    """Changes with our addons' files, the Odoo in use and the day (the demo data computes
    expiry dates from the day of the install)."""
    digest = hashlib.sha256()
    for value in (odoo.version, odoo.origin, sys.executable, datetime.date.today().isoformat()):
        digest.update(f"{value}\0".encode())
    paths = sorted(path for name in addon_names() for path in (REPO / name).rglob("*"))
    for path in paths:
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _with_pg_tools(odoo: Odoo, pg: Postgres) -> dict:
    """Odoo's environment with the cluster's own binaries first on PATH: click-odoo-backupdb
    and click-odoo-restoredb run pg_dump and pg_restore by name."""
    env = odoo.env()
    env["PATH"] = f"{pg.bin}:{env.get('PATH', '')}"
    return env


def demo_cache_restore(
    session: Session, odoo: Odoo, pg: Postgres, conf: Path, cache: Path, db: str
) -> bool:
    """Create ``db`` from the cached backup (click-odoo-restoredb: the database and its
    filestore); False (and no database) if the cache is incomplete or the restore fails."""
    backup = cache / "backup"
    if not (cache / "complete").is_file() or not backup.is_dir():
        return False
    started = time.monotonic()
    # click-odoo-restoredb moves the filestore out of the backup folder: it gets a copy
    restored = session.work / "demo-backup"
    shutil.copytree(backup, restored)
    log = LOG_DIR / "run-restoredb.log"
    env = _with_pg_tools(odoo, pg)
    rc = click_odoo(
        session, odoo, "click-odoo-restoredb", "-c", str(conf), db, str(restored), log=log, env=env
    )
    shutil.rmtree(restored, ignore_errors=True)
    if rc:
        warn(f"the cached demo database could not be restored ({tail(log, 5)}): installing")
        args = ("-c", str(conf), "--if-exists", db)
        click_odoo(session, odoo, "click-odoo-dropdb", *args, log=log.with_suffix(".drop.log"))
        return False
    say(f"restored the installed demo database from the cache in {time.monotonic() - started:.0f}s")
    return True


def demo_cache_save(
    session: Session, odoo: Odoo, pg: Postgres, conf: Path, cache: Path, db: str
) -> None:
    """Keep a backup folder (click-odoo-backupdb: pg_dump and the filestore) of the freshly
    installed ``db``, for this key only."""
    with contextlib.suppress(OSError):
        shutil.rmtree(DEMO_CACHE_DIR)
    cache.mkdir(parents=True)
    log = LOG_DIR / "run-backupdb.log"
    args = ("-c", str(conf), "--format", "folder", db, str(cache / "backup"))
    rc = click_odoo(
        session, odoo, "click-odoo-backupdb", *args, log=log, env=_with_pg_tools(odoo, pg)
    )
    if rc:
        warn(f"demo cache not saved ({rc}): {tail(log, 5)}")
        shutil.rmtree(cache, ignore_errors=True)
        return
    (cache / "complete").write_text(f"{datetime.datetime.now().isoformat()}\n")
    say(f"kept the installed demo database for the next runs today: {display(cache)}")


def cmd_run(args) -> int:
    if not DEMO_SETUP_SCRIPT.is_file():
        raise HarnessError(f"{DEMO_SETUP_SCRIPT} is missing")
    pip_deps()
    odoo = require_odoo()
    secret = os.environ.get("STRIPE_SECRET_KEY", "").strip()
    publishable = os.environ.get("STRIPE_PUBLISHABLE_KEY", "").strip()
    if bool(secret) != bool(publishable):
        raise HarnessError("set both STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY, or neither")
    stop_leftovers(quiet=True)
    session = Session("run")
    pg = Postgres(session).start()
    setup_env = odoo.env()
    if secret:
        say("Stripe: the real API with the keys from STRIPE_SECRET_KEY/STRIPE_PUBLISHABLE_KEY")
        setup_env.pop("OMNI_STRIPE_API_BASE", None)
    else:
        stripe = LocalStripe(session, args.stripe_port).start(dict(os.environ))
        secret, publishable = LOCALSTRIPE_SECRET_KEY, LOCALSTRIPE_PUBLISHABLE_KEY
        setup_env["OMNI_STRIPE_API_BASE"] = stripe.url
    setup_env["OMNI_STRIPE_SECRET_KEY"] = secret
    setup_env["OMNI_STRIPE_PUBLISHABLE_KEY"] = publishable

    http_port = free_port(args.port)
    if http_port != args.port:
        warn(f"port {args.port} is busy on {LOOPBACK}: using {http_port}")
    db = args.database
    conf = write_odoo_conf(
        session, odoo, pg, name="run", db_name=db, http_port=http_port, demo=True, cron_threads=1
    )
    cache = DEMO_CACHE_DIR / demo_cache_key(odoo)
    if args.no_cache or not demo_cache_restore(session, odoo, pg, conf, cache, db):
        ours = installable_addons(odoo)[0]
        say(f"demo: installing {', '.join(ours)}")
        install_with_demo(session, odoo, conf, db, ",".join(ours))
        if not args.no_cache:
            demo_cache_save(session, odoo, pg, conf, cache, db)

    setup_log = LOG_DIR / "run-demo-setup.log"
    say(f"configuring the demo with {display(DEMO_SETUP_SCRIPT)}; log: {display(setup_log)}")
    with DEMO_SETUP_SCRIPT.open() as script, setup_log.open("w") as errors:
        rc = session.run(
            "odoo-shell",
            [*odoo.command, "shell", "-c", str(conf), "-d", db, "--no-http"],
            env=setup_env,
            stdin=script,
            stderr=errors,
        )
    if rc:
        raise HarnessError(f"{DEMO_SETUP_SCRIPT.name} failed ({rc}):\n{tail(setup_log)}")

    server_log = LOG_DIR / "run-odoo.log"
    url = f"http://{LOOPBACK}:{http_port}"
    out = server_log.open("w")
    # The server talks to localstripe through the addon's server-level setting (environment
    # OMNI_STRIPE_API_BASE, for providers in test mode), or to Stripe when it is not set.
    server_env = odoo.env()
    server_env.pop("OMNI_STRIPE_API_BASE", None)
    if setup_env.get("OMNI_STRIPE_API_BASE"):
        server_env["OMNI_STRIPE_API_BASE"] = setup_env["OMNI_STRIPE_API_BASE"]
    proc = subprocess.Popen(
        [*odoo.command, "-c", str(conf), "-d", db],
        env=server_env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    session.record_pid("odoo", proc.pid)
    session.on_close("Odoo", lambda: stop_process(proc, "Odoo"))
    deadline = time.monotonic() + 180
    while http_status(f"{url}/web/login", timeout=5) != 200:
        if proc.poll() is not None:
            raise HarnessError(f"Odoo exited with {proc.returncode}:\n{tail(server_log)}")
        if time.monotonic() > deadline:
            raise HarnessError(f"Odoo did not answer on {url}/web/login:\n{tail(server_log)}")
        time.sleep(0.5)
    print(
        banner(
            [
                f"Odoo {odoo.version} demo is running: {url}/web/login  (database {db})",
                "back office: admin / admin",
                f"portal user: {DEMO_PORTAL_LOGIN} / {DEMO_PORTAL_PASSWORD}",
                f"Stripe: {setup_env.get('OMNI_STRIPE_API_BASE') or 'the real API (your keys)'}",
                f"Odoo log: {display(server_log)}",
                "Everything listens on 127.0.0.1 only. Ctrl-C stops Odoo, localstripe and",
                "PostgreSQL and deletes the throwaway database.",
            ]
        ),
        flush=True,
    )
    try:
        rc = proc.wait()
    except KeyboardInterrupt:
        print("\n[omnictl] Ctrl-C: stopping Odoo, localstripe and PostgreSQL", flush=True)
        session.close()
        say("demo stopped, throwaway database removed")
        return 0
    if rc:
        raise HarnessError(f"Odoo exited with {rc}:\n{tail(server_log)}")
    return 0
