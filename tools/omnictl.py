#!/usr/bin/env python3
"""omnictl: run the demo and the tests of omni_payment_methods on throwaway local servers.

Every server it starts listens on 127.0.0.1 or on a unix socket only, lives in a fresh
directory under /tmp/omni-harness/ and is stopped (and the directory removed) when the
command ends, also on Ctrl-C, SIGTERM or an error.

Odoo is found the way integrators expect: the ``odoo`` package importable by the interpreter
running this script, or the Odoo 18.0 or 19.0 source tree named by ``ODOO_HOME`` (a directory
holding ``odoo-bin``; its addons are ``$ODOO_HOME/odoo/addons`` and/or ``$ODOO_HOME/addons``)
whose requirements that interpreter has.

Subcommands::

    deps            pip install -r requirements-test.txt and npm ci (each skipped when
                    already satisfied)
    run             the demo: PostgreSQL + localstripe + Odoo on http://127.0.0.1:8069
    test [-- ARGS]  the linters, then every test in one pytest run (ARGS go to pytest,
                    e.g. -- -k expiry)
    lint            the linters only: ruff check, ruff format --check, pylint-odoo (OCA
                    mandatory checks), prettier --check on the addon's XML
    i18n            regenerate the addon's .pot from a throwaway install and merge it into
                    its .po files
    odoo-suites     Odoo's own payment, payment_stripe and account_payment suites with the
                    addon installed
    uninstall-check install the addon with demo data, upgrade it (every stored value must
                    be kept), uninstall it (nothing may be left), then run Odoo's payment
                    suites on that database
    stop-leftovers  stop servers left behind by a killed run and remove their directories

Standard library only, Python 3.10+.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import contextlib
import dataclasses
import datetime
import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_source  # noqa: E402 - tools/odoo_source.py, beside this file

REPO = Path(__file__).resolve().parent.parent
ADDON = "omni_payment_methods"
# Odoo's major versions the addon installs on (tools/odoo_source.py SUPPORTED_SERIES)
SUPPORTED_MAJORS = tuple(int(series.split(".")[0]) for series in odoo_source.SUPPORTED_SERIES)
OPTIONAL_MODULES = ("queue_job",)  # tested with the addon when on the addons path
REQUIREMENTS = REPO / "requirements-test.txt"
LOG_DIR = REPO / ".omni" / "logs"
# `make run` keeps the freshly installed demo database here (a pg_dump and its filestore),
# keyed by the addon's sources, the Odoo version and the day, and restores it next time.
DEMO_CACHE_DIR = REPO / ".omni" / "demo-cache"
HARNESS_DIR = Path(os.environ.get("OMNI_HARNESS_DIR") or "/tmp/omni-harness")
LOCALSTRIPE_SCRIPT = REPO / "tools" / "localstripe_server.py"
DEMO_SETUP_SCRIPT = REPO / "tools" / "demo_setup.py"
UPGRADE_CHECK_SCRIPT = REPO / "tools" / "upgrade_check.py"
# The portal user of the demo data (omni_payment_methods/demo/res_partner_demo.xml).
DEMO_PORTAL_LOGIN = "jane.cooper@example.com"
DEMO_PORTAL_PASSWORD = "jane-demo"
PACKAGE_LOCK = REPO / "package-lock.json"
NODE_MODULES = REPO / "node_modules"
PRETTIER = NODE_MODULES / ".bin" / "prettier"
PYLINTRC = REPO / ".pylintrc-mandatory"
I18N_DIR = REPO / ADDON / "i18n"
POT_FILE = I18N_DIR / f"{ADDON}.pot"

LOCALSTRIPE_SECRET_KEY = "sk_test_omni"
LOCALSTRIPE_PUBLISHABLE_KEY = "pk_test_omni"
DEFAULT_LOCALSTRIPE_PORT = 8420
DEFAULT_ODOO_PORT = 8069
DEFAULT_SUITE_TAGS = "/payment,/payment_stripe,/account_payment"
# the subcommands that need Odoo: with ODOO_SOURCE they run under the interpreter built for it
ODOO_COMMANDS = ("run", "test", "odoo-suites", "uninstall-check", "i18n")
PG_USER = "odoo"  # Odoo refuses the "postgres" role; initdb creates this one as superuser
LOOPBACK = "127.0.0.1"

# "2025-01-01 10:00:00,123 4567 WARNING dbname odoo.modules.loading: message"
ODOO_LOG_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): "
    r"(?P<message>.*)$"
)

_last_signal: int | None = None
_SESSIONS: list = []


# --------------------------------------------------------------------------- output


def say(message: str = "") -> None:
    print(f"[omnictl] {message}" if message else "", flush=True)


def warn(message: str) -> None:
    print(f"[omnictl] WARNING: {message}", file=sys.stderr, flush=True)


class HarnessError(Exception):
    """A failure explained to the user in one message (no traceback)."""


def banner(lines: list[str], char: str = "=") -> str:
    width = max(72, *(len(line) + 4 for line in lines))
    rule = char * width
    return "\n".join([rule, *(f"{char} {line}" for line in lines), rule])


# --------------------------------------------------------------------------- signals


def _raise_on_signal(signum, _frame):
    global _last_signal
    _last_signal = signum
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_on_signal)


@contextlib.contextmanager
def signals_ignored():
    """Let a cleanup finish: a second Ctrl-C must not leave servers behind."""
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not in the main thread
            previous[signum] = signal.signal(signum, signal.SIG_IGN)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# --------------------------------------------------------------------------- processes


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child is not alive for our purposes
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def pid_cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def stop_process(proc: subprocess.Popen, name: str, *, grace: float = 15.0) -> None:
    """Stop a child: wait a little if it already got the terminal's Ctrl-C, then TERM, KILL."""
    if proc.poll() is not None:
        return
    if _last_signal == signal.SIGINT:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
            return
    for sig, timeout in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            warn(f"{name} (pid {proc.pid}) did not stop after {sig.name}")


def kill_pid(pid: int, name: str, *, grace: float = 10.0) -> None:
    """Last resort for a process that is not our child (postmaster, leftovers)."""
    for sig, timeout in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not pid_alive(pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)
    if pid_alive(pid):
        warn(f"could not stop {name} (pid {pid})")


