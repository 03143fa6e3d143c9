"""The "benchmarks run" step of ``make test``: every benchmark of ``bench/`` run once at a
tiny size, so that a change that breaks one (a renamed column in their SQL, a moved method)
fails CI instead of the next person who measures. Nothing is measured here: the figures of
``bench/results/`` come from full-size runs on an idle machine.

Each benchmark runs as it does by hand, in its own process, with its own throwaway
PostgreSQL (and localstripe where it charges) under ``/tmp/omni-bench``, stopped at its end;
its results go to the test run's directory (``OMNI_BENCH_RESULTS``), never to
``bench/results/``. A benchmark fails on an error and on its own checks (one PaymentIntent
per invoice, nothing unpaid, every customer of a bulk charge charged once)."""

from __future__ import annotations

import dataclasses
import json
import sys
import time

from .common import LOG_DIR, REPO, display, say
from .odoo import Odoo
from .session import Session

# (name, arguments of the script under bench/, the result files it must write)
SMOKE_RUNS = (
    (
        "run_all",
        ["run_all.py", "--smoke"],
        ("generate.json", "expiring_list.json", "reminders.json", "expiry.md"),
    ),
    ("charges", ["charges.py", "--invoices", "20"], ("charges.json",)),
    (
        "charges_parallel",
        [
            "charges_parallel.py",
            "--invoices",
            "20",
            "--workers",
            "1,2",
            "--latency-ms",
            "20",
            "--batch",
            "5",
            "--serial-invoices",
            "10",
            "--own-invoices",
            "5",
        ],
        ("charges-parallel.json",),
    ),
    ("bulk_charge", ["bulk_charge.py", "--customers", "20"], ("bulk_charge.json",)),
    (
        "bulk_preview",
        ["bulk_charge.py", "--preview", "100", "--runs", "1"],
        ("bulk_charge_preview.json",),
    ),
)


@dataclasses.dataclass
class BenchResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


def _missing_results(results_dir, names) -> list[str]:
    missing = []
    for name in names:
        path = results_dir / name
        if not path.is_file():
            missing.append(name)
        elif name.endswith(".json"):
            try:
                json.loads(path.read_text())
            except ValueError:
                missing.append(f"{name} (not JSON)")
    return missing


def run_benchmarks(session: Session, odoo: Odoo) -> list[BenchResult]:
    """Run each benchmark of ``SMOKE_RUNS`` at its tiny size; one result each."""
    results_dir = session.work / "bench-results"
    env = odoo.env()
    env.update(OMNI_BENCH_RESULTS=str(results_dir), OMNI_HARNESS_DIR="/tmp/omni-bench")
    results = []
    for name, args, outputs in SMOKE_RUNS:
        log = LOG_DIR / f"test-bench-{name}.log"
        say(f"benchmark {name} at a tiny size: {' '.join(args)} (log: {display(log)})")
        started = time.monotonic()
        rc = session.run(
            f"bench-{name}",
            [sys.executable, str(REPO / "bench" / args[0]), *args[1:]],
            env=env,
            log=log,
        )
        seconds = time.monotonic() - started
        missing = _missing_results(results_dir, outputs) if rc == 0 else []
        if rc:
            detail = f"exit code {rc}, see {display(log)}"
        elif missing:
            detail = f"no {', '.join(missing)} written, see {display(log)}"
        else:
            detail = ""
        results.append(BenchResult(name, not detail, seconds, detail))
    return results
