#!/usr/bin/env python3
"""The automatic charging job in 1, 2, 4 worker processes at once, with Stripe's latency.

    ODOO_HOME=/path/to/odoo PYTHON=/path/to/python \\
        $PYTHON bench/charges_parallel.py --invoices 200 --workers 1,2,4 --latency-ms 500

Standalone (like bench/charges.py): a throwaway PostgreSQL with the addon installed,
localstripe on 127.0.0.1, and in front of it a latency injector (an aiohttp proxy on
127.0.0.1 that waits ``--latency-ms`` before forwarding each request: real Stripe takes about
0.5 to 2 s to confirm an off-session PaymentIntent, localstripe a few ms).

- Data: ``--invoices`` customers in automatic mode with an authorized card and one posted
  invoice due today (bench/charges.py's ``prepare``), once, in a database copied for each
  measured run (``CREATE DATABASE ... TEMPLATE``): every run starts from the same state.
- Baseline ("today's serial job"): one worker charging each invoice in turn through
  ``_charge`` (prepare, send, wait for Stripe, apply: nothing overlapped), the job as it
  was before batches sent their requests at once, on ``--serial-invoices`` invoices.
- For each worker count W: W separate Odoo processes (each its own registry and connections
  to the one PostgreSQL), each running the charging job as Odoo's cron runner runs a
  scheduled action (an ``ir.cron.progress`` in the context, a commit after each call, again
  while work remains): the W lanes of the job. Requests at once per worker:
  ``--concurrency``.
- Odoo's own path for the same invoice (``own_path_odoo_ms_per_charge``): in this process,
  on ``--own-invoices`` of the invoices, serially: a ``payment.transaction`` with the token
  (offline), ``_send_payment_request`` (18.0) / ``_charge_with_token`` (19.0), which sends
  payment_stripe's own PaymentIntent request (redirected to the proxy by the bench: Odoo
  sends it to api.stripe.com), then Odoo's ``_post_process``.
- Odoo-side ms per charge: the job's time minus the time spent waiting for Stripe (the
  worker's main thread waiting for the answers of its batch; for the own path, the HTTP
  request), divided by the charges; queries per charge: every query of the worker's cursors.
- Checks: PaymentIntents created (counted at the proxy: 200 answers to POST
  /v1/payment_intents), duplicates (PaymentIntents beyond one per attempt reference),
  invoices left unpaid.

Writes ``bench/results/charges-parallel.json`` (or ``--output``).

``--profile-queries`` (a small run: ``--invoices 100 --workers 1 --latency-ms 0``): where the
queries of a charge go. Every statement of the first worker count's workers and of Odoo's own
path is kept and keyed by its verb and main table (``SELECT account_move``, ``UPDATE
omni_charge_attempt``, ``SAVEPOINT``...); writes ``bench/results/charges-query-profile.json``:
the queries per charge by key of both paths, the difference (job minus own path) per key,
largest first, and the statements behind the largest differences. No serial baseline, and
``--output`` is not written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import charges  # noqa: E402  (prepare: customers, cards, due invoices)
from benchlib import say  # noqa: E402

omnictl = benchlib.omnictl
CRON = "omni_payment_charging.ir_cron_charge_due_invoices"
CONCURRENCY_PARAM = "omni_payment_charging.charge_concurrency"
RATE_PARAM = "omni_payment_charging.stripe_requests_per_second"


# --------------------------------------------------------------------------- latency proxy


class LatencyProxy:
    """An aiohttp server on 127.0.0.1 that forwards every request to ``upstream`` after
    ``latency`` seconds, and counts the PaymentIntents created per attempt reference."""

    def __init__(self, upstream: str, latency: float):
        self.upstream = upstream.rstrip("/")
        self.latency = latency
        self.port = omnictl.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.created = Counter()  # omni_reference (or "?"): PaymentIntents created
        self.requests = 0
        self._lock = threading.Lock()
        self._loop = None
        self._ready = threading.Event()

    def reset(self):
        with self._lock:
            self.created = Counter()
            self.requests = 0

    async def _handle(self, request):
        import aiohttp  # noqa: PLC0415
        from aiohttp import web  # noqa: PLC0415

        body = await request.read()
        if request.method == "POST" and request.path == "/v1/payment_intents":
            # payment_stripe's own request (Odoo's path) sends the customer's shipping
            # address, which localstripe refuses (real Stripe accepts it): left out here.
            form = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
            kept = [(k, v) for k, v in form if not k.startswith("shipping")]
            if len(kept) != len(form):
                body = urllib.parse.urlencode(kept).encode()
        await asyncio.sleep(self.latency)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                self.upstream + request.path_qs,
                data=body,
                headers=headers,
            ) as response,
        ):
            payload = await response.read()
            status = response.status
            content_type = response.headers.get("Content-Type", "application/json")
        with self._lock:
            self.requests += 1
            if request.method == "POST" and request.path == "/v1/payment_intents" and status == 200:
                form = urllib.parse.parse_qs(body.decode())
                reference = (form.get("metadata[omni_reference]") or ["?"])[0]
                self.created[reference] += 1
        return web.Response(body=payload, status=status, headers={"Content-Type": content_type})

    def start(self):
        from aiohttp import web  # noqa: PLC0415

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=10 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", self.port)
            self._loop.run_until_complete(site.start())
            self._ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True, name="latency-proxy").start()
        self._ready.wait(10)
        say(f"latency proxy on {self.url}: +{int(self.latency * 1000)} ms per request")
        return self


# --------------------------------------------------------------------------- the workers

WORKER = r"""
import json, sys, time
import psycopg2
sys.path.insert(0, sys.argv[4])
import benchlib
benchlib.import_odoo()
from odoo.tools import config
config.parse_config(["-c", sys.argv[1], "-d", sys.argv[2], f"--logfile={sys.argv[5]}"])
from odoo import api
from odoo.modules.registry import Registry