def free_port(preferred: int | None = None) -> int:
    """A TCP port free on 127.0.0.1: ``preferred`` when it is free, else any."""
    candidates = ([preferred] if preferred else []) + [0]
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # as the servers do: a port in TIME_WAIT after the last run counts as free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise HarnessError("no free TCP port on 127.0.0.1")


def http_status(url: str, headers: dict | None = None, timeout: float = 2.0) -> int | None:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def tail(path: Path, lines: int = 40) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(content[-lines:])


def display(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


# --------------------------------------------------------------------------- session


class Session:
    """One command's throwaway directory, its servers and their cleanup.

    The directory /tmp/omni-harness/<command>-XXXX/ holds harness.json (the owner's pid and
    every server's pid) so that ``stop-leftovers`` can clean up after a killed run.
    """

    def __init__(self, command: str):
        self.command = command
        self._cleanups: list[tuple[str, object]] = []
        self._closed = False
        HARNESS_DIR.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PermissionError):
            HARNESS_DIR.chmod(0o1777 if os.geteuid() == 0 else 0o755)
        self.work = Path(tempfile.mkdtemp(prefix=f"{command}-", dir=HARNESS_DIR))
        self.work.chmod(0o755)
        self.state: dict = {
            "owner_pid": os.getpid(),
            "command": command,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "pids": {},
            "pgdata": None,
        }
        self.save()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        atexit.register(self.close)
        _SESSIONS.append(self)

    def save(self) -> None:
        tmp = self.work / "harness.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=1))
        tmp.replace(self.work / "harness.json")

    def record_pid(self, name: str, pid: int | None) -> None:
        if pid:
            self.state["pids"][name] = pid
        else:
            self.state["pids"].pop(name, None)
        if not self._closed:
            self.save()

    def on_close(self, name: str, func) -> None:
        self._cleanups.append((name, func))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with signals_ignored():
            for name, func in reversed(self._cleanups):
                try:
                    func()
                except Exception as exc:  # noqa: BLE001 - keep cleaning up
                    warn(f"while stopping {name}: {exc}")
            shutil.rmtree(self.work, ignore_errors=True)
            if self.work.exists():
                warn(f"could not remove {self.work}")

    # ----------------------------------------------------------------- children

    def run(
        self, name: str, cmd: list[str], *, env: dict, log: Path | None = None, **kwargs
    ) -> int:
        """Run a foreground child to its end (Ctrl-C reaches it through the terminal)."""
        out = open(log, "w") if log else None  # noqa: SIM115 - closed below
        if out:
            kwargs.update(stdout=out, stderr=subprocess.STDOUT)
        kwargs.setdefault("cwd", REPO)
        try:
            proc = subprocess.Popen(cmd, env=env, **kwargs)
            self.record_pid(name, proc.pid)
            try:
                return proc.wait()
            finally:
                stop_process(proc, name)
                self.record_pid(name, None)
        finally:
            if out:
                out.close()

    def spawn(self, name: str, cmd: list[str], *, env: dict, log: Path) -> subprocess.Popen:
        """Start a background server in its own session (the terminal's Ctrl-C skips it)."""
        out = open(log, "w")  # noqa: SIM115 - the child keeps it
        try:
            proc = subprocess.Popen(
                cmd,
                env=env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            out.close()
        self.record_pid(name, proc.pid)

        def _stop():
            stop_process(proc, name, grace=5.0)
            self.record_pid(name, None)

        self.on_close(name, _stop)
        return proc


# --------------------------------------------------------------------------- PostgreSQL


def find_pg_bin() -> Path:
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise HarnessError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
        "postgresql-15 (or set PG_BIN to the directory holding initdb and pg_ctl)"
    )


class Postgres:
    """A throwaway cluster: unix socket only, trust auth, role ``odoo``, run as postgres."""

    def __init__(self, session: Session):
        self.session = session
        self.bin = find_pg_bin()
        self.root = session.work / "pg"
        self.data = self.root / "data"
        self.socket_dir = self.root / "s"
        self.log = self.root / "postgres.log"
        self.as_root = os.geteuid() == 0

    def _cmd(self, *args: str) -> list[str]:
        if self.as_root:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._cmd(*args),
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            start_new_session=True,  # the terminal's Ctrl-C must not reach the postmaster
            check=False,
        )

    def start(self) -> Postgres:
        if len(str(self.socket_dir / ".s.PGSQL.5432")) > 100:
            raise HarnessError(f"socket path too long under {self.socket_dir}")
        self.root.mkdir()
        self.socket_dir.mkdir()
        if self.as_root:
            if shutil.which("runuser") is None:
                raise HarnessError("running as root needs `runuser` to start PostgreSQL")
            try:
                import pwd  # noqa: PLC0415

                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise HarnessError(
                    "PostgreSQL refuses to run as root and there is no `postgres` user: "
                    "install postgresql-15 or run omnictl as an unprivileged user"
                ) from exc
            for path in (self.session.work, self.root, self.socket_dir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        self.session.state["pgdata"] = str(self.data)
        self.session.save()
        self.session.on_close("PostgreSQL", self.stop)

        result = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if result.returncode:
            raise HarnessError(f"initdb failed:\n{result.stdout}{result.stderr}")
        conf = self.data / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(
                "\n# omnictl: throwaway cluster, unix socket only\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 200\n"
            )
        result = self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode:
            raise HarnessError(
                f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{tail(self.log)}"
            )
        self.session.record_pid("postgres", self.postmaster_pid())
        say(f"PostgreSQL {self.bin.parent.name} on unix socket {self.socket_dir}")
        return self

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        pid = self.postmaster_pid()
        if self.data.is_dir() and pid:
            result = self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
            )
            if result.returncode and pid_alive(pid):
                warn(f"pg_ctl stop failed ({result.stderr.strip()}); killing postmaster {pid}")
                kill_pid(pid, "postmaster")
        with contextlib.suppress(OSError):
            shutil.copyfile(self.log, LOG_DIR / f"{self.session.command}-postgres.log")
        self.session.record_pid("postgres", None)


# --------------------------------------------------------------------------- localstripe


