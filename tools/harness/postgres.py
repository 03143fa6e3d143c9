"""A throwaway PostgreSQL cluster: initdb into the session's directory, unix socket only,
trust authentication, fsync off, started and stopped with pg_ctl (through runuser when run
as root). The project's own: click-odoo and pytest-odoo expect a server to exist already."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from .common import LOG_DIR, HarnessError, kill_pid, pid_alive, say, tail, warn
from .session import Session

PG_USER = "odoo"  # Odoo refuses the "postgres" role; initdb creates this one as superuser


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
