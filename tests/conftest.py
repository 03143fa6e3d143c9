"""Shared fixtures of the tests that run without Odoo.

- the ``lib`` folders of the addons are loaded as one standalone package ``omni_pm_lib``
  (an addon's ``__init__.py`` imports ``odoo``, its ``lib`` does not): tests write
  ``from omni_pm_lib import pan`` whichever addon the module belongs to.
- ``localstripe_url``: a localstripe server for the ``contract`` tests, the one named by
  ``OMNI_LOCALSTRIPE_URL`` or else one started for the session by
  ``tools/localstripe_server.py`` on 127.0.0.1 (in memory, stopped at the end).
- ``http_stub``: tiny HTTP servers on 127.0.0.1 that record what they receive.
"""

import importlib.util
import json
import os
import select
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
LIB_DIRS = sorted(path.parent for path in ROOT.glob("omni_*/lib/__init__.py"))
DATA_DIR = Path(__file__).resolve().parent / "data"
LOCALSTRIPE_SERVER = ROOT / "tools" / "localstripe_server.py"
LIB_PACKAGE = "omni_pm_lib"
STARTUP_TIMEOUT = 30


def _load_lib():
    if LIB_PACKAGE in sys.modules:
        return sys.modules[LIB_PACKAGE]
    spec = importlib.util.spec_from_file_location(
        LIB_PACKAGE,
        ROOT / "omni_payment_methods" / "lib" / "__init__.py",
        submodule_search_locations=[str(path) for path in LIB_DIRS],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[LIB_PACKAGE] = module
    spec.loader.exec_module(module)
    return module


_load_lib()


def pytest_configure(config):
    if not any(line.startswith("contract:") for line in config.getini("markers")):
        config.addinivalue_line(
            "markers",
            "contract: Stripe contract test against localstripe (OMNI_LOCALSTRIPE_URL or one "
            "started for the session)",
        )


@pytest.fixture(scope="session")
def stripe_fixtures():
    """Current-API Stripe example objects (see tests/data/README.md)."""
    with open(DATA_DIR / "stripe_fixtures.json", encoding="utf-8") as handle:
        return json.load(handle)


# --- localstripe ------------------------------------------------------------------------


def _read_banner(proc, log_path):
    prefix = b"localstripe listening on "
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(prefix):
                return line[len(prefix) :].decode().strip()
            if not line:  # EOF: the server exited.
                break
    log = Path(log_path).read_text(errors="replace")[-2000:]
    raise RuntimeError(f"localstripe did not start (exit code {proc.poll()}):\n{log}")


@pytest.fixture(scope="session")
def _localstripe(tmp_path_factory):
    """Yield ``(url, owned)``: the server's URL and whether this session started it."""
    url = os.environ.get("OMNI_LOCALSTRIPE_URL")
    if url:
        yield url.rstrip("/"), False
        return
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(LOCALSTRIPE_SERVER), "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield _read_banner(proc, log_path), True
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@pytest.fixture(scope="session")
def localstripe_url(_localstripe):
    return _localstripe[0]


@pytest.fixture(scope="module")
def stripe_client(_localstripe):
    """A ``StripeClient`` built by the addon's ``make_client`` against localstripe.

    A server this session started is emptied first (``DELETE /_config/data``) so that each
    test module starts from a clean store; a shared one named by ``OMNI_LOCALSTRIPE_URL`` is
    left alone (tests never depend on it being empty).
    """
    from omni_pm_lib.stripe_api import make_client

    url, owned = _localstripe
    if owned:
        requests.delete(url + "/_config/data", timeout=10).raise_for_status()
    client = make_client("sk_test_omni", api_base=url, max_network_retries=0)
    yield client
    # Close the keep-alive connection (urllib3 1.26, Odoo's pin, leaves it to the GC with a
    # ResourceWarning). StripeClient has no public close(): reach its RequestsClient.
    client._requestor._client.close()


# --- HTTP stubs ---------------------------------------------------------------------------


class StubServer:
    """A small HTTP server on 127.0.0.1 that records each request and answers it.

    ``respond(stub, request)`` returns ``(status, headers, body)``; the default answers
    ``200 {}``. ``request`` is a dict with ``method``, ``path``, ``headers`` (an
    ``email.message.Message``: case-insensitive ``[]``/``get``) and ``body`` (bytes).
    ``release`` is set when the stub stops, so that a handler told to hang can return.
    """

    def __init__(self, respond=None):
        self.requests = []
        self.release = threading.Event()
        self._respond = respond or (lambda stub, request: (200, {}, b"{}"))
        self._changed = threading.Condition()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = {
                    "method": self.command,
                    "path": self.path,
                    "headers": self.headers,
                    "body": self.rfile.read(length),
                }
                with stub._changed:
                    stub.requests.append(request)
                    stub._changed.notify_all()
                status, headers, body = stub._respond(stub, request)
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _handle

            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # e.g. a client that timed out and closed its end first

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_for(self, predicate, timeout=10):
        """Wait until ``predicate(requests)`` is true; return whether it became so."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.requests), timeout)

    def stop(self):
        self.release.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join(timeout=10)


@pytest.fixture
def http_stub():
    """Factory ``http_stub(respond=None) -> StubServer``; every stub stops after the test."""
    stubs = []

    def start(respond=None):
        stubs.append(StubServer(respond))
        return stubs[-1]

    yield start
    for stub in stubs:
        stub.stop()