class LocalStripe:
    def __init__(self, session: Session, preferred_port: int | None = None):
        self.session = session
        self.port = free_port(preferred_port)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log = LOG_DIR / f"{session.command}-localstripe.log"

    def start(self, env: dict) -> LocalStripe:
        if not LOCALSTRIPE_SCRIPT.is_file():
            raise HarnessError(f"{LOCALSTRIPE_SCRIPT} is missing")
        proc = self.session.spawn(
            "localstripe",
            [sys.executable, str(LOCALSTRIPE_SCRIPT), "--host", LOOPBACK, "--port", str(self.port)],
            env=env,
            log=self.log,
        )
        deadline = time.monotonic() + 60
        probe = f"{self.url}/v1/customers"
        headers = {"Authorization": f"Bearer {LOCALSTRIPE_SECRET_KEY}"}
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise HarnessError(f"localstripe exited with {proc.returncode}:\n{tail(self.log)}")
            status = http_status(probe, headers)
            if status is not None and status < 500:
                say(f"localstripe on {self.url}")
                return self
            time.sleep(0.2)
        raise HarnessError(f"localstripe did not answer on {probe}:\n{tail(self.log)}")


# --------------------------------------------------------------------------- Odoo


@dataclasses.dataclass
class Odoo:
    version: str
    command: list[str]  # how to run odoo-bin
    addons_path: list[Path]
    pythonpath: str | None  # ODOO_HOME, prepended to PYTHONPATH
    origin: str

    def env(self, base: dict | None = None) -> dict:
        env = dict(os.environ if base is None else base)
        if self.pythonpath:
            parts = [self.pythonpath] + [p for p in env.get("PYTHONPATH", "").split(":") if p]
            env["PYTHONPATH"] = ":".join(parts)
        env["TZ"] = "UTC"  # as odoo-bin sets it; Odoo's tests assume it
        return env

    def addons_path_str(self) -> str:
        return ",".join(str(p) for p in [*self.addons_path, REPO])


PROBE = (
    "import json, sys, odoo, odoo.addons, odoo.release as r; "
    "print(json.dumps({'version': r.version, 'major': r.version_info[0], "
    "'file': r.__file__, 'addons': list(odoo.addons.__path__)}))"
)


def _probe_odoo(env: dict) -> tuple[dict | None, str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=tempfile.gettempdir(),  # not the repo: no accidental `odoo` from the cwd
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        return None, (result.stderr or result.stdout).strip()
    try:
        return json.loads(result.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, result.stdout


def _addon_dirs(candidates: list[Path]) -> list[Path]:
    dirs = []
    for path in candidates:
        if path.is_dir() and any(path.glob("*/__manifest__.py")) and path not in dirs:
            dirs.append(path)
    return dirs


def extra_addons_dirs() -> list[Path]:
    """ODOO_EXTRA_ADDONS: more addons directories (comma or colon separated), e.g. a checkout
    of OCA/queue for queue_job."""
    raw = os.environ.get("ODOO_EXTRA_ADDONS", "")
    paths = [Path(p).expanduser().resolve() for p in re.split(r"[,:]", raw) if p.strip()]
    for path in paths:
        if not path.is_dir():
            raise HarnessError(f"ODOO_EXTRA_ADDONS: {path} is not a directory")
    return _addon_dirs(paths)


def missing_module_files(odoo: Odoo, name: str, seen: set | None = None) -> list[str]:
    """What keeps module ``name`` from installing here: modules absent from the addons path
    and data files its manifest (or a dependency's) lists that are not there. Trimmed Odoo
    trees keep some addons by manifest and Python files only."""
    seen = set() if seen is None else seen
    if name in seen:
        return []
    seen.add(name)
    root = next(
        (p / name for p in odoo.addons_path if (p / name / "__manifest__.py").is_file()), None
    )
    if root is None:
        return [f"module {name}"]
    manifest = ast.literal_eval((root / "__manifest__.py").read_text(encoding="utf-8"))
    missing = [
        f"{name}/{data}"
        for key in ("data", "demo")
        for data in manifest.get(key, [])
        if not (root / data).is_file()
    ]
    for dependency in manifest.get("depends", []):
        missing += missing_module_files(odoo, dependency, seen)
    return missing


def optional_modules(odoo: Odoo) -> dict[str, list[str]]:
    """Modules the addon works with when they are present (tested then): OCA queue_job.
    ``{name: what is missing to install it}``, empty when it installs."""
    found = {}
    for name in OPTIONAL_MODULES:
        if any((p / name / "__manifest__.py").is_file() for p in odoo.addons_path):
            found[name] = missing_module_files(odoo, name)
            if found[name] and stand_in_data_files(odoo, name, found[name]):
                found[name] = missing_module_files(odoo, name)
    return found


def stand_in_data_files(odoo: Odoo, name: str, missing: list[str]) -> bool:
    """Empty stand-ins for the data files that an optional module's Odoo dependencies lack in a
    trimmed tree that ODOO_SOURCE unpacked into the cache (never in a tree the user points
    at). The trimmed archives of ../shared/odoo keep ``base_sparse_field``, which queue_job
    needs for its Python (the ``serialized`` field type), without its two data files: an
    access rule for its own test model and a field on the form of ``ir.model.fields``,
    neither of which queue_job uses. An empty file in their place lets queue_job install, so
    that its path is tested. False when something else is missing (a whole module, a file of
    ``name`` itself): nothing is written then."""
    if any(entry.startswith("module ") or entry.startswith(f"{name}/") for entry in missing):
        return False
    files = []
    for entry in missing:
        module, data = entry.split("/", 1)
        root = next(p / module for p in odoo.addons_path if (p / module).is_dir())
        if not root.resolve().is_relative_to(odoo_source.CACHE.resolve()):
            return False
        if not (data.endswith(".xml") or data.endswith("/ir.model.access.csv")):
            return False
        files.append(root / data)
    header = "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink"
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<odoo/>\n" if path.suffix == ".xml" else header + "\n")
    say(
        f"{name}: empty stand-ins for the data files the trimmed Odoo tree lacks: "
        + ", ".join(missing)
    )
    return True


def find_odoo() -> Odoo | None:
    """The Odoo that ODOO_HOME names, else the interpreter's ``odoo``, else None."""
    home = os.environ.get("ODOO_HOME", "").strip()
    if home:
        root = Path(home).expanduser().resolve()
        odoo_bin = root / "odoo-bin"
        if not odoo_bin.is_file():
            raise HarnessError(
                f"ODOO_HOME={home} has no odoo-bin: point it at an Odoo 18.0 or 19.0 tree"
            )
        env = {**os.environ, "PYTHONPATH": str(root)}
        info, error = _probe_odoo(env)
        if info is None:
            raise HarnessError(
                f"ODOO_HOME={root}, but {sys.executable} cannot import its odoo package:\n"
                f"{error[-2000:]}\n"
                f"Install Odoo's requirements into that interpreter "
                f"({sys.executable} -m pip install -r {root}/requirements.txt) or set PYTHON "
                f"to an interpreter that has them."
            )
        addons = _addon_dirs([root / "odoo" / "addons", root / "addons"])
        command = [sys.executable, str(odoo_bin)]
        origin = f"ODOO_HOME={root}"
        pythonpath = str(root)
    else:
        if importlib.util.find_spec("odoo") is None:
            return None
        info, error = _probe_odoo(dict(os.environ))
        if info is None:
            raise HarnessError(
                f"{sys.executable} has an `odoo` package that fails to import:\n{error[-2000:]}"
            )
        package = Path(info["file"]).parent
        addons = _addon_dirs([package / "addons", package.parent / "addons"])
        command = [sys.executable, "-m", "odoo"]
        origin = f"odoo package {package} ({sys.executable})"
        pythonpath = None
    if info["major"] not in SUPPORTED_MAJORS:
        raise HarnessError(
            f"{origin} is Odoo {info['version']}; this addon needs Odoo "
            f"{' or '.join(odoo_source.SUPPORTED_SERIES)}"
        )
    # OCA addons installed as wheels into the interpreter (odoo/addons of site-packages)
    addons += [p for p in _addon_dirs([Path(d) for d in info["addons"]]) if p not in addons]
    addons += extra_addons_dirs()
    if not any((p / "web" / "__manifest__.py").is_file() for p in addons):
        raise HarnessError(f"{origin}: no addons directory holding `web` found")
    if not any((p / "base" / "__manifest__.py").is_file() for p in addons):
        raise HarnessError(f"{origin}: no addons directory holding `base` found")
    return Odoo(info["version"], command, addons, pythonpath, origin)


def require_odoo() -> Odoo:
    odoo = find_odoo()
    if odoo is None:
        raise HarnessError(
            f"Odoo not found: {sys.executable} cannot import `odoo`, and neither ODOO_HOME nor "
            f"ODOO_SOURCE is set.\n{odoo_source.how_to_get_odoo()}"
        )
    say(f"Odoo {odoo.version} from {odoo.origin}")
    return odoo


def reexec_with_odoo_source(argv: list[str]) -> None:
    """With ODOO_SOURCE (and no ODOO_HOME): build or reuse the Odoo tree and interpreter it
    names (tools/odoo_source.py), then run this same command again with them."""
    source = os.environ.get("ODOO_SOURCE", "").strip()
    if not source or os.environ.get("ODOO_HOME", "").strip():
        return
    try:
        tree, python, series = odoo_source.provision(
            source, os.environ.get("ODOO_VERSION", "").strip() or None
        )
    except odoo_source.SourceError as exc:
        raise HarnessError(str(exc)) from exc
    say(f"Odoo {series} from ODOO_SOURCE={source}: {display(tree)}, {display(python)}")
    env = {**os.environ, "ODOO_HOME": str(tree), "PYTHON": str(python)}
    env.pop("ODOO_SOURCE")
    sys.stdout.flush()
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *argv], env)


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
) -> Path:
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
        "addons_path": odoo.addons_path_str(),
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
    """ERROR/CRITICAL records, and WARNING records that mention the addon."""
    problems = []
    for level, _logger, _first, lines in odoo_log_records(log):
        text = "\n".join(lines)
        if level in ("ERROR", "CRITICAL") or (level == "WARNING" and ADDON in text):
            problems.append(text)
    return problems


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
    cmd = [*odoo.command, "-c", str(conf), "-d", db_name, "-i", modules, "--stop-after-init"]
    if not demo:
        cmd.append("--without-demo=True")  # 19.0 reads a boolean; 18.0 any true value
    say(
        f"installing {modules} into {db_name} ({'with' if demo else 'without'} demo data); "
        f"log: {display(log)}"
    )
    started = time.monotonic()
    rc = session.run("odoo-install", cmd, env=odoo.env(), log=log, stdin=subprocess.DEVNULL)
    problems = install_problems(log)
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


