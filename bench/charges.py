#!/usr/bin/env python3
"""Time the automatic charging job against localstripe: N due invoices charged off-session.

    ODOO_HOME=/path/to/odoo-18 PYTHON=/path/to/python $PYTHON bench/charges.py [--invoices 10000]

Standalone: it starts a throwaway PostgreSQL and localstripe (127.0.0.1), installs the addon,
creates the data, runs the job, writes bench/results/charges.json and stops everything.

- Data: N customers in automatic mode, each with one authorized default card and one posted
  invoice due today (created through the ORM, as Odoo would). The cards are real localstripe
  PaymentMethods (4242 4242 4242 4242) attached to real localstripe customers; 50 of them are
  shared by the N tokens (the Stripe round trip of a charge is the same).
- The job ``omni.charge.attempt._cron_charge_due_invoices(batch_size=50)`` runs batch after
  batch as Odoo 18's cron runner does (``ir.cron._run_job``): a new cursor per batch as the
  cron's user with an ``ir.cron.progress`` record, committed after the call, until it reports
  nothing left.
- Each charge is a ``payment.transaction`` (offline, with the token) whose PaymentIntent is
  sent through the Stripe SDK, then Odoo's own post-processing creates, posts and
  reconciles the ``account.payment``.
- Measured: wall time; the time spent inside the SDK's PaymentIntent request (the Stripe
  round trip, localstripe included); Odoo-side time per charge = (job time - Stripe time) /
  charges; SQL queries per charge; and a check that every invoice is paid by exactly one
  PaymentIntent.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
from benchlib import say  # noqa: E402

omnictl = benchlib.omnictl
CRON = "omni_payment_charging.ir_cron_charge_due_invoices"
BATCH = 50
STRIPE_CARDS = 50
CREATE_CHUNK = 500


class StripeClock:
    """Time spent in the SDK's PaymentIntent create calls (this thread)."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def install(self):
        from stripe._payment_intent_service import PaymentIntentService  # noqa: PLC0415

        original = PaymentIntentService.create
        clock = self

        def create(service, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(service, *args, **kwargs)
            finally:
                with clock._lock:
                    clock.seconds += time.perf_counter() - started
                    clock.calls += 1

        PaymentIntentService.create = create
        return original


def stripe_cards(url: str, count: int) -> list[tuple[str, str]]:
    import stripe  # noqa: PLC0415

    client = stripe.StripeClient(
        omnictl.LOCALSTRIPE_SECRET_KEY, base_addresses={"api": url}, max_network_retries=0
    )
    cards = []
    for index in range(count):
        customer = client.v1.customers.create({"name": f"Bench {index}"})
        pm = client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2031,
                    "cvc": "123",
                },
            }
        )
        client.v1.payment_methods.attach(pm["id"], {"customer": customer["id"]})
        cards.append((customer["id"], pm["id"]))
    return cards


def prepare(
    cluster, db: str, url: str, count: int, payment_mode: str = "automatic", partner_ids=None
) -> dict:
    """Provider on localstripe, N customers (in ``payment_mode``) with an authorized card and
    an invoice due today. The customers' ids are appended to ``partner_ids`` when given."""
    started = time.perf_counter()
    # The provider (test mode) talks to localstripe: the server-level setting, in this
    # process, which runs the charges.
    os.environ["OMNI_STRIPE_API_BASE"] = url
    cards = stripe_cards(url, STRIPE_CARDS)
    with cluster.env(db) as env:
        provider = env.ref("payment.payment_provider_stripe")
        provider.write(
            {
                "state": "test",
                "stripe_secret_key": omnictl.LOCALSTRIPE_SECRET_KEY,
                "stripe_publishable_key": "pk_test_bench",
            }
        )
        provider_id = provider.id
    card_method_id = None
    for offset in range(0, count, CREATE_CHUNK):
        size = min(CREATE_CHUNK, count - offset)
        with cluster.env(db, context={"tracking_disable": True}) as env:
            card_method_id = card_method_id or env.ref("payment.payment_method_card").id
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"Bench customer {offset + i}",
                        "email": f"c{offset + i}@bench.example",
                        "omni_payment_mode": payment_mode,
                    }
                    for i in range(size)
                ]
            )
            if partner_ids is not None:
                partner_ids += partners.ids
            tokens = env["payment.token"].create(
                [
                    {
                        "provider_id": provider_id,
                        "payment_method_id": card_method_id,
                        "partner_id": partner.id,
                        "payment_details": "4242",
                        "provider_ref": cards[(offset + i) % STRIPE_CARDS][0],
                        "stripe_payment_method": cards[(offset + i) % STRIPE_CARDS][1],
                        "omni_method_kind": "card",
                        "omni_stripe_pm_type": "card",
                        "omni_card_brand": "visa",
                        "omni_card_exp_month": 12,
                        "omni_card_exp_year": 2031,
                    }
                    for i, partner in enumerate(partners)
                ]
            )
            tokens._omni_record_authorization()
            today = env.cr.now().date()
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": today,
                        "invoice_date_due": today,
                        "invoice_line_ids": [
                            (0, 0, {"name": "Monthly plan", "quantity": 1, "price_unit": 49.0})
                        ],
                    }
                    for partner in partners
                ]
            )
            invoices.action_post()
        say(f"  {offset + size:,} customers, cards and due invoices")
    return {"seconds": round(time.perf_counter() - started, 1), "stripe_cards": STRIPE_CARDS}


