#!/usr/bin/env python3
"""Time the expiry reminder job, count its SQL queries, and compare it with Odoo's own cost
of rendering the same emails and queueing them.

    ODOO_HOME=/path/to/odoo-18 PYTHON=/path/to/python $PYTHON bench/reminders.py

Standalone, it starts a throwaway PostgreSQL, installs the addon, generates the databases
(bench/generate.py), measures and writes bench/results/reminders.json.

- Volume: 100,000 cards of which 10,000 have a reminder due today (each the default card of
  a customer with an email address, so each gets an email). The job
  ``omni.payment.reminder._cron_send_expiry_reminders(batch_size=200)`` runs batch after
  batch, as Odoo 18's cron framework runs it (``ir.cron._run_job``): each batch on a new
  cursor as the cron's user, with an ``ir.cron.progress`` record in the context, committed
  after the call; the next batch runs while the batch reported work done and remaining.
  Time and SQL queries are measured per batch (commit included).
- Scaling: the same job with 400 reminders due in databases of 1,000, 10,000 and 100,000
  cards: queries per reminder must not depend on the number of cards.
- Odoo's own cost for the same emails, in a transaction rolled back afterwards:
  ``mail.template._generate_template`` of the addon's template for the same cards (200 per
  call) plus ``mail.mail.create`` with the rendered subject/body (200 per call); and the
  same one card at a time (as the addon renders) on a sample.
- Edge case: a first batch in which no email can be sent (200 customers without email
  address) while more reminders are due: the job must go on.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import generate as generate_mod  # noqa: E402
from benchlib import say  # noqa: E402

CRON = "omni_payment_methods.ir_cron_send_expiry_reminders"
TEMPLATE = "omni_payment_methods.mail_template_card_expiry"
BATCH = 200
RENDER_FIELDS = ("subject", "body_html", "email_from")


def _count(cr, query: str) -> int:
    cr.execute(query)
    return cr.fetchone()[0]


def reminder_states(cluster, db: str) -> dict:
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT state, count(*) FROM omni_payment_reminder GROUP BY state")
            states = dict(cur.fetchall())
            states["mail_mail"] = _count(cur, "SELECT count(*) FROM mail_mail")
            states["mail_message"] = _count(cur, "SELECT count(*) FROM mail_message")
            # customers followed by the company's partner (message_post's author subscription)
            states["customers_followed_by_company"] = _count(
                cur,
                "SELECT count(*) FROM mail_followers WHERE res_model = 'res.partner' AND "
                "partner_id IN (SELECT partner_id FROM res_company)",
            )
        conn.rollback()
    finally:
        conn.close()
    return states


def due_ids(cluster, db: str, today: datetime.date) -> list[int]:
    with cluster.env(db, commit=False) as env:
        rows = env["omni.payment.reminder"]._due_tokens(today, lock=False)
    return [token_id for token_id, _stage in rows]


def warm_up(cluster, db: str, today: datetime.date, count: int = 5) -> None:
    """Compile the template and the email layout once (rolled back): not part of a run."""
    ids = due_ids(cluster, db, today)[:count]
    with cluster.env(db, commit=False) as env:
        rows = dict(env["omni.payment.reminder"]._due_tokens(today, lock=False))
        tokens = env["payment.token"].browse(ids)
        tokens._omni_send_expiry_reminders({i: rows[i] for i in ids}, today)
        template = env.ref(TEMPLATE)
        template._generate_template(ids, RENDER_FIELDS)
        env.flush_all()


def cron_loop(cluster, db: str, batch_size: int = BATCH) -> dict:
    """Run the job as ir.cron._run_job does, until it reports nothing left (or no work done)."""
    odoo = cluster.load_odoo()
    registry = cluster.registry(db)
    with cluster.env(db, commit=False) as env:
        cron = env.ref(CRON)
        cron_id, user_id = cron.id, cron.user_id.id
    batches = []
    kinds, kind_seconds = Counter(), Counter()
    wall_started = time.perf_counter()
    while True:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, user_id, {"lastcall": False, "cron_id": cron_id})
            cron, progress = env["ir.cron"].browse(cron_id)._add_progress()
            cr.commit()
            logged_before = _count(cr, "SELECT count(*) FROM omni_payment_reminder")
            started = time.perf_counter()
            with benchlib.capture_queries() as log:
                model = env["omni.payment.reminder"].with_context(cron.env.context)
                model._cron_send_expiry_reminders(batch_size=batch_size)
                cr.commit()
            seconds = time.perf_counter() - started
            processed = _count(cr, "SELECT count(*) FROM omni_payment_reminder") - logged_before
            done, remaining = progress.done, progress.remaining
            cr.rollback()
        kinds.update(log.kinds)
        kind_seconds.update(log.kind_seconds)
        batches.append(
            {
                "processed": processed,
                "done": done,
                "remaining": remaining,
                "queries": log.count,
                "sql_s": round(log.seconds, 4),
                "s": round(seconds, 4),
            }
        )
        # ir.cron._run_job: fully done when nothing remains, or when no work was notified
        if not remaining or not done:
            break
    wall = time.perf_counter() - wall_started
    processed = sum(b["processed"] for b in batches)
    seconds = sum(b["s"] for b in batches)
    queries = sum(b["queries"] for b in batches)
    full = [b for b in batches if b["processed"] == batch_size]
    last = batches[-1]
    per = processed or 1
    return {
        "batch_size": batch_size,
        "batches": len(batches),
        "processed": processed,
        "job_s": round(seconds, 3),
        "wall_s": round(wall, 3),
        "ms_per_reminder": round(1000 * seconds / per, 3),
        "queries": queries,
        "queries_per_reminder": round(queries / per, 2),
        "queries_per_reminder_full_batches": (
            round(sum(b["queries"] for b in full) / (len(full) * batch_size), 2) if full else None
        ),
        "sql_share_pct": round(100 * sum(b["sql_s"] for b in batches) / seconds, 1)
        if seconds
        else None,
        "ms_per_full_batch_median": round(1000 * benchlib.median([b["s"] for b in full]), 1)
        if full
        else None,
        "ms_per_full_batch_p95": round(1000 * benchlib.p95([b["s"] for b in full]), 1)
        if full
        else None,
        "stopped_with_remaining": last["remaining"] if not last["done"] else 0,
        "queries_per_reminder_by_kind": {
            kind: round(count / per, 2) for kind, count in kinds.most_common(20)
        },
        "sql_ms_per_reminder_by_kind": {
            kind: round(1000 * secs / per, 3) for kind, secs in kind_seconds.most_common(8)
        },
        "per_batch": batches,
    }


PROFILE_TARGETS = {
    # function name -> what it is (cumulative time, the outermost call when nested)
    "_cron_send_expiry_reminders": "the whole batch",
    "_due_tokens": "due-card queries (batch + remaining count)",
    "_replacement_defaults": "defaults of the batch's customers",
    "_skip_reason": "skip checks",
    "_omni_create_logs": "reminder log rows (one insert)",
    "_issue_links": "the links (one insert)",
    "_generate_template": "mail.template rendering",
    "_omni_customer_email": "email layout, per email",
    "_omni_email_customers": "chatter messages, emails, notifications (one create each)",
    "_link_messages": "log rows linked to their messages (one update)",
}


def profile_batch(cluster, db: str, batch_size: int = BATCH) -> dict:
    """One batch under cProfile (rolled back): where the time of a reminder goes."""
    import cProfile  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    with cluster.env(db, commit=False) as env:
        logged_before = _count(env.cr, "SELECT count(*) FROM omni_payment_reminder")
        profiler = cProfile.Profile()
        profiler.enable()
        env["omni.payment.reminder"]._cron_send_expiry_reminders(batch_size=batch_size)
        env.flush_all()
        profiler.disable()
        processed = _count(env.cr, "SELECT count(*) FROM omni_payment_reminder") - logged_before
    stats = pstats.Stats(profiler).stats
    cumulative = {}
    for (_file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.items():
        if name in PROFILE_TARGETS:
            cumulative[name] = max(cumulative.get(name, 0.0), ct)
    whole = cumulative.get("_cron_send_expiry_reminders") or 1.0
    processed = processed or 1
    return {
        "reminders": processed,
        "note": "cProfile inflates absolute times: compare the shares",
        "functions": {
            name: {
                "what": what,
                "ms_per_reminder_profiled": round(1000 * cumulative.get(name, 0.0) / processed, 2),
                "share_pct": round(100 * cumulative.get(name, 0.0) / whole, 1),
            }
            for name, what in PROFILE_TARGETS.items()
        },
    }


def odoo_baseline(cluster, db: str, ids: list[int], batch_size: int = BATCH, sample: int = 1000):
    """Odoo's own rendering + mail.mail creation for the same cards (rolled back)."""
    from odoo.tools import split_every  # noqa: PLC0415

    def mail_values(token, rendered):
        return {
            "subject": rendered["subject"],
            "body_html": rendered["body_html"],
            "email_from": rendered.get("email_from"),
            "recipient_ids": [(4, token.partner_id.id)],
            "model": "res.partner",
            "res_id": token.commercial_partner_id.id,
            "auto_delete": False,
        }

    result = {}
    for label, size, subset in (
        ("batched", batch_size, ids),
        ("one_by_one", 1, ids[:sample]),
    ):
        with cluster.env(db, commit=False) as env:
            template = env.ref(TEMPLATE)
            seconds = render_s = 0.0
            queries = 0
            for chunk in split_every(size, subset):
                started = time.perf_counter()
                with benchlib.capture_queries() as log:
                    rendered = template._generate_template(list(chunk), RENDER_FIELDS)
                    rendered_at = time.perf_counter()
                    tokens = env["payment.token"].browse(chunk)
                    env["mail.mail"].create(
                        [mail_values(token, rendered[token.id]) for token in tokens]
                    )
                    env.flush_all()
                seconds += time.perf_counter() - started
                render_s += rendered_at - started
                queries += log.count
            result[label] = {
                "emails": len(subset),
                "per_call": size,
                "total_s": round(seconds, 3),
                "ms_per_email": round(1000 * seconds / len(subset), 3),
                "render_ms_per_email": round(1000 * render_s / len(subset), 3),
                "mail_create_ms_per_email": round(1000 * (seconds - render_s) / len(subset), 3),
                "queries_per_email": round(queries / len(subset), 2),
            }
    return result


