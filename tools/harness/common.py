"""What every part of the harness shares: the repository's paths, the ``[omnictl]`` output,
signal handling (a second Ctrl-C must not leave servers behind) and the process helpers
(stop a child, a free loopback port, an HTTP probe). The project's own: no tool of the
ecosystem supervises throwaway servers in a terminal this way."""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# the main module (saved payment methods): the demo's data, the bench's install
ADDON = "omni_payment_methods"
LOG_DIR = REPO / ".omni" / "logs"
HARNESS_DIR = Path(os.environ.get("OMNI_HARNESS_DIR") or "/tmp/omni-harness")
LOOPBACK = "127.0.0.1"

_last_signal: int | None = None


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


def addon_names(root: Path = REPO) -> list[str]:
    """Our addons: the folders at ``root`` (the repository, or an exported older tree) that
    hold a ``__manifest__.py``, sorted by name."""
    return sorted(path.parent.name for path in root.glob("*/__manifest__.py"))


def manifest(name: str, root: Path = REPO) -> dict:
    return ast.literal_eval((root / name / "__manifest__.py").read_text(encoding="utf-8"))


def dependency_order(names: list[str], root: Path = REPO) -> list[str]:
    """``names`` (our addons) with each after the ones of ours it depends on, else sorted."""
    depends = {name: set(manifest(name, root).get("depends", [])) & set(names) for name in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in sorted(names) if n not in ordered and depends[n] <= set(ordered)]
        if not ready:
            raise HarnessError(
                f"dependency cycle among {', '.join(sorted(set(names) - set(ordered)))}"
            )
        ordered.extend(ready)
    return ordered


def display(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)