def install_with_demo(session: Session, odoo: Odoo, conf: Path, db: str, modules: str) -> None:
    """Install ``modules`` with demo data, in two steps: ``base`` first, whose demo company
    gets a country, and then the modules. In between, when the localization module of that
    country cannot be installed from this Odoo (trimmed source archives keep most addons by
    manifest only), the company's country is cleared: accounting then takes the generic
    chart of accounts, as in a database without demo data."""
    odoo_install(session, odoo, conf, db, "base", demo=True, step="install-base")
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
    odoo_install(session, odoo, conf, db, modules, demo=True)


# --------------------------------------------------------------------------- deps


def _requirement_lines() -> list[str]:
    lines = []
    for raw in REQUIREMENTS.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def requirements_satisfied() -> bool:
    try:
        from importlib import metadata  # noqa: PLC0415

        try:
            from packaging.requirements import Requirement  # noqa: PLC0415
        except ImportError:
            from pip._vendor.packaging.requirements import Requirement  # noqa: PLC0415
    except ImportError:
        return False
    for line in _requirement_lines():
        try:
            req = Requirement(line)
        except Exception:  # noqa: BLE001 - let pip judge what we cannot parse
            return False
        if req.marker and not req.marker.evaluate():
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            return False
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return False
    return True


def cmd_deps(_args=None) -> int:
    pip_deps()
    npm_deps()
    return 0


def pip_deps() -> None:
    if requirements_satisfied():
        say(f"deps: {REQUIREMENTS.name} already satisfied for {sys.executable}")
        return
    say(f"deps: pip install -r {REQUIREMENTS.name} into {sys.executable}")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "-r",
        str(REQUIREMENTS),
    ]
    if os.geteuid() == 0:
        cmd.append("--root-user-action=ignore")
    rc = subprocess.run(cmd, check=False).returncode
    if rc:
        raise HarnessError(f"pip install -r {REQUIREMENTS} failed (exit code {rc})")