def profile_text(profiler, log) -> str:
    """The batch's hottest functions, and its SQL time by kind of query."""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    out.write("\nSQL seconds by kind:\n")
    for kind, seconds in log.kind_seconds.most_common(15):
        out.write(f"  {seconds:8.3f} s  {log.kinds[kind]:6d}  {kind}\n")
    return out.getvalue()


def charge_due_invoices(env) -> int:
    """One run of the automatic charging job; returns how many invoices it charged."""
    return len(env["omni.charge.attempt"]._cron_charge_due_invoices(batch_size=BATCH))


def cron_loop(
    cluster,
    db: str,
    clock: StripeClock,
    profile_batches=(),
    cron_xmlid: str = CRON,
    run_batch=charge_due_invoices,
) -> dict:
    """Run the scheduled action ``cron_xmlid`` (one batch: ``run_batch(env)``, returning the
    number of charges) batch after batch as Odoo's cron runner does, and measure it."""
    odoo = cluster.load_odoo()
    registry = cluster.registry(db)
    with cluster.env(db, commit=False) as env:
        cron = env.ref(cron_xmlid)
        cron_id, user_id = cron.id, cron.user_id.id
    batches = []
    profiles = {}
    kinds = Counter()
    wall_started = time.perf_counter()
    while True:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, user_id, {"lastcall": False, "cron_id": cron_id})
            cron, progress = env["ir.cron"].browse(cron_id)._add_progress()
            cr.commit()
            stripe_before, calls_before = clock.seconds, clock.calls
            started = time.perf_counter()
            profiler = cProfile.Profile() if len(batches) in profile_batches else None
            with benchlib.capture_queries() as log:
                if profiler:
                    profiler.enable()
                charged = run_batch(cron.env)
                cr.commit()
                if profiler:
                    profiler.disable()
            seconds = time.perf_counter() - started
            done, remaining = progress.done, progress.remaining
            cr.rollback()
        kinds.update(log.kinds)
        if profiler:
            profiles[len(batches)] = profile_text(profiler, log)
        batches.append(
            {
                "charged": charged,
                "remaining": remaining,
                "queries": log.count,
                "sql_s": round(log.seconds, 4),
                "stripe_s": round(clock.seconds - stripe_before, 4),
                "stripe_calls": clock.calls - calls_before,
                "s": round(seconds, 4),
            }
        )
        if len(batches) % 20 == 0:
            window = batches[-20:]
            charged_window = sum(b["charged"] for b in window) or 1
            odoo_ms = 1000 * sum(b["s"] - b["stripe_s"] for b in window) / charged_window
            stripe_ms = 1000 * sum(b["stripe_s"] for b in window) / charged_window
            sql_ms = 1000 * sum(b["sql_s"] for b in window) / charged_window
            say(
                f"  {sum(b['charged'] for b in batches):,} charged, {remaining:,} remaining; "
                f"last {charged_window:,}: Odoo {odoo_ms:.1f} ms/charge (SQL {sql_ms:.1f}), "
                f"Stripe {stripe_ms:.1f} ms/charge"
            )
        if not remaining or not done:
            break
    wall = time.perf_counter() - wall_started
    charges = sum(b["charged"] for b in batches)
    job = sum(b["s"] for b in batches)
    stripe_s = sum(b["stripe_s"] for b in batches)
    queries = sum(b["queries"] for b in batches)
    per_batch_odoo = [
        (b["s"] - b["stripe_s"]) / b["charged"] for b in batches if b["charged"] == BATCH
    ]
    return {
        "batches": len(batches),
        "charges": charges,
        "wall_s": round(wall, 1),
        "job_s": round(job, 1),
        "stripe_s": round(stripe_s, 1),
        "stripe_calls": sum(b["stripe_calls"] for b in batches),
        "ms_per_charge_total": round(1000 * job / charges, 1) if charges else None,
        "ms_per_charge_stripe": round(1000 * stripe_s / charges, 1) if charges else None,
        "ms_per_charge_odoo": round(1000 * (job - stripe_s) / charges, 1) if charges else None,
        "ms_per_charge_odoo_median_batch": round(1000 * benchlib.median(per_batch_odoo), 1)
        if per_batch_odoo
        else None,
        "queries_per_charge": round(queries / charges, 1) if charges else None,
        "sql_s": round(sum(b["sql_s"] for b in batches), 1),
        "series_per_1000": series(batches),
        "profiles": profiles,
        "top_query_kinds_per_charge": {
            kind: round(n / charges, 2) for kind, n in kinds.most_common(12)
        }
        if charges
        else {},
    }