def edge_case_no_email_batch(cluster, today: datetime.date) -> dict:
    """A first batch where nothing can be sent, with more reminders due after it."""
    db = cluster.create_db("bench_rem_edge")
    generate_mod.generate(cluster, db, 1000, due_today=2 * BATCH, today=today, quiet=True)
    first = due_ids(cluster, db, today)[:BATCH]
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            # the customers of the first batch's cards, and their contacts, lose their email
            cur.execute(
                """
                UPDATE res_partner SET email = NULL, email_normalized = NULL
                 WHERE commercial_partner_id IN (
                     SELECT commercial_partner_id FROM payment_token WHERE id = ANY(%s))
                """,
                [first],
            )
        conn.commit()
    finally:
        conn.close()
    loop = cron_loop(cluster, db)
    left = len(due_ids(cluster, db, today))
    return {
        "setup": f"{2 * BATCH} reminders due; the customers of the first {BATCH} have no email",
        "batches_run": loop["batches"],
        "per_batch": [
            {k: b[k] for k in ("processed", "done", "remaining")} for b in loop["per_batch"]
        ],
        "due_left_after_the_run": left,
        "states": reminder_states(cluster, db),
    }


def scenario(
    cluster,
    name: str,
    tokens: int,
    due: int,
    today,
    baseline: bool = False,
    baseline_sample: int = 2000,
) -> dict:
    db = cluster.create_db(name)
    generated = generate_mod.generate(cluster, db, tokens, due_today=due, today=today, quiet=True)
    due_before = due_ids(cluster, db, today)
    warm_up(cluster, db, today)
    base = profile = None
    if baseline:
        profile = profile_batch(cluster, db)
        base = odoo_baseline(cluster, db, due_before[:baseline_sample], sample=baseline_sample // 4)
    loop = cron_loop(cluster, db)
    left = len(due_ids(cluster, db, today))
    result = {
        "database": db,
        "tokens": generated["tokens"],
        "customers": generated["customers"],
        "due_before": len(due_before),
        "due_after": left,
        "generate_s": generated["total_s"],
        "job": loop,
        "states": reminder_states(cluster, db),
    }
    if base:
        result["odoo_baseline"] = base
        result["profile_one_batch"] = profile
    say(
        f"  {tokens:>9,} cards, {len(due_before):,} due: {loop['processed']:,} reminders in "
        f"{loop['job_s']:.1f}s ({loop['batches']} batches) = {loop['ms_per_reminder']:.2f} "
        f"ms and {loop['queries_per_reminder']:.1f} queries per reminder "
        f"({loop['queries_per_reminder_full_batches']} in full batches); {left} left due"
    )
    if base:
        b, o = base["batched"], base["one_by_one"]
        say(
            f"  Odoo alone, same emails: {b['ms_per_email']:.2f} ms and "
            f"{b['queries_per_email']:.1f} queries per email rendered {b['per_call']} per call "
            f"({o['ms_per_email']:.2f} ms, {o['queries_per_email']:.1f} queries one by one)"
        )
    return result


PARTS = ("volume", "scaling", "edge")


def run(
    cluster,
    today: datetime.date | None = None,
    volume=(100_000, 10_000),
    scaling_due=400,
    parts=PARTS,
    scaling_tokens=(1_000, 10_000, 100_000),
):
    """Run the measures of ``parts`` (the volume run always: it gives the ratio); the
    scaling measure with ``scaling_due`` reminders due among each number of
    ``scaling_tokens`` cards."""
    today = today or datetime.date.today()
    say("reminder job: volume run, Odoo's own cost for the same emails")
    volume_result = scenario(
        cluster, "bench_rem_volume", volume[0], volume[1], today, baseline=True
    )
    scaling = edge = None
    if "scaling" in parts:
        say(f"reminder job: scaling with the number of cards ({scaling_due} due each)")
        scaling = [
            scenario(cluster, f"bench_rem_{tokens}", tokens, scaling_due, today)
            for tokens in scaling_tokens
        ]
    if "edge" in parts:
        say("reminder job: edge case, a first batch where nothing can be sent")
        edge = edge_case_no_email_batch(cluster, today)
        say(
            f"  batches run: {edge['batches_run']}; reminders still due today after the job: "
            f"{edge['due_left_after_the_run']}"
        )
    job, base = volume_result["job"], volume_result["odoo_baseline"]
    return {
        "today": today.isoformat(),
        "batch_size": BATCH,
        "volume": volume_result,
        "scaling": scaling,
        "edge_case_no_email_batch": edge,
        "overhead": {
            "addon_ms_per_reminder": job["ms_per_reminder"],
            "odoo_batched_ms_per_email": base["batched"]["ms_per_email"],
            "odoo_one_by_one_ms_per_email": base["one_by_one"]["ms_per_email"],
            "addon_minus_odoo_batched_ms": round(
                job["ms_per_reminder"] - base["batched"]["ms_per_email"], 3
            ),
            "addon_over_odoo_batched_ratio": round(
                job["ms_per_reminder"] / base["batched"]["ms_per_email"], 2
            ),
            "addon_queries_per_reminder": job["queries_per_reminder"],
            "odoo_batched_queries_per_email": base["batched"]["queries_per_email"],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tokens", type=int, default=100_000, help="cards of the volume run")
    parser.add_argument("--due", type=int, default=10_000, help="reminders due in that run")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="comma-separated measures to run besides the volume run (default: all of "
        f"{', '.join(PARTS[1:])}); e.g. --parts volume for the ratio alone",
    )
    parser.add_argument(
        "--out",
        default="reminders.json",
        help="result file under bench/results/ (default reminders.json)",
    )
    args = parser.parse_args()
    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    with benchlib.Cluster() as cluster:
        result = run(cluster, volume=(args.tokens, args.due), parts=parts)
        benchlib.write_json(
            args.out, {"machine": benchlib.machine_info(cluster), "reminders": result}
        )
    return 0


if __name__ == "__main__":
    sys.exit(benchlib.run_main(main))