def npm_deps() -> None:
    """``npm ci`` (prettier and its XML plugin, package-lock.json) when node_modules is
    missing or older than the lock file."""
    installed = NODE_MODULES / ".package-lock.json"  # written by npm ci / npm install
    if (
        PRETTIER.exists()
        and installed.is_file()
        and installed.stat().st_mtime >= PACKAGE_LOCK.stat().st_mtime
    ):
        say(f"deps: {PACKAGE_LOCK.name} already installed in {display(NODE_MODULES)}")
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise HarnessError(
            "npm and node not found: the XML linter (prettier) needs Node.js 18 or newer "
            "(Debian packages nodejs and npm)"
        )
    say(f"deps: npm ci ({PACKAGE_LOCK.name} into {display(NODE_MODULES)})")
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    rc = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, check=False).returncode
    if rc:
        raise HarnessError(f"npm ci failed (exit code {rc})")


# --------------------------------------------------------------------------- run


def demo_cache_key(odoo: Odoo) -> str:
    """Changes with the addon's files, the Odoo in use and the day (the demo data computes
    expiry dates from the day of the install)."""
    digest = hashlib.sha256()
    for value in (odoo.version, odoo.origin, sys.executable, datetime.date.today().isoformat()):
        digest.update(f"{value}\0".encode())
    for path in sorted((REPO / ADDON).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def pg_client(pg: Postgres, tool: str, *args: str) -> list[str]:
    """A PostgreSQL client command on the throwaway cluster's socket (trust auth)."""
    return [str(pg.bin / tool), "-h", str(pg.socket_dir), "-U", PG_USER, *args]


def demo_cache_restore(pg: Postgres, cache: Path, db: str, data_dir: Path) -> bool:
    """Create ``db`` from the cached dump and filestore; False (and no database) if the cache
    is incomplete or the restore fails."""
    dump, filestore = cache / "db.dump", cache / "filestore"
    if not (cache / "complete").is_file() or not dump.is_file():
        return False
    started = time.monotonic()
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    created = subprocess.run(
        pg_client(pg, "createdb", "-T", "template0", db), env=env, capture_output=True, check=False
    )
    restored = None
    if not created.returncode:
        with dump.open("rb") as stdin:
            restored = subprocess.run(
                pg_client(pg, "pg_restore", "--no-owner", "--exit-on-error", "-d", db),
                env=env,
                stdin=stdin,
                capture_output=True,
                check=False,
            )
    if created.returncode or restored.returncode:
        errors = (restored or created).stderr.decode(errors="replace").strip()
        warn(f"the cached demo database could not be restored ({errors[-300:]}): installing")
        subprocess.run(pg_client(pg, "dropdb", "--if-exists", db), env=env, check=False)
        return False
    target = data_dir / "filestore" / db
    if filestore.is_dir():
        shutil.copytree(filestore, target)
    say(f"restored the installed demo database from the cache in {time.monotonic() - started:.0f}s")
    return True


def demo_cache_save(pg: Postgres, cache: Path, db: str, data_dir: Path) -> None:
    """Keep a dump and the filestore of the freshly installed ``db`` (only this key)."""
    with contextlib.suppress(OSError):
        shutil.rmtree(DEMO_CACHE_DIR)
    cache.mkdir(parents=True)
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    with (cache / "db.dump").open("wb") as stdout:
        dumped = subprocess.run(
            pg_client(pg, "pg_dump", "-Fc", "-Z", "1", db),
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            check=False,
        )
    if dumped.returncode:
        warn(f"demo cache not saved: {dumped.stderr.decode(errors='replace').strip()[-300:]}")
        shutil.rmtree(cache, ignore_errors=True)
        return
    filestore = data_dir / "filestore" / db
    if filestore.is_dir():
        shutil.copytree(filestore, cache / "filestore")
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
    data_dir = session.work / "odoo-data"
    cache = DEMO_CACHE_DIR / demo_cache_key(odoo)
    if args.no_cache or not demo_cache_restore(pg, cache, db, data_dir):
        install_with_demo(session, odoo, conf, db, ADDON)
        if not args.no_cache:
            demo_cache_save(pg, cache, db, data_dir)

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


# --------------------------------------------------------------------------- linters


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
    commands = {
        "ruff check": [*python, "ruff", "check", "--no-cache", "."],
        "ruff format": [*python, "ruff", "format", "--no-cache", "--check", "."],
        # the OCA mandatory checks, listed in .pylintrc-mandatory
        "pylint-odoo": [*python, "pylint", f"--rcfile={PYLINTRC.name}", ADDON],
        "prettier": [str(PRETTIER), "--check", "--no-color", f"{ADDON}/**/*.xml"],
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


# --------------------------------------------------------------------------- i18n


def cmd_i18n(_args=None) -> int:
    """Regenerate the .pot and merge it into the .po files with click-odoo-makepot (OCA's
    click-odoo-contrib: Odoo's own export, then GNU gettext's msgmerge, obsolete entries
    purged), on a throwaway install; then list what is left to translate."""
    pip_deps()
    odoo = require_odoo()
    makepot = Path(sys.executable).parent / "click-odoo-makepot"
    if not makepot.is_file():
        raise HarnessError(f"{makepot} not found: click-odoo-contrib is in {REQUIREMENTS.name}")
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
        str(makepot),
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
    rc = session.run("click-odoo-makepot", cmd, env=odoo.env(), log=log, stdin=subprocess.DEVNULL)
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


# --------------------------------------------------------------------------- test

# pytest options whose value is the next argument (so it is not mistaken for a path)
_PYTEST_VALUE_OPTIONS = {
    "-k",
    "-m",
    "-p",
    "-o",
    "-c",
    "-W",
    "-n",
    "-r",
    "--deselect",
    "--ignore",
    "--ignore-glob",
    "--maxfail",
    "--tb",
    "--durations",
    "--rootdir",
    "--basetemp",
    "--junitxml",
    "--log-level",
    "--confcutdir",
    "--import-mode",
    "--capture",
    "--override-ini",
}


def _has_path_args(extra: list[str]) -> bool:
    previous = ""
    for arg in extra:
        path = arg.split("::", 1)[0]
        is_value = arg.startswith("-") or previous in _PYTEST_VALUE_OPTIONS
        if not is_value and ((REPO / path).exists() or Path(path).exists()):
            return True
        previous = arg
    return False


def cmd_test(args) -> int:
    if args.no_lint:
        pip_deps()
    else:
        cmd_deps()
    odoo = None if args.no_odoo else require_odoo()
    if args.no_odoo and os.environ.get("CI"):
        raise HarnessError("CI runs every test: --no-odoo (make test-quick) is not for CI")
    stop_leftovers(quiet=True)
    session = Session("test")
    # The linters run side by side with the servers' start and the addon's installation;
    # their results come before pytest's.
    running = [] if args.no_lint else start_linters(session)
    pg = Postgres(session).start()
    stripe = LocalStripe(session).start(dict(os.environ))
    extra = list(args.pytest_args)
    pytest_log = LOG_DIR / "test-odoo.log"
    # Odoo's own suites run with the whole suite, not when pytest is given paths to run.
    own_suites = odoo is not None and not args.no_odoo_suites and not _has_path_args(extra)

    if odoo:
        db = "omni_test"
        conf = write_odoo_conf(
            session, odoo, pg, name="test", db_name=db, http_port=free_port(), demo=False
        )
        found = optional_modules(odoo)
        optional = [name for name, missing in found.items() if not missing]
        odoo_install(session, odoo, conf, db, ",".join([ADDON, *optional]), demo=False)
        for name in OPTIONAL_MODULES:
            if name in optional:
                say(f"{name} installed with the addon: its tests run")
            elif name in found:
                warn(
                    f"{name} cannot be installed in this Odoo, its tests are skipped: missing "
                    + ", ".join(found[name][:5])
                )
            else:
                say(
                    f"{name} not on the addons path: its tests are skipped "
                    "(ODOO_EXTRA_ADDONS=/path/to/OCA/queue to run them)"
                )
        if own_suites:
            suites_db = "omni_suites"
            suites_conf = write_odoo_conf(
                session,
                odoo,
                pg,
                name="suites",
                db_name=suites_db,
                http_port=free_port(),
                demo=False,
            )
            clone_database(pg, db, suites_db, session.work / "odoo-data")
        env = odoo.env()
        paths = ["tests", f"{ADDON}/tests"]
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            f"--odoo-database={db}",
            f"--odoo-config={conf}",
            "--odoo-http",
            "--odoo-log-level=info",
            f"--odoo-extra=logfile={pytest_log}",
        ]
    else:
        env = dict(os.environ)
        paths = ["tests"]
        cmd = [sys.executable, "-m", "pytest", "-p", "no:odoo"]
    env["OMNI_LOCALSTRIPE_URL"] = stripe.url
    env["OMNI_LOCALSTRIPE_SECRET_KEY"] = LOCALSTRIPE_SECRET_KEY
    junit = session.work / "pytest-junit.xml"
    if not any(arg.startswith("--junitxml") for arg in extra):
        cmd.append(f"--junitxml={junit}")
    if not _has_path_args(extra):
        cmd.extend(p for p in paths if (REPO / p).is_dir())
    cmd.extend(extra)
    lint_failed = finish_linters(running) if running else []
    say("pytest: " + " ".join(cmd[1:]))
    if odoo:
        say(f"Odoo's log during the tests: {display(pytest_log)}")
    rc = session.run("pytest", cmd, env=env, stdin=subprocess.DEVNULL)
    # pytest exits 5 when it collected nothing: that is a failure here too.
    suites = (
        run_odoo_suites(session, odoo, suites_conf, suites_db, args.tags) if own_suites else None
    )
    plain = junit_counts(junit, "tests.")
    addon_tests = junit_counts(junit, f"{ADDON}.") if odoo else None
    session.close()
    return report_test_run(odoo, (plain, addon_tests), rc, (running, lint_failed), suites)


def report_test_run(odoo, pytest_counts, rc: int, linters, suites) -> int:
    """The closing report of ``test``: what ran where, then one plain summary line."""
    lines = []
    counts = {"passed": 0, "failed": 0, "skipped": 0}

    def add(label: str, passed: int, failed: int, skipped: int) -> None:
        counts["passed"] += passed
        counts["failed"] += failed
        counts["skipped"] += skipped
        lines.append(
            f"{label}: {passed + failed + skipped} ran, {passed} passed, {failed} failed, "
            f"{skipped} skipped"
        )

    plain, addon_tests = pytest_counts
    running, lint_failed = linters
    if plain is None:
        lines.append("pytest wrote no report (see its output above)")
        rc = rc or 1
    else:
        add("tests outside the addon (pytest: tests/, contracts included)", *plain)
    if odoo:
        lines.insert(0, f"Odoo {odoo.version} ({odoo.origin})")
        if addon_tests is not None:
            add(f"{ADDON} tests on Odoo (pytest-odoo)", *addon_tests)
        if suites is not None:
            label = f"Odoo's own suites ({', '.join(suites.modules)})"
            add(label, suites.passed, suites.failed, suites.skipped)
            lines.extend("  " + line for line in suites.lines)
            if not suites.ok:
                rc = rc or 1
        else:
            lines.append(
                "Odoo's own suites: not run (pytest was given paths; run them with "
                "`make odoo-suites`)"
            )
        odoo_ran = sum(addon_tests or ()) + (suites.tests if suites else 0)
        if os.environ.get("CI") and (not odoo_ran or suites is None):
            lines.append("CI: every Odoo suite must run; some did not: FAILED")
            rc = rc or 1
    else:
        lines.append("ODOO SUITES NOT RUN (--no-odoo): only the tests that need no Odoo ran")
    if running:
        passed = len(running) - len(lint_failed)
        add(
            "linters (" + ", ".join(linter.name for linter in running) + ")",
            passed,
            len(lint_failed),
            0,
        )
        if lint_failed:
            say(
                f"LINTERS FAILED: {', '.join(linter.name for linter in lint_failed)} "
                f"(logs: {display(LOG_DIR)}/lint-*.log)"
            )
            rc = rc or 1
    ok = rc == 0 and counts["failed"] == 0
    print(banner(lines, "=" if ok else "!"), flush=True)
    # One plain closing line, for tools that read the last line.
    print(
        f"summary: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped",
        flush=True,
    )
    return rc or (0 if ok else 1)


_OUTCOME_RANK = ("failed", "passed", "skipped")


def junit_counts(path: Path, prefix: str = "") -> tuple[int, int, int] | None:
    """Return (passed, failed incl. errors, skipped) tests from pytest's JUnit XML report,
    of the tests whose class name starts with ``prefix`` (all by default).

    Sub-tests (``self.subTest``) are reported as extra entries of their test: a test counts
    once, as failed if any of its entries failed.
    """
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    outcome: dict[tuple[str, str], str] = {}
    for case in root.iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        if not key[0].startswith(prefix):
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            state = "failed"
        elif case.find("skipped") is not None:
            state = "skipped"
        else:
            state = "passed"
        # failed > passed > skipped, whatever the order of the entries
        outcome[key] = min(outcome.get(key, state), state, key=_OUTCOME_RANK.index)
    states = list(outcome.values())
    return states.count("passed"), states.count("failed"), states.count("skipped")


# --------------------------------------------------------------------------- odoo-suites

FAILED_TESTS = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
STATS_LINE = re.compile(r"^(\w+): (\d+) tests ")
TEST_LOGGER = re.compile(r"^odoo\.addons\.(\w+)\.tests\b")


def summarize_suite_log(log: Path, modules: list[str]) -> tuple[dict, dict, tuple | None, list]:
    """Per module: tests started (Odoo logs "Starting Class.test ..." for each), FAIL/ERROR
    records and skips; Odoo's own total; the error records (other errors, then test failures)."""
    ran: Counter = Counter()
    stats: dict[str, int] = {}
    failed: Counter = Counter()
    total = None
    other_errors = []
    details = []
    for level, logger, first, lines in odoo_log_records(log):
        message = first.split(": ", 1)[1] if ": " in first else first
        test_module = TEST_LOGGER.match(logger)
        if test_module and level == "INFO" and message.startswith("Starting "):
            ran[test_module[1]] += 1
        elif test_module and message.startswith("skipped "):
            failed[(test_module[1], "skipped")] += 1
        elif logger == "odoo.tests.stats":
            match = STATS_LINE.match(message)
            if match:
                stats[match[1]] = int(match[2])
        elif logger == "odoo.tests.result":
            match = FAILED_TESTS.search(message)
            if match:
                total = (int(match[1]), int(match[2]), int(match[3]))
        elif level in ("ERROR", "CRITICAL"):
            match = TEST_LOGGER.match(logger)
            if match and message.startswith(("FAIL:", "ERROR:")):
                failed[(match[1], message.split(":", 1)[0])] += 1
                details.append("\n".join(lines[:30]))
            elif not match or match[1] not in modules:
                other_errors.append("\n".join(lines[:15]))
    return (dict(ran) or stats), failed, total, other_errors + details


def suite_modules(tags: str) -> list[str]:
    """The modules named by an Odoo ``--test-tags`` value ("/payment,/payment_stripe:Cls")."""
    modules = [t.strip().lstrip("/").split(":")[0].split(".")[0] for t in tags.split(",")]
    return [m for m in modules if m and not m.startswith(("-", "*"))]


def odoo_tests_command(odoo, conf: Path, db: str, tags: str) -> list[str]:
    """Odoo's own test runner on an installed database: no -i/-u, so Odoo runs the at_install
    tests of each module as it loads it (filtered by ``tags``) and the post_install tests once
    the whole registry, the addon's overrides included, is loaded."""
    return [
        *odoo.command,
        "-c",
        str(conf),
        "-d",
        db,
        "--test-enable",
        f"--test-tags={tags}",
        "--stop-after-init",
        "--log-handler=odoo.tests.stats:INFO",
    ]


@dataclasses.dataclass
class SuiteResult:
    """Odoo's own test runner's outcome on one database."""

    ok: bool
    tests: int
    failed: int  # failures and errors
    skipped: int
    lines: list[str]  # the report, for a banner
    modules: list[str]

    @property
    def passed(self) -> int:
        return max(self.tests - self.failed - self.skipped, 0)


def run_odoo_suites(
    session: Session,
    odoo: Odoo,
    conf: Path,
    db: str,
    tags: str,
    *,
    context: str = f"with {ADDON} installed",
) -> SuiteResult:
    """Run Odoo's test runner with ``tags`` on the installed database ``db``."""
    modules = suite_modules(tags)
    log = LOG_DIR / f"{session.command}-odoo-suites.log"
    cmd = odoo_tests_command(odoo, conf, db, tags)
    say(f"running Odoo's tests {tags} {context}; log: {display(log)}")
    started = time.monotonic()
    rc = session.run("odoo-tests", cmd, env=odoo.env(), log=log, stdin=subprocess.DEVNULL)
    minutes = (time.monotonic() - started) / 60
    ran, failed, total, error_records = summarize_suite_log(log, modules)
    lines = [f"Odoo {odoo.version} test suites {context} ({minutes:.1f} min)"]
    skipped = 0
    for module in modules:
        fails, errors = failed[(module, "FAIL")], failed[(module, "ERROR")]
        skipped += failed[(module, "skipped")]
        lines.append(
            f"{module:>16}: {ran.get(module, 0):4d} tests, {fails} failed, {errors} errors, "
            f"{failed[(module, 'skipped')]} skipped"
        )
    for module in sorted(set(ran) - set(modules)):
        lines.append(f"{module:>16}: {ran[module]:4d} tests (pulled in by the tags)")
    if total:
        lines.append(f"total: {total[0]} failed, {total[1]} error(s) of {total[2]} tests")
    else:
        lines.append("total: no test summary in the log (Odoo stopped early?)")
    lines.append(f"full log: {display(log)}")
    ok = rc == 0 and total is not None and total[0] == 0 and total[1] == 0 and total[2] > 0
    if error_records:
        print(f"\n[omnictl] ERROR records of {display(log)}:", flush=True)
        for text in error_records[:20]:
            print(text, flush=True)
    if not total:
        print(tail(log), flush=True)
    tests, bad = (total[2], total[0] + total[1]) if total else (0, 1)
    if not ok:
        bad = max(bad, 1)
        say(f"Odoo's suites FAILED (odoo exit code {rc})")
    return SuiteResult(ok, tests, bad, skipped, lines, modules)


def cmd_odoo_suites(args) -> int:
    pip_deps()
    odoo = require_odoo()
    stop_leftovers(quiet=True)
    session = Session("odoo-suites")
    pg = Postgres(session).start()
    tags = args.tags
    db = "omni_suites"
    conf = write_odoo_conf(
        session, odoo, pg, name="suites", db_name=db, http_port=free_port(), demo=False
    )
    to_install = ",".join(dict.fromkeys([ADDON, *suite_modules(tags)]))
    odoo_install(session, odoo, conf, db, to_install, demo=False)
    result = run_odoo_suites(session, odoo, conf, db, tags)
    session.close()
    print(banner(result.lines, "=" if result.ok else "!"), flush=True)
    return 0 if result.ok else 1


def clone_database(pg: Postgres, source: str, target: str, data_dir: Path) -> None:
    """``target`` as a copy of the installed ``source`` (database and filestore): one install
    serves the addon's suites and Odoo's."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    result = subprocess.run(
        pg_client(pg, "createdb", "-T", source, target), env=env, capture_output=True, check=False
    )
    if result.returncode:
        raise HarnessError(f"createdb -T {source} {target}: {result.stderr.decode().strip()}")
    filestore = data_dir / "filestore" / source
    if filestore.is_dir():
        shutil.copytree(filestore, data_dir / "filestore" / target)


# --------------------------------------------------------------------------- uninstall-check


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

    say(f"uninstalling {ADDON}")
    left = _shell_step(session, odoo, conf, db, "uninstall")
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


# --------------------------------------------------------------------------- leftovers


def stop_leftovers(*, quiet: bool = False, force: bool = False) -> int:
    """Stop the servers of runs whose omnictl is gone and remove their directories."""
    if not HARNESS_DIR.is_dir():
        return 0
    cleaned = 0
    for state_file in sorted(HARNESS_DIR.glob("*/harness.json")):
        work = state_file.parent
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            continue
        owner = state.get("owner_pid")
        if owner == os.getpid():
            continue
        # A live owner that is still a harness process (omnictl or a bench script, which
        # share this code) keeps its servers; a reused pid does not.
        owner_cmdline = pid_cmdline(owner) if pid_alive(owner) else ""
        if ("omnictl" in owner_cmdline or "bench/" in owner_cmdline) and not force:
            if not quiet:
                say(f"{work.name}: still in use by pid {owner} (--force to stop it)")
            continue
        for name, pid in state.get("pids", {}).items():
            if name == "postgres" or not pid_alive(pid):
                continue
            cmdline = pid_cmdline(pid)
            if str(work) in cmdline or "localstripe" in cmdline or "odoo" in cmdline:
                say(f"{work.name}: stopping {name} (pid {pid})")
                kill_pid(pid, name)
        pgdata = state.get("pgdata")
        if pgdata and Path(pgdata, "postmaster.pid").is_file():
            try:
                pid = int(Path(pgdata, "postmaster.pid").read_text().split("\n", 1)[0])
            except (OSError, ValueError):
                pid = None
            if pid and pid_alive(pid) and pgdata in pid_cmdline(pid):
                say(f"{work.name}: stopping PostgreSQL (pid {pid})")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)  # fast shutdown
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and pid_alive(pid):
                    time.sleep(0.1)
                kill_pid(pid, "postmaster")
        shutil.rmtree(work, ignore_errors=True)
        say(f"removed leftover {work}")
        cleaned += 1
    if not cleaned and not quiet:
        say("no leftovers")
    return 0


def run_guarded(func, prefix: str) -> int:
    """Run ``func()`` and stop every server its sessions started, however it ends.

    A harness error exits 2, Ctrl-C exits 130; used by omnictl and the bench scripts.
    """
    try:
        return func() or 0
    except HarnessError as exc:
        print(f"[{prefix}] ERROR: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print(f"\n[{prefix}] interrupted: stopping servers", file=sys.stderr, flush=True)
        return 130
    finally:
        for session in reversed(_SESSIONS):
            session.close()


def cmd_stop_leftovers(args) -> int:
    return stop_leftovers(force=args.force)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        index = argv.index("--")
        argv, extra = argv[:index], argv[index + 1 :]

    parser = argparse.ArgumentParser(
        prog="omnictl", description=__doc__.split("\n\n", 1)[0].split(": ", 1)[1]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("deps", help="install requirements-test.txt and run npm ci")
    run = sub.add_parser("run", help="start the demo (Ctrl-C stops everything)")
    run.add_argument("--port", type=int, default=DEFAULT_ODOO_PORT, help="Odoo HTTP port")
    run.add_argument("--stripe-port", type=int, default=DEFAULT_LOCALSTRIPE_PORT)
    run.add_argument("--database", default="omni_demo")
    run.add_argument(
        "--no-cache",
        action="store_true",
        help="install the demo database from scratch (ignore and do not keep the cache)",
    )
    test = sub.add_parser("test", help="run the linters and every test (pytest args after --)")
    test.add_argument("--no-lint", action="store_true", help="skip the linters")
    test.add_argument(
        "--no-odoo",
        action="store_true",
        help="only the tests that need no Odoo (tests/), without installing anything",
    )
    test.add_argument(
        "--no-odoo-suites", action="store_true", help="skip Odoo's own payment suites"
    )
    test.add_argument("--tags", default=DEFAULT_SUITE_TAGS, help="Odoo's suites: --test-tags")
    test.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    sub.add_parser("lint", help="run the linters only")
    sub.add_parser("i18n", help="regenerate the .pot and merge it into the .po files")
    suites = sub.add_parser("odoo-suites", help="Odoo's own payment suites with the addon")
    suites.add_argument("--tags", default=DEFAULT_SUITE_TAGS, help="Odoo --test-tags value")
    uninstall = sub.add_parser(
        "uninstall-check", help="upgrade keeps every value, uninstall leaves Odoo working"
    )
    uninstall.add_argument("--tags", default=DEFAULT_SUITE_TAGS, help="Odoo --test-tags value")
    leftovers = sub.add_parser("stop-leftovers", help="clean up after a killed run")
    leftovers.add_argument("--force", action="store_true", help="also runs whose owner lives")
    args = parser.parse_args(argv)
    if args.command == "test":
        args.pytest_args = [*args.pytest_args, *extra]
    elif extra:
        parser.error(f"{args.command} takes no arguments after --")

    install_signal_handlers()
    if args.command in ODOO_COMMANDS:
        again = argv + (["--", *extra] if extra else [])
        rc = run_guarded(lambda: reexec_with_odoo_source(again), "omnictl")
        if rc:
            return rc
    handlers = {
        "deps": cmd_deps,
        "run": cmd_run,
        "test": cmd_test,
        "lint": cmd_lint,
        "i18n": cmd_i18n,
        "odoo-suites": cmd_odoo_suites,
        "uninstall-check": cmd_uninstall_check,
        "stop-leftovers": cmd_stop_leftovers,
    }

    return run_guarded(lambda: handlers[args.command](args), "omnictl")


if __name__ == "__main__":
    sys.exit(main())