batch_size = int(sys.argv[3])
registry = Registry(sys.argv[2])
Attempt = registry["omni.charge.attempt"]
waited = [0.0]
original = Attempt._send_batch


def timed_send_batch(self):
    # The main thread's wait for Stripe's answers (and the pacing): not Odoo's work.
    answers = original(self)
    while True:
        started = time.perf_counter()
        try:
            item = next(answers)
        except StopIteration:
            waited[0] += time.perf_counter() - started
            return
        waited[0] += time.perf_counter() - started
        yield item


Attempt._send_batch = timed_send_batch
if sys.argv[7] == "serial":
    # Today's serial job, as it was before the batch sent its requests at once: each
    # invoice charged in turn (_charge: prepare, send, wait, apply), nothing overlapped.
    def serial_batch(self, invoices):
        attempts = self.browse()
        for invoice in invoices:
            with self.env.cr.savepoint():
                attempts |= self._charge(invoice)
        return attempts

    Attempt._charge_batch = serial_batch
    original_create = Attempt._request_payment_intent

    def timed_request(self, tx):
        started = time.perf_counter()
        try:
            return original_create(self, tx)
        finally:
            waited[0] += time.perf_counter() - started

    Attempt._request_payment_intent = timed_request
with registry.cursor() as cr:
    env = api.Environment(cr, 1, {})
    cron = env.ref(sys.argv[6])
    cron_id, user_id = cron.id, cron.user_id.id
    cr.commit()
print("ready", flush=True)
sys.stdin.readline()  # the bench starts every worker at once
charged = queries = conflicts = 0
started = time.perf_counter()
cpu_started = time.thread_time()
profile_path = sys.argv[8] if len(sys.argv) > 8 else ""
with registry.cursor() as cr, benchlib.capture_queries(keep=bool(profile_path)) as log:
    env = api.Environment(cr, user_id, {"lastcall": False, "cron_id": cron_id})
    while True:
        cron, progress = env["ir.cron"].browse(cron_id)._add_progress()
        cr.commit()
        try:
            done = cron.env["omni.charge.attempt"]._cron_charge_due_invoices(
                batch_size=batch_size
            )
            cr.commit()
        except psycopg2.OperationalError:
            # What the cron runner does with a concurrent update: roll back, run again.
            cr.rollback()
            conflicts += 1
            continue
        charged += len(done)
        if not progress.remaining or not progress.done:
            break
