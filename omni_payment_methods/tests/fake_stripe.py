# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A tiny Stripe stand-in for fault tests: answers, answers too late, or fails with 500s.

Runs a threaded ``http.server`` on 127.0.0.1 (an ephemeral port) inside the test process and
records every request it receives (method, path, idempotency key), so that a test can tell
whether a retry repeated a write. Only what the addon's SDK calls need: retrieve a
PaymentMethod, update a customer's default, detach a PaymentMethod.
"""

import contextlib
import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeStripe:
    def __init__(self, payment_method):
        self.payment_method = payment_method  # the template every PaymentMethod follows
        self.mode = "ok"  # ok | slow | error
        self.delay = 2.0  # seconds a "slow" answer takes
        self.requests = []
        self.overrides = {}  # {pm id: {card values}}
        self.fail_after = None  # switch to "error" once this many requests were answered
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if fake.fail_after is not None and len(fake.requests) >= fake.fail_after:
                    fake.mode = "error"
                fake.requests.append(
                    (self.command, self.path, self.headers.get("Idempotency-Key"), fake.mode)
                )
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                if fake.mode == "error":
                    return self._send(
                        500, {"error": {"type": "api_error", "message": "Fake Stripe is failing"}}
                    )
                return self._send(200, fake.respond(self.command, self.path))

            def _send(self, status, payload):
                body = json.dumps(payload).encode()
                # The client may have given up (timeout): nothing to answer then.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def respond(self, method, path):
        parts = path.split("?", 1)[0].strip("/").split("/")
        if parts[:2] == ["v1", "payment_methods"] and len(parts) >= 3:
            pm = copy.deepcopy(self.payment_method)
            pm["id"] = parts[2]
            pm["card"].update(self.overrides.get(parts[2], {}))
            if len(parts) == 4 and parts[3] == "detach":
                pm["customer"] = None
            return pm
        if parts[:2] == ["v1", "customers"] and len(parts) == 3:
            return {"id": parts[2], "object": "customer", "invoice_settings": {}}
        return {"error": {"type": "invalid_request_error", "message": f"unknown {path}"}}

    def writes(self):
        """The write requests received: (path, idempotency key, mode)."""
        return [(path, key, mode) for method, path, key, mode in self.requests if method == "POST"]
