#!/usr/bin/env python3
"""Time a bulk charge against localstripe: N customers charged from one run.

    ODOO_HOME=/path/to/odoo-18 PYTHON=/path/to/python $PYTHON bench/bulk_charge.py \
        [--customers 5000]
    $PYTHON bench/bulk_charge.py --preview 5000,50000     # the preview alone, no Stripe

Standalone: it starts a throwaway PostgreSQL and localstripe (127.0.0.1), installs the addon,
creates the data, runs the bulk charge, writes bench/results/bulk_charge.json and
bench/results/bulk_charge.md, and stops everything.

- Data (as bench/charges.py): N customers, each with an authorized default card and one
  posted open invoice (ORM, in chunks). The cards are real localstripe PaymentMethods
  (4242 4242 4242 4242) attached to real localstripe customers; 50 of them are shared by the
  N tokens (the Stripe round trip of a charge is the same). The customers pay manually
  (a bulk charge is staff's: the payment mode does not apply).
- Start: the "Charge saved payment methods" wizard opened on the N customers (the preview
  lists who would be skipped) and "Start", as a payment method manager: the run and its N
  lines are created.
- Processing: the scheduled action ``omni.bulk.charge._cron_omni_bulk_charge`` (the path
  used without queue_job) run batch after batch as Odoo 18's cron runner does: a new cursor
  per batch as the cron's user with an ``ir.cron.progress`` record, committed after the call,
  until it reports nothing left. One batch = ``batch_size`` (50) customers.
- Measured: wall time (start + processing); time inside the SDK's PaymentIntent request
  (the Stripe round trip, localstripe's included); Odoo-side time per charge = (processing
  time - Stripe time) / charges; SQL queries per charge; and checks that every customer was
  charged once (distinct PaymentIntents == N, lines succeeded == N).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import bulk_preview  # noqa: E402
import charges  # noqa: E402
from benchlib import say  # noqa: E402
from charges import StripeClock  # noqa: E402

omnictl = benchlib.omnictl
CRON = "omni_payment_charging.ir_cron_omni_bulk_charge"
MANAGER_GROUP = "omni_payment_methods.group_omni_payment_method_manager"
BATCH = 50


def prepare(cluster, db: str, url: str, count: int) -> tuple[dict, list[int]]:
    """The data of bench/charges.py, the customers paying manually (a bulk charge is staff's:
    the payment mode does not apply, and the automatic job leaves them alone); the
    administrator is made a payment method manager (who may start a bulk charge)."""
    partner_ids = []
    prepared = charges.prepare(cluster, db, url, count, "manual", partner_ids)
    with cluster.env(db) as env:
        admin = env.ref("base.user_admin")
        # the users' groups: groups_id on Odoo 18.0, group_ids on 19.0
        groups = "group_ids" if "group_ids" in admin._fields else "groups_id"
        admin[groups] = [(4, env.ref(MANAGER_GROUP).id)]
    return prepared, partner_ids


def start_run(cluster, db: str, partner_ids: list[int]) -> dict:
    """The wizard on the N customers, then "Start", as the (manager) administrator."""
    with cluster.env(db) as root_env:
        env = root_env(user=root_env.ref("base.user_admin").id)
        started = time.perf_counter()
        wizard = (
            env["omni.bulk.charge.wizard"]
            .with_context(active_model="res.partner", active_ids=partner_ids)
            .create({"batch_size": BATCH})
        )
        preview = {
            "charge_count": wizard.charge_count,
            "skip_count": wizard.skip_count,
            "amount_total": wizard.amount_total,
        }
        preview_s = time.perf_counter() - started
        action = wizard.action_start()
        start_s = time.perf_counter() - started
        run_id = action["res_id"]
        assert env["omni.bulk.charge"].browse(run_id).backend == "cron", "queue_job installed?"
    return {
        "run_id": run_id,
        "preview": preview,
        "wizard_preview_s": round(preview_s, 2),
        "start_s": round(start_s, 2),
    }


def process_batch(env) -> int:
    """One run of the bulk charges' scheduled action; returns the customers it handled."""
    return env["omni.bulk.charge"]._cron_omni_bulk_charge()


def verify(cluster, db: str, run_id: int, count: int) -> dict:
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT state FROM omni_bulk_charge WHERE id = %s", (run_id,))
            run_state = cur.fetchone()[0]
            cur.execute(
                "SELECT state, count(*) FROM omni_bulk_charge_line WHERE run_id = %s "
                "GROUP BY state ORDER BY state",
                (run_id,),
            )
            lines = dict(cur.fetchall())
            cur.execute(
                "SELECT count(*), count(DISTINCT a.stripe_payment_intent), "
                "count(DISTINCT a.partner_id) FROM omni_charge_attempt a "
                "WHERE a.origin = 'bulk' AND a.state = 'done'"
            )
            done, intents, customers = cur.fetchone()
            cur.execute("SELECT count(*) FROM omni_charge_attempt WHERE origin = 'bulk'")
            attempts = cur.fetchone()[0]
            cur.execute(
                "SELECT payment_state, count(*) FROM account_move "
                "WHERE move_type = 'out_invoice' GROUP BY payment_state"
            )
            payment_states = dict(cur.fetchall())
    finally:
        conn.close()
    return {
        "customers": count,
        "run_state": run_state,
        "lines_by_state": lines,
        "attempts": attempts,
        "done_attempts": done,
        "distinct_payment_intents": intents,
        "distinct_customers_charged": customers,
        "invoice_payment_states": payment_states,
        "every_customer_charged_once": (
            run_state == "done"
            and lines.get("succeeded") == count
            and attempts == done == intents == customers == count
        ),
    }