def series(batches: list[dict]) -> list[dict]:
    """Odoo-side and Stripe time per charge for each 1,000 charges: does it grow with the
    volume already charged?"""
    rows, window = [], []
    charged = 0
    for batch in batches:
        window.append(batch)
        charged += batch["charged"]
        if sum(b["charged"] for b in window) >= 1000 or batch is batches[-1]:
            count = sum(b["charged"] for b in window) or 1
            rows.append(
                {
                    "charged_up_to": charged,
                    "odoo_ms": round(1000 * sum(b["s"] - b["stripe_s"] for b in window) / count, 1),
                    "sql_ms": round(1000 * sum(b["sql_s"] for b in window) / count, 1),
                    "stripe_ms": round(1000 * sum(b["stripe_s"] for b in window) / count, 1),
                    "queries": round(sum(b["queries"] for b in window) / count, 1),
                }
            )
            window = []
    return rows


def verify(cluster, db: str, count: int) -> dict:
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT state, count(*) FROM omni_charge_attempt GROUP BY state ORDER BY state"
            )
            attempts = dict(cur.fetchall())
            cur.execute(
                "SELECT count(*), count(DISTINCT stripe_payment_intent), "
                "count(DISTINCT invoice_id) FROM omni_charge_attempt WHERE state = 'done'"
            )
            done, intents, invoices = cur.fetchone()
            cur.execute(
                "SELECT payment_state, count(*) FROM account_move "
                "WHERE move_type = 'out_invoice' GROUP BY payment_state"
            )
            payment_states = dict(cur.fetchall())
            cur.execute("SELECT count(*) FROM account_payment")
            payments = cur.fetchone()[0]
    finally:
        conn.close()
    return {
        "invoices": count,
        "attempts_by_state": attempts,
        "done_attempts": done,
        "distinct_payment_intents": intents,
        "distinct_invoices_charged": invoices,
        "invoice_payment_states": payment_states,
        "account_payments": payments,
        "one_payment_intent_per_invoice": done == intents == invoices == count,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument(
        "--profile-batches",
        default="",
        help="comma-separated batch numbers (0-based) to run under cProfile, e.g. 1,150",
    )
    parser.add_argument("--output", default="charges.json", help="file name under results/")
    args = parser.parse_args()
    with benchlib.Cluster() as cluster:
        localstripe = omnictl.LocalStripe(cluster.session).start(dict(os.environ))
        db = cluster.create_db("charges")
        say(f"creating {args.invoices:,} customers with a card and a due invoice")
        prepared = prepare(cluster, db, localstripe.url, args.invoices)
        say(f"  done in {prepared['seconds']} s; charging")
        clock = StripeClock()
        clock.install()
        profile_batches = {int(n) for n in args.profile_batches.split(",") if n.strip()}
        result = cron_loop(cluster, db, clock, profile_batches)
        checks = verify(cluster, db, args.invoices)
        say(
            f"{result['charges']:,} charges in {result['wall_s']} s: "
            f"{result['ms_per_charge_total']} ms/charge, of which Stripe (localstripe) "
            f"{result['ms_per_charge_stripe']} ms and Odoo {result['ms_per_charge_odoo']} ms; "
            f"{result['queries_per_charge']} queries/charge"
        )
        say(f"one PaymentIntent per invoice: {checks['one_payment_intent_per_invoice']}")
        path = benchlib.write_json(
            args.output,
            {
                "machine": benchlib.machine_info(cluster),
                "prepare": prepared,
                "charging": result,
                "checks": checks,
            },
        )
        say(f"written {path}")
    return 0 if checks["one_payment_intent_per_invoice"] else 1


if __name__ == "__main__":
    sys.exit(benchlib.run_main(main))
