"""Shared helpers of the benchmarks: a throwaway PostgreSQL with the addon installed, Odoo
loaded in this process, SQL query capture, statistics and result files.

The cluster, the Odoo config and the installation are tools/omnictl.py's (imported, not
copied): PostgreSQL runs as an unprivileged user on a unix socket only, in a fresh directory
that is removed at the end, also on Ctrl-C, SIGTERM or an error. Odoo is the one named by
ODOO_HOME (or importable by the interpreter running the bench, ``PYTHON``).

The bench keeps its throwaway directories under /tmp/omni-bench/ (not omnictl's
/tmp/omni-harness/), so that a ``make test`` started meanwhile, which cleans up the leftovers
of runs it does not recognise as omnictl's, never stops the bench's PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# OMNI_BENCH_RESULTS: write the results elsewhere (the CI's smoke run, tools/harness/bench.py)
RESULTS = Path(os.environ.get("OMNI_BENCH_RESULTS") or BENCH / "results")

os.environ.setdefault("OMNI_HARNESS_DIR", "/tmp/omni-bench")
sys.path.insert(0, str(REPO / "tools"))

import omnictl  # noqa: E402

ADDON = omnictl.ADDON
#: what the benchmarks install: the saved methods and automatic charging (omni_pan_base with
#: them as a dependency; without queue_job, whose path is measured on its own)
BENCH_MODULES = ("omni_payment_methods", "omni_payment_charging")
TEMPLATE_DB = "bench_template"

# PostgreSQL settings of the bench cluster, on top of omnictl's (fsync off, unix socket
# only): a modest production-like memory budget for a 24 GiB machine.
PG_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "effective_cache_size": "8GB",
    "random_page_cost": "1.1",
}


def say(message: str = "") -> None:
    print(f"[bench] {message}" if message else "", flush=True)


# --------------------------------------------------------------------------- statistics


def median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def p95(values):
    """Nearest-rank 95th percentile."""
    values = sorted(values)
    if not values:
        return None
    return values[max(0, math.ceil(0.95 * len(values)) - 1)]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "runs": len(ms),
        "median_ms": round(median(ms), 3),
        "p95_ms": round(p95(ms), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
    }


# --------------------------------------------------------------------------- SQL capture

_FROM_TABLE = re.compile(r"\bFROM\s+\"?(\w+)\"?", re.IGNORECASE)
_TARGET_TABLE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


def query_kind(query: str) -> str:
    """'SELECT payment_token', 'INSERT mail_message', 'SAVEPOINT', ..."""
    words = query.split(None, 1)
    verb = words[0].upper() if words else "?"
    if verb in ("INSERT", "UPDATE", "DELETE"):
        target = _TARGET_TABLE.match(query)
        return f"{verb} {target[1]}" if target else verb
    if verb in ("SELECT", "WITH"):
        table = _FROM_TABLE.search(query)
        return f"SELECT {table[1]}" if table else "SELECT"
    return verb


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_SPACES = re.compile(r"\s+")


def _top_level(query: str) -> str:
    """``query`` without what is inside parentheses (sub-queries, IN lists, functions)."""
    out, depth = [], 0
    for char in query:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def query_key(query: str) -> str:
    """The statement's verb and main table: 'SELECT account_move', 'UPDATE
    omni_charge_attempt', 'INSERT mail_message', 'SAVEPOINT', 'RELEASE', ... A SELECT's table
    is the first one of its top-level FROM (not a sub-query's); a WITH is keyed by the table
    of its final statement."""
    text = _LITERALS.sub("?", query)
    words = text.split(None, 1)
    verb = words[0].upper() if words else "?"
    if verb == "ROLLBACK" and "SAVEPOINT" in text.upper():
        return "ROLLBACK TO SAVEPOINT"
    if verb not in ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE"):
        return verb
    top = _top_level(text)
    if verb == "WITH":
        # WITH a AS (...), b AS (...) <statement>: the statement after the CTEs.
        match = re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\b", top[4:], re.IGNORECASE)
        if not match:
            return "WITH"
        return query_kind_top(top[4 + match.start() :])
    return query_kind_top(top) if verb == "SELECT" else query_kind(text)


def query_kind_top(top: str) -> str:
    """The key of a statement already stripped of its parentheses (``_top_level``)."""
    words = top.split(None, 1)
    verb = words[0].upper() if words else "?"
    if verb in ("INSERT", "UPDATE", "DELETE"):
        return query_kind(top)
    table = _FROM_TABLE.search(top)
    return f"SELECT {table[1]}" if table else "SELECT"


def query_shape(query: str, width: int = 240) -> str:
    """``query`` with its literals replaced by ``?`` and its spaces collapsed, cut to
    ``width`` characters: the same statement with other values has the same shape."""
    key = query_key(query)
    if key in ("SAVEPOINT", "RELEASE", "ROLLBACK TO SAVEPOINT"):
        return key  # its name is new each time
    return _SPACES.sub(" ", _LITERALS.sub("?", query)).strip()[:width]


def query_profile(queries) -> dict:
    """``{key: {"count": n, "shapes": {shape: n}}}`` of the statements of a
    ``capture_queries(keep=True)`` log (``QueryLog.queries``)."""
    profile: dict = {}
    for text, _params, _delay in queries:
        entry = profile.setdefault(query_key(text), {"count": 0, "shapes": Counter()})
        entry["count"] += 1
        entry["shapes"][query_shape(text)] += 1
    return {
        key: {"count": entry["count"], "shapes": dict(entry["shapes"])}
        for key, entry in profile.items()
    }


class QueryLog:
    """Queries executed by Odoo cursors in this thread (Cursor.execute's query hooks)."""

    def __init__(self, keep: bool):
        self.keep = keep
        self.count = 0
        self.seconds = 0.0
        self.kinds: Counter = Counter()
        self.kind_seconds: Counter = Counter()
        self.queries: list[tuple[str, object, float]] = []

    def hook(self, _cr, query, params, _start, delay):
        self.count += 1
        self.seconds += delay
        text = query.decode() if isinstance(query, bytes) else str(query)
        kind = query_kind(text)
        self.kinds[kind] += 1
        self.kind_seconds[kind] += delay
        if self.keep:
            self.queries.append((text, params, delay))


@contextlib.contextmanager
def capture_queries(keep: bool = False):
    thread = threading.current_thread()
    log = QueryLog(keep)
    previous = list(getattr(thread, "query_hooks", ()))
    thread.query_hooks = [*previous, log.hook]
    try:
        yield log
    finally:
        thread.query_hooks = previous


# --------------------------------------------------------------------------- machine


def machine_info(cluster: Cluster | None = None) -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu,
        "cpus_available": len(os.sched_getaffinity(0)),
        "memory_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "loadavg_1_5_15_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "omni_*"],
            capture_output=True,
            text=True,
            check=False,
        )
        info["addon_commit"] = out.stdout.strip() + (
            " + uncommitted changes" if dirty.stdout.strip() else ""
        )
    if cluster is not None:
        info["odoo"] = cluster.odoo.version
        with contextlib.suppress(Exception):
            conn = cluster.connect("postgres", autocommit=True)
            try:
                with conn.cursor() as cur:
                    cur.execute("SHOW server_version")
                    info["postgresql"] = cur.fetchone()[0]
            finally:
                conn.close()
        info["postgresql_settings"] = {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            **PG_SETTINGS,
        }
    return info


