#!/usr/bin/env python3
"""Run every benchmark on one throwaway PostgreSQL and write bench/results/.

    ODOO_HOME=/path/to/odoo-18 PYTHON=/path/to/python $PYTHON bench/run_all.py
    make bench ODOO_HOME=... PYTHON=...          # the same
    $PYTHON bench/run_all.py --quick              # small sizes, results in bench/results/quick/

1. generate.py: 1,000,000 cards and their customers, in SQL;
2. expiring_list.py: the Expiring Cards list's default search on those cards;
3. reminders.py: the reminder job on 10,000 due reminders, its queries per reminder at
   1,000 / 10,000 / 100,000 cards, Odoo's own cost for the same emails;
then report.py writes the summary bench/results/expiry.md. About 11 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import expiring_list  # noqa: E402
import generate  # noqa: E402
import reminders  # noqa: E402
import report  # noqa: E402
from benchlib import say  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tokens", type=int, default=1_000_000, help="cards for the list")
    parser.add_argument("--runs", type=int, default=11, help="timed runs per list query")
    parser.add_argument("--reminder-tokens", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000, help="reminders due in the volume run")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100,000 cards, 1,000 due, 5 runs; results in bench/results/quick/",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="every measure at a tiny size (2,000 cards, 100 due, 1 run), to check that the "
        "benchmarks still run (make test does); results under OMNI_BENCH_RESULTS, else "
        "bench/results/smoke/, not committed",
    )
    args = parser.parse_args()
    scaling = {}
    if args.quick:
        args.tokens, args.runs, args.reminder_tokens, args.due = 100_000, 5, 20_000, 1_000
        benchlib.set_results_dir(benchlib.RESULTS / "quick")
    elif args.smoke:
        args.tokens, args.runs, args.reminder_tokens, args.due = 2_000, 1, 2_000, 100
        scaling = {"scaling_due": 20, "scaling_tokens": (200, 1_000)}
        if not os.environ.get("OMNI_BENCH_RESULTS"):
            benchlib.set_results_dir(benchlib.RESULTS / "smoke")

    started = time.monotonic()
    with benchlib.Cluster() as cluster:
        machine = benchlib.machine_info(cluster)
        machine["addon_install_s"] = round(cluster.install_seconds, 1)

        say(f"1/3 generating {args.tokens:,} cards")
        db = cluster.create_db("bench_list")
        generated = generate.generate(cluster, db, args.tokens)
        benchlib.write_json("generate.json", {"machine": machine, "generate": generated})

        say("2/3 Expiring Cards list")
        listing = expiring_list.run(cluster, db, runs=args.runs)
        benchlib.write_json(
            "expiring_list.json",
            {"machine": machine, "tokens": generated["tokens"], "expiring_list": listing},
        )

        say("3/3 reminder job")
        result = reminders.run(cluster, volume=(args.reminder_tokens, args.due), **scaling)
        benchlib.write_json("reminders.json", {"machine": machine, "reminders": result})

    minutes = (time.monotonic() - started) / 60
    # other processes on the machine disturb the timings: say how busy it was
    loadavg = [round(x, 2) for x in os.getloadavg()]
    for name in ("generate.json", "expiring_list.json", "reminders.json"):
        data = benchlib.read_json(name)
        if data:
            data["machine"]["loadavg_1_5_15_at_end"] = loadavg
            data["machine"]["bench_total_min"] = round(minutes, 1)
            benchlib.write_json(name, data)
    path = report.write()
    say(f"done in {minutes:.1f} min; summary: {benchlib.shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(benchlib.run_main(main))