wall = time.perf_counter() - started
cpu = time.thread_time() - cpu_started
if profile_path:
    with open(profile_path, "w") as out:
        json.dump(benchlib.query_profile(log.queries), out)
print(json.dumps({"charged": charged, "wall_s": wall, "stripe_wait_s": waited[0], "cpu_s": cpu,
                  "queries": log.count, "conflicts": conflicts}), flush=True)
"""


def run_workers(
    cluster, db: str, workers: int, batch_size: int, proxy_url: str, mode: str, profile=False
) -> dict:
    """``workers`` processes running the job at once; returns their figures (with
    ``profile``, each worker's statements by key: ``"profile"``)."""
    profiles = [
        cluster.session.work / f"worker-{db}-{i}-queries.json" if profile else ""
        for i in range(workers)
    ]
    env = cluster.odoo.env(dict(os.environ))
    env["OMNI_STRIPE_API_BASE"] = proxy_url
    log = omnictl.LOG_DIR / "bench-charges-parallel-workers.log"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(cluster.conf),
                db,
                str(batch_size),
                str(benchlib.BENCH),
                str(log),
                CRON,
                mode,
                str(profiles[i]),
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    for proc in procs:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"worker did not start: {line!r} (see {log})")
    started = time.perf_counter()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _err = proc.communicate(timeout=24 * 3600)
        if proc.returncode:
            raise RuntimeError(f"worker failed ({proc.returncode}); see {log}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    for result, path in zip(results, profiles, strict=True):
        if path:
            result["profile"] = json.loads(Path(path).read_text())
    return {"seconds": time.perf_counter() - started, "workers": results}


class LockSampler:
    """Samples, every 0.1 s, the sessions of the database that wait for a lock (and what
    their query is): do the workers wait for each other?"""

    def __init__(self, cluster, db: str):
        self.cluster, self.db = cluster, db
        self.samples = 0
        self.waiting = Counter()
        self._stop = threading.Event()
        self._thread = None

    def _run(self):
        conn = self.cluster.connect("postgres", autocommit=True)
        try:
            with conn.cursor() as cur:
                while not self._stop.wait(0.1):
                    cur.execute(
                        "SELECT wait_event, left(query, 60) FROM pg_stat_activity "
                        "WHERE datname = %s AND wait_event_type = 'Lock'",
                        [self.db],
                    )
                    self.samples += 1
                    for event, query in cur.fetchall():
                        self.waiting[f"{event}: {query}"] += 1
        finally:
            conn.close()

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(5)
        return {
            "samples": self.samples,
            "sessions_waiting_per_sample": round(sum(self.waiting.values()) / self.samples, 2)
            if self.samples
            else None,
            "top": dict(self.waiting.most_common(5)),
        }


def set_params(cluster, db: str, params: dict) -> None:
    """System parameters, in SQL (no Odoo registry kept open on the copied database)."""
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            for key, value in params.items():
                cur.execute("DELETE FROM ir_config_parameter WHERE key = %s", [key])
                cur.execute(
                    "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", [key, value]
                )
        conn.commit()
    finally:
        conn.close()


def verify(cluster, db: str, proxy: LatencyProxy) -> dict:
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM account_move WHERE move_type = 'out_invoice' "
                "AND payment_state NOT IN ('paid', 'in_payment')"
            )
            unpaid = cur.fetchone()[0]
            cur.execute("SELECT state, count(*) FROM omni_charge_attempt GROUP BY state")
            attempts = dict(cur.fetchall())
    finally:
        conn.close()
    created = proxy.created
    return {
        "payment_intents": sum(created.values()),
        "duplicates": sum(n - 1 for n in created.values() if n > 1),
        "unpaid": unpaid,
        "attempts_by_state": attempts,
    }