def write_markdown(data: dict) -> Path:
    charging, start, checks = data["charging"], data["start"], data["checks"]
    machine = data["machine"]
    text = f"""# Bulk charge: {checks["customers"]:,} customers against localstripe

Generated by `bench/bulk_charge.py --customers {checks["customers"]}` (see
[`../README.md`](../README.md)); raw numbers in `bulk_charge.json`.
Machine: {machine.get("cpu") or "?"}, {machine.get("cpus_available", "?")} CPU(s) available,
load at start {machine.get("loadavg_1_5_15_at_start")}; addon {machine.get("addon_commit")}.

| Measure | Value |
|---|---|
| Wizard preview ({start["preview"]["charge_count"]:,} customers) | {start["wizard_preview_s"]} s |
| Start (preview + run and lines created) | {start["start_s"]} s |
| Processing: batches of {BATCH} | {charging["batches"]} |
| Processing wall time | {charging["wall_s"]} s |
| Time per charge (total) | {charging["ms_per_charge_total"]} ms |
| of which inside the Stripe request (localstripe) | {charging["ms_per_charge_stripe"]} ms |
| of which Odoo | {charging["ms_per_charge_odoo"]} ms |
| SQL queries per charge | {charging["queries_per_charge"]} |
| Every customer charged once | {checks["every_customer_charged_once"]} |

Checks: lines {checks["lines_by_state"]}; {checks["distinct_payment_intents"]:,} distinct
PaymentIntents for {checks["distinct_customers_charged"]:,} customers; invoices
{checks["invoice_payment_states"]}.

The Stripe share is localstripe's (a local Python server on the same cores, slower as its
in-memory store fills: see charges.md); against Stripe the network round trip to Stripe
replaces it (not measured here). Odoo's own time per charge (transaction, payment posting
and reconciliation, audit trail, line bookkeeping) is the part this bench tracks.
"""
    path = benchlib.RESULTS / "bulk_charge.md"
    path.write_text(text)
    say(f"wrote {benchlib.shown(path)}")
    return path


def preview_only(args) -> int:
    sizes = [int(size) for size in args.preview.split(",") if size.strip()]
    with benchlib.Cluster() as cluster:
        results = bulk_preview.run(
            cluster, sizes, runs=args.runs, profile_to=Path(args.profile) if args.profile else None
        )
        data = {"machine": benchlib.machine_info(cluster), "runs": args.runs, "preview": results}
        benchlib.write_json(f"{args.out}.json", data)
        path = benchlib.RESULTS / f"{args.out}.md"
        bulk_preview.write_markdown(data, path)
        say(f"wrote {benchlib.shown(path)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument(
        "--preview",
        metavar="SIZES",
        help="only the preview (no Stripe): the wizard opened on each number of customers "
        "of SIZES (comma-separated, e.g. 5000,50000); results in "
        "results/bulk_charge_preview.json and .md (see bulk_preview.py)",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per preview measure")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="with --preview: write a cProfile of one open per size to PATH-<size>.txt",
    )
    parser.add_argument(
        "--out", default="bulk_charge_preview", help="result name of --preview (no extension)"
    )
    args = parser.parse_args()
    if args.preview:
        return preview_only(args)
    with benchlib.Cluster() as cluster:
        localstripe = omnictl.LocalStripe(cluster.session).start(dict(os.environ))
        db = cluster.create_db("bulk_charge")
        say(f"creating {args.customers:,} customers with a card and an open invoice")
        prepared, partner_ids = prepare(cluster, db, localstripe.url, args.customers)
        say(f"  done in {prepared['seconds']} s; starting the bulk charge")
        started = time.perf_counter()
        start = start_run(cluster, db, partner_ids)
        say(f"  run started in {start['start_s']} s; processing")
        clock = StripeClock()
        clock.install()
        result = charges.cron_loop(cluster, db, clock, cron_xmlid=CRON, run_batch=process_batch)
        total_wall = round(time.perf_counter() - started, 1)
        checks = verify(cluster, db, start["run_id"], args.customers)
        say(
            f"{result['charges']:,} charges in {total_wall} s (start included): "
            f"{result['ms_per_charge_total']} ms/charge, of which Stripe (localstripe) "
            f"{result['ms_per_charge_stripe']} ms and Odoo {result['ms_per_charge_odoo']} ms; "
            f"{result['queries_per_charge']} queries/charge"
        )
        say(f"every customer charged once: {checks['every_customer_charged_once']}")
        data = {
            "machine": benchlib.machine_info(cluster),
            "prepare": prepared,
            "start": start,
            "total_wall_s": total_wall,
            "charging": result,
            "checks": checks,
        }
        benchlib.write_json("bulk_charge.json", data)
        write_markdown(data)
    return 0 if checks["every_customer_charged_once"] else 1


if __name__ == "__main__":
    sys.exit(benchlib.run_main(main))
