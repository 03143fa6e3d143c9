"""localstripe (a fake Stripe API, tools/localstripe_server.py) on a free loopback port, for
the tests and the demo. The project's own: it starts the server and waits until it answers."""

from __future__ import annotations

import sys
import time

from .common import LOG_DIR, LOOPBACK, REPO, HarnessError, free_port, http_status, say, tail
from .session import Session

LOCALSTRIPE_SCRIPT = REPO / "tools" / "localstripe_server.py"
LOCALSTRIPE_SECRET_KEY = "sk_test_omni"
LOCALSTRIPE_PUBLISHABLE_KEY = "pk_test_omni"


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