# --------------------------------------------------------------------------- results


def set_results_dir(path: Path) -> None:
    global RESULTS
    RESULTS = Path(path)


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside (results elsewhere: whole)."""
    try:
        return str(Path(path).relative_to(REPO))
    except ValueError:
        return str(path)


def write_json(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    say(f"wrote {shown(path)}")
    return path


def read_json(name: str) -> dict | None:
    path = RESULTS / name
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- the cluster


class Cluster:
    """A throwaway PostgreSQL with the saved methods and automatic charging modules installed
    in a template database.

    ``create_db(name)`` copies the template (a second or two); ``registry(name)`` loads Odoo
    in this process on that database. Use it as a context manager: everything is stopped and
    removed at the end.
    """

    def __init__(self):
        self.session = None
        self.pg = None
        self.odoo = None
        self.conf = None
        self._odoo_loaded = False
        self._registries = {}

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Cluster:
        omnictl.install_signal_handlers()
        stop_bench_leftovers()
        self.odoo = omnictl.require_odoo()
        self.session = omnictl.Session("bench")
        self.pg = omnictl.Postgres(self.session).start()
        self._tune_postgres()
        self.conf = omnictl.write_odoo_conf(
            self.session,
            self.odoo,
            self.pg,
            name="bench",
            db_name=TEMPLATE_DB,
            http_port=omnictl.free_port(),
            demo=False,
        )
        started = time.monotonic()
        omnictl.odoo_install(
            self.session, self.odoo, self.conf, TEMPLATE_DB, ",".join(BENCH_MODULES), demo=False
        )
        self.install_seconds = time.monotonic() - started
        return self

    def __exit__(self, *_exc):
        self.close()
        return False

    def close(self) -> None:
        if self._odoo_loaded:
            with contextlib.suppress(Exception):
                import odoo  # noqa: PLC0415

                odoo.sql_db.close_all()
        if self.session is not None:
            self.session.close()
            say("PostgreSQL stopped, throwaway directory removed")

    def _tune_postgres(self) -> None:
        conn = self.connect("postgres", autocommit=True)
        try:
            with conn.cursor() as cur:
                for name, value in PG_SETTINGS.items():
                    cur.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        finally:
            conn.close()
        pg = self.pg
        result = pg._run(
            str(pg.bin / "pg_ctl"), "-D", str(pg.data), "-l", str(pg.log), "-w", "restart"
        )
        if result.returncode:
            raise omnictl.HarnessError(f"PostgreSQL restart failed:\n{result.stderr}")
        self.session.record_pid("postgres", pg.postmaster_pid())

    # ------------------------------------------------------------------ databases

    def connect(self, db: str, autocommit: bool = False):
        import psycopg2  # noqa: PLC0415 - Odoo's requirement, present in PYTHON

        conn = psycopg2.connect(
            host=str(self.pg.socket_dir), port=5432, dbname=db, user=omnictl.PG_USER
        )
        conn.autocommit = autocommit
        return conn

    def create_db(self, name: str) -> str:
        conn = self.connect("postgres", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        finally:
            conn.close()
        return name

    # ------------------------------------------------------------------ Odoo in-process

    def load_odoo(self):
        if not self._odoo_loaded:
            if self.odoo.pythonpath and self.odoo.pythonpath not in sys.path:
                sys.path.insert(0, self.odoo.pythonpath)
            os.environ["TZ"] = "UTC"  # as odoo-bin does
            time.tzset()
            odoo = import_odoo()

            log = omnictl.LOG_DIR / "bench-odoo.log"
            odoo.tools.config.parse_config(
                ["-c", str(self.conf), f"--logfile={log}"], setup_logging=True
            )
            self._odoo_loaded = True
            say(f"Odoo {self.odoo.version} loaded in-process; its log: {log.relative_to(REPO)}")
        import odoo  # noqa: PLC0415

        return odoo

    def registry(self, db: str):
        self.load_odoo()
        if db not in self._registries:
            from odoo.modules.registry import Registry  # noqa: PLC0415

            self._registries[db] = Registry(db)
        return self._registries[db]

    @contextlib.contextmanager
    def env(self, db: str, uid: int | None = None, context: dict | None = None, commit=True):
        """An Environment on a new cursor, committed at the end (or rolled back)."""
        odoo = self.load_odoo()
        registry = self.registry(db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, uid or odoo.SUPERUSER_ID, context or {})
            try:
                yield env
            except BaseException:
                cr.rollback()
                raise
            if commit:
                env.flush_all()
                cr.commit()
            else:
                cr.rollback()


def import_odoo():
    """The ``odoo`` package with the parts the benchmarks use imported. 18.0's ``import odoo``
    sets everything up; 19.0's ``odoo`` is a namespace package set up by ``odoo.init`` (as
    odoo-bin does), whose submodules are imported one by one."""
    import importlib  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    if importlib.util.find_spec("odoo.init") is not None:
        importlib.import_module("odoo.init")
    for name in ("odoo.api", "odoo.sql_db", "odoo.tools", "odoo.modules.registry"):
        importlib.import_module(name)
    import odoo  # noqa: PLC0415

    return odoo


def stop_bench_leftovers() -> None:
    """Stop the servers of bench runs whose process is gone (killed with SIGKILL).

    The bench keeps its runs under their own harness directory (OMNI_HARNESS_DIR above), so
    omnictl's own clean-up of dead runs applies to them only.
    """
    omnictl.stop_leftovers(quiet=True)


def run_main(main) -> int:
    """Run a bench entry point with omnictl's error handling (clean stop on Ctrl-C)."""
    return omnictl.run_guarded(main, "bench")