def measure(cluster, template: str, name: str, invoices: int, workers: int, args, proxy):
    db = f"{template}_{name}"
    conn = cluster.connect("postgres", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
    finally:
        conn.close()
    concurrency = 0 if name == "serial" else args.concurrency
    set_params(cluster, db, {CONCURRENCY_PARAM: str(concurrency or 1), RATE_PARAM: str(args.rate)})
    proxy.reset()
    say(f"{name}: {workers} worker(s), {concurrency} request(s) at once, {invoices:,} invoices")
    sampler = LockSampler(cluster, db).start()
    try:
        run = run_workers(
            cluster,
            db,
            workers,
            args.batch,
            proxy.url,
            "serial" if name == "serial" else "batch",
            profile=args.profile_queries,
        )
    finally:
        locks = sampler.stop()
    checks = verify(cluster, db, proxy)
    charged = sum(w["charged"] for w in run["workers"])
    busy = sum(w["wall_s"] - w["stripe_wait_s"] for w in run["workers"])
    queries = sum(w["queries"] for w in run["workers"])
    row = {
        "workers": workers,
        "concurrency": concurrency,
        "invoices": invoices,
        "seconds": round(run["seconds"], 1),
        "charges_per_s": round(charged / run["seconds"], 2) if run["seconds"] else None,
        "charged": charged,
        "payment_intents": checks["payment_intents"],
        "duplicates": checks["duplicates"],
        "unpaid": checks["unpaid"],
        "odoo_ms_per_charge": round(1000 * busy / charged, 1) if charged else None,
        "odoo_cpu_ms_per_charge": round(1000 * sum(w["cpu_s"] for w in run["workers"]) / charged, 1)
        if charged
        else None,
        "queries_per_charge": round(queries / charged, 1) if charged else None,
        "attempts_by_state": checks["attempts_by_state"],
        "serialization_conflicts": sum(w.get("conflicts", 0) for w in run["workers"]),
        "lock_waits": locks,
    }
    if args.profile_queries:
        row["profile"] = merge_profiles(w["profile"] for w in run["workers"])
    say(
        f"  {row['seconds']} s, {row['charges_per_s']} charges/s, Odoo {row['odoo_ms_per_charge']}"
        f" ms/charge, {row['queries_per_charge']} queries/charge, PaymentIntents "
        f"{row['payment_intents']}, duplicates {row['duplicates']}, unpaid {row['unpaid']}"
    )
    drop(cluster, db)
    return row


def drop(cluster, db: str) -> None:
    conn = cluster.connect("postgres", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [db]
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{db}"')
    finally:
        conn.close()


# --------------------------------------------------------------------------- Odoo's own path


def own_path(cluster, db: str, count: int, proxy_url: str, profile=False) -> dict:
    """Odoo's own token charge for ``count`` due invoices, serially, in this process: the
    transaction, ``_send_payment_request`` / ``_charge_with_token``, ``_post_process``
    (with ``profile``, its statements by key: ``"profile"``)."""
    import requests  # noqa: PLC0415

    odoo = cluster.load_odoo()
    registry = cluster.registry(db)
    real_request = requests.request
    http = [0.0]

    def request(method, url, **kwargs):
        # payment_stripe sends to api.stripe.com: to the proxy (localstripe) instead.
        url = url.replace("https://api.stripe.com", proxy_url)
        started = time.perf_counter()
        try:
            return real_request(method, url, **kwargs)
        finally:
            http[0] += time.perf_counter() - started

    requests.request = request
    charged = 0
    try:
        with registry.cursor() as cr, benchlib.capture_queries(keep=profile) as log:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            invoices = env["account.move"].search(
                [("move_type", "=", "out_invoice"), ("payment_state", "=", "not_paid")],
                limit=count,
                order="id",
            )
            cr.commit()
            started = time.perf_counter()
            cpu_started = time.thread_time()
            for invoice in invoices:
                token = invoice.commercial_partner_id.payment_token_ids[:1]
                tx = env["payment.transaction"].create(
                    {
                        "provider_id": token.provider_id.id,
                        "payment_method_id": token.payment_method_id.id,
                        "reference": f"{invoice.name}-own",
                        "amount": invoice.amount_residual,
                        "currency_id": invoice.currency_id.id,
                        "partner_id": invoice.partner_id.id,
                        "token_id": token.id,
                        "operation": "offline",
                        "invoice_ids": [odoo.Command.set(invoice.ids)],
                    }
                )
                if hasattr(tx, "_charge_with_token"):  # 19.0
                    tx._charge_with_token()
                else:  # 18.0
                    tx._send_payment_request()
                if tx.state == "done":
                    tx._post_process()
                    charged += 1
                cr.commit()
            seconds = time.perf_counter() - started
            cpu = time.thread_time() - cpu_started
    finally:
        requests.request = real_request
    result = {
        "charges": charged,
        "seconds": round(seconds, 1),
        "http_s": round(http[0], 1),
        "odoo_ms_per_charge": round(1000 * (seconds - http[0]) / charged, 1) if charged else None,
        "odoo_cpu_ms_per_charge": round(1000 * cpu / charged, 1) if charged else None,
        "queries_per_charge": round(log.count / charged, 1) if charged else None,
    }
    if profile:
        result["profile"] = benchlib.query_profile(log.queries)
    return result


# --------------------------------------------------------------------------- query profile


def merge_profiles(profiles) -> dict:
    """The sum of several ``benchlib.query_profile`` results (one per worker)."""
    merged: dict = {}
    for profile in profiles:
        for key, entry in profile.items():
            into = merged.setdefault(key, {"count": 0, "shapes": Counter()})
            into["count"] += entry["count"]
            into["shapes"].update(entry["shapes"])
    return merged


def per_charge(profile: dict, charges: int) -> dict:
    """Queries per charge by key, most frequent first."""
    rows = {key: entry["count"] / charges for key, entry in profile.items()}
    return {key: round(n, 2) for key, n in sorted(rows.items(), key=lambda kv: -kv[1])}


def write_profile(args, machine: dict, addon_row: dict, own: dict) -> None:
    """``bench/results/charges-query-profile.json``: the queries per charge of the charging
    job (its worker) and of Odoo's own path, by key, and the difference per key, with the
    statements (shapes) that make most of the difference."""
    addon_n, own_n = addon_row["charged"], own["charges"]
    addon = per_charge(addon_row["profile"], addon_n)
    odoo = per_charge(own["profile"], own_n)
    difference = []
    for key in set(addon) | set(odoo):
        diff = round(addon.get(key, 0.0) - odoo.get(key, 0.0), 2)
        if diff:
            difference.append(
                {
                    "key": key,
                    "addon": addon.get(key, 0.0),
                    "own_path": odoo.get(key, 0.0),
                    "difference": diff,
                }
            )
    difference.sort(key=lambda row: (-row["difference"], row["key"]))

    def shapes(profile, key, charges, top=8):
        counter = Counter((profile.get(key) or {}).get("shapes") or {})
        return [
            {"per_charge": round(n / charges, 2), "statement": shape}
            for shape, n in counter.most_common(top)
        ]

    statements = {
        row["key"]: {
            "addon": shapes(addon_row["profile"], row["key"], addon_n),
            "own_path": shapes(own["profile"], row["key"], own_n),
        }
        for row in difference[:15]
    }
    result = {
        "machine": machine,
        "invoices": args.invoices,
        "workers": addon_row["workers"],
        "latency_ms": args.latency_ms,
        "batch": args.batch,
        "concurrency": args.concurrency,
        "addon": {
            "charges": addon_n,
            "queries_per_charge": addon_row["queries_per_charge"],
            "odoo_cpu_ms_per_charge": addon_row["odoo_cpu_ms_per_charge"],
            "by_key": addon,
        },
        "own_path": {
            "charges": own_n,
            "queries_per_charge": own["queries_per_charge"],
            "odoo_cpu_ms_per_charge": own["odoo_cpu_ms_per_charge"],
            "by_key": odoo,
        },
        "difference_addon_minus_own_path": difference,
        "top_statements": statements,
    }
    benchlib.write_json(args.profile_output, result)
    say(
        f"queries per charge: addon {addon_row['queries_per_charge']}, own path "
        f"{own['queries_per_charge']}; largest differences:"
    )
    for row in difference[:10]:
        say(f"  {row['difference']:+7.2f}  {row['key']} ({row['addon']} vs {row['own_path']})")


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--latency-ms", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8, help="requests at once per worker")
    parser.add_argument("--batch", type=int, default=50, help="invoices per batch")
    parser.add_argument("--rate", type=int, default=0, help="requests/s per Stripe account")
    parser.add_argument(
        "--serial-invoices", type=int, default=None, help="baseline size (default: min(N, 200))"
    )
    parser.add_argument("--own-invoices", type=int, default=None, help="default: min(N, 100)")
    parser.add_argument("--output", default="charges-parallel.json")
    parser.add_argument(
        "--profile-queries",
        action="store_true",
        help="keep every statement of the first worker count's workers and of Odoo's own "
        "path; write their queries per charge by statement and table, and the difference, "
        "to --profile-output (no serial baseline, no --output); e.g. --invoices 100 "
        "--workers 1 --latency-ms 0",
    )
    parser.add_argument("--profile-output", default="charges-query-profile.json")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    serial_n = args.serial_invoices or min(args.invoices, 200)
    if args.profile_queries:
        serial_n = args.invoices  # no baseline: no database of its own
    own_n = args.own_invoices or min(args.invoices, 100)
    with benchlib.Cluster() as cluster:
        localstripe = omnictl.LocalStripe(cluster.session).start(dict(os.environ))
        proxy = LatencyProxy(localstripe.url, args.latency_ms / 1000).start()
        say(f"creating {args.invoices:,} customers with a card and a due invoice")
        base = cluster.create_db("par")
        prepared = charges.prepare(cluster, base, localstripe.url, args.invoices)
        serial_db = base
        if serial_n != args.invoices:
            serial_db = cluster.create_db("parserial")
            charges.prepare(cluster, serial_db, localstripe.url, serial_n)
        for db in {base, serial_db}:
            with cluster.env(db) as env:
                # The provider's journal and its payment method line, set up once: Odoo
                # creates the line the first time the journal is read (a compute with a side
                # effect), which workers starting together would each do.
                env.ref("payment.payment_provider_stripe").journal_id.ensure_one()
        say(f"  done in {prepared['seconds']} s")
        # No connection may stay open on a template database.
        import odoo  # noqa: PLC0415

        odoo.sql_db.close_all()
        cluster._registries.clear()
        rows = []
        serial = None
        if not args.profile_queries:
            serial = measure(cluster, serial_db, "serial", serial_n, 1, args, proxy)
        for workers in counts:
            rows.append(measure(cluster, base, f"w{workers}", args.invoices, workers, args, proxy))
        say(f"Odoo's own path on {own_n} invoices")
        own_db = f"{base}_own"
        conn = cluster.connect("postgres", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{own_db}" TEMPLATE "{base}"')
        finally:
            conn.close()
        own = own_path(cluster, own_db, own_n, proxy.url, profile=args.profile_queries)
        say(f"  own path: { {k: v for k, v in own.items() if k != 'profile'} }")
        if args.profile_queries:
            write_profile(args, benchlib.machine_info(cluster), rows[0], own)
            return 0 if all(row["duplicates"] == row["unpaid"] == 0 for row in rows) else 1
        for row in rows:
            row["speedup_vs_serial"] = (
                round(row["charges_per_s"] / serial["charges_per_s"], 2)
                if serial["charges_per_s"]
                else None
            )
            row["odoo_cost_vs_own_path"] = (
                round(row["odoo_ms_per_charge"] / own["odoo_ms_per_charge"], 2)
                if own["odoo_ms_per_charge"] and row["odoo_ms_per_charge"]
                else None
            )
            row["odoo_cpu_vs_own_path"] = (
                round(row["odoo_cpu_ms_per_charge"] / own["odoo_cpu_ms_per_charge"], 2)
                if own["odoo_cpu_ms_per_charge"] and row["odoo_cpu_ms_per_charge"]
                else None
            )
        result = {
            "machine": benchlib.machine_info(cluster),
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "batch": args.batch,
            "rate_setting": args.rate,
            "prepare_s": prepared["seconds"],
            "serial_baseline": serial,
            "runs": rows,
            "own_path_odoo_ms_per_charge": own["odoo_ms_per_charge"],
            "own_path_odoo_cpu_ms_per_charge": own["odoo_cpu_ms_per_charge"],
            "own_path": own,
        }
        benchlib.write_json(args.output, result)
    ok = all(row["duplicates"] == 0 and row["unpaid"] == 0 for row in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(benchlib.run_main(main))
