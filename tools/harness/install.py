"""Installing our addons into a throwaway database: the Odoo configuration file (loopback,
one database, no database manager), ``odoo-bin -i`` whose log is read for errors and for
warnings about our addons, and the demo install that copes with trimmed Odoo trees (the demo
company's country is cleared when its localization cannot be installed). The project's own:
an install that logs an error or a warning about one of our addons counts as failed here."""

from __future__ import annotations

import re
import secrets
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
    display,
    free_port,
    say,
    tail,
    warn,
)
from .odoo import Odoo, missing_module_files
from .postgres import PG_USER, Postgres
from .session import Session

# "2025-01-01 10:00:00,123 4567 WARNING dbname odoo.modules.loading: message"
ODOO_LOG_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): "
    r"(?P<message>.*)$"
)


def write_odoo_conf(
    session: Session,
    odoo: Odoo,
    pg: Postgres,
    *,
    name: str,
    db_name: str,
    http_port: int,
    demo: bool,
    cron_threads: int = 0,
    ours: Path = REPO,
) -> Path:
    """``<name>.conf`` in the session's directory; ``ours``: where our addons are (the
    repository, or an older tree that ``upgrade-check`` exported)."""
    data_dir = session.work / "odoo-data"
    data_dir.mkdir(exist_ok=True)
    options = {
        "db_host": str(pg.socket_dir),
        "db_port": "5432",
        "db_user": PG_USER,
        "db_name": db_name,
        "dbfilter": f"^{db_name}$",
        "list_db": "False",
        "admin_passwd": secrets.token_urlsafe(24),
        "addons_path": odoo.addons_path_str(ours),
        "data_dir": str(data_dir),
        "http_interface": LOOPBACK,
        "http_port": str(http_port),
        "gevent_port": str(free_port()),
        "workers": "0",
        "max_cron_threads": str(cron_threads),
        "without_demo": "False" if demo else "True",  # a boolean on 19.0, truthy on 18.0
        "proxy_mode": "False",
        "log_level": "info",
    }
    conf = session.work / f"{name}.conf"
    conf.write_text("[options]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
    return conf


def odoo_log_records(path: Path):
    """Yield (level, logger, first line, full text) for each record of an Odoo log."""
    current = None
    try:
        fh = path.open(errors="replace")
    except OSError:
        return
    with fh:
        for raw in fh:
            line = raw.rstrip("\n")
            match = ODOO_LOG_RECORD.match(line)
            if match:
                if current:
                    yield current
                current = [match["level"], match["logger"], line, [line]]
            elif current:
                current[3].append(line)
            else:  # output before logging was set up (tracebacks of a crash)
                current = ["ERROR" if "Error" in line else "OUTPUT", "-", line, [line]]
    if current:
        yield current


def install_problems(log: Path) -> list[str]:
    """ERROR/CRITICAL records, and WARNING records that mention one of our addons."""
    ours = addon_names()
    problems = []
    for level, _logger, _first, lines in odoo_log_records(log):
        text = "\n".join(lines)
        if level in ("ERROR", "CRITICAL") or (
            level == "WARNING" and any(name in text for name in ours)
        ):
            problems.append(text)
    return problems


def run_install(
    session: Session,
    odoo: Odoo,
    conf: Path,
    db_name: str,
    modules: str,
    *,
    demo: bool,
    log: Path,
) -> tuple[int, list[str]]:
    """``odoo-bin -i modules --stop-after-init``: its exit code and the problems of its log."""
    cmd = [*odoo.command, "-c", str(conf), "-d", db_name, "-i", modules, "--stop-after-init"]
    if not demo:
        cmd.append("--without-demo=True")  # 19.0 reads a boolean; 18.0 any true value
    rc = session.run("odoo-install", cmd, env=odoo.env(), log=log, stdin=subprocess.DEVNULL)
    return rc, install_problems(log)


def odoo_install(
    session: Session,
    odoo: Odoo,
    conf: Path,
    db_name: str,
    modules: str,
    *,
    demo: bool,
    step: str = "install",
) -> None:
    log = LOG_DIR / f"{session.command}-{step}.log"
    say(
        f"installing {modules} into {db_name} ({'with' if demo else 'without'} demo data); "
        f"log: {display(log)}"
    )
    started = time.monotonic()
    rc, problems = run_install(session, odoo, conf, db_name, modules, demo=demo, log=log)
    if rc or problems:
        shown = "\n".join(problems[:20]) if problems else tail(log)
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise HarnessError(
            f"installing {modules} failed (odoo exit code {rc}, {len(problems)} error/warning "
            f"records; full log: {display(log)}):\n{shown}{more}"
        )
    say(f"installed in {time.monotonic() - started:.0f}s")


COMPANY_COUNTRY = (
    "company = env.ref('base.main_company')\n"
    "print('COUNTRY=%s' % (company.country_id.code or '').lower())\n"
)
CLEAR_COMPANY_COUNTRY = "env.ref('base.main_company').country_id = False\nenv.cr.commit()\n"


def _odoo_shell(odoo: Odoo, conf: Path, db: str, code: str) -> str:
    result = subprocess.run(
        [*odoo.command, "shell", "-c", str(conf), "-d", db, "--no-http", "--log-level=warn"],
        input=code,
        env=odoo.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise HarnessError(f"odoo shell failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result.stdout


def install_with_demo(
    session: Session, odoo: Odoo, conf: Path, db: str, modules: str, *, step: str = "install"
) -> None:
    """Install ``modules`` with demo data, in two steps: ``base`` first, whose demo company
    gets a country, and then the modules. In between, when the localization module of that
    country cannot be installed from this Odoo (trimmed source archives keep most addons by
    manifest only), the company's country is cleared: accounting then takes the generic
    chart of accounts, as in a database without demo data."""
    odoo_install(session, odoo, conf, db, "base", demo=True, step=f"{step}-base")
    out = _odoo_shell(odoo, conf, db, COMPANY_COUNTRY)
    code = next((ln.split("=", 1)[1] for ln in out.splitlines() if ln.startswith("COUNTRY=")), "")
    localization = f"l10n_{code}"
    if code and any((p / localization).is_dir() for p in odoo.addons_path):
        missing = missing_module_files(odoo, localization)
        if missing:
            warn(
                f"{localization} (the demo company's country) cannot be installed from this "
                f"Odoo ({', '.join(missing[:3])} missing): the demo company gets no country"
            )
            _odoo_shell(odoo, conf, db, CLEAR_COMPANY_COUNTRY)
    odoo_install(session, odoo, conf, db, modules, demo=True, step=step)


def click_odoo(
    session: Session, odoo: Odoo, tool: str, *args: str, log: Path, env: dict | None = None
) -> int:
    """Run one of OCA's click-odoo-contrib commands (requirements-test.txt) in Odoo's
    interpreter, its output in ``log``; return its exit code."""
    path = Path(sys.executable).parent / tool
    if not path.is_file():
        raise HarnessError(f"{path} not found: click-odoo-contrib is in requirements-test.txt")
    return session.run(
        tool, [str(path), *args], env=env or odoo.env(), log=log, stdin=subprocess.DEVNULL
    )


def copy_database(
    session: Session, odoo: Odoo, conf: Path, source: str, target: str, *, step: str = "copydb"
) -> None:
    """``target`` as a copy of the installed ``source``, database and filestore
    (click-odoo-copydb): one install serves our suites and Odoo's."""
    log = LOG_DIR / f"{session.command}-{step}.log"
    rc = click_odoo(session, odoo, "click-odoo-copydb", "-c", str(conf), source, target, log=log)
    if rc:
        raise HarnessError(f"click-odoo-copydb {source} {target} failed ({rc}):\n{tail(log)}")
