"""A command's throwaway directory under /tmp/omni-harness/ and the servers started in it,
stopped (and the directory removed) however the command ends; ``stop-leftovers`` cleans up
after a run that was killed. The project's own: it ties PostgreSQL, localstripe, Odoo and
the linters to one terminal command."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import (
    HARNESS_DIR,
    LOG_DIR,
    REPO,
    HarnessError,
    kill_pid,
    pid_alive,
    pid_cmdline,
    say,
    signals_ignored,
    stop_process,
    warn,
)

_SESSIONS: list = []


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
