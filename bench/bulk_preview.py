"""The bulk charge preview at scale: the wizard opened on N customers, without Stripe.

Run through ``bench/bulk_charge.py --preview 5000,50000`` (see its --help). For each size, a
database of N customers, each with an authorized default card and one posted open invoice,
all copied in SQL from one customer, card and invoice made with the ORM (the preview reads
the invoices' stored amounts and states, never their lines); a fifth of the customers have
no card, so that the preview lists skipped customers with their reason. Then, as a payment
method manager, each on a new cursor (rolled back), one warm-up and ``runs`` timed runs:

- ``open``: what the web client does when the wizard opens on the selection, the form's
  ``onchange`` (default values: the preview's lines, counts and total), with the form
  view's fields as the specification;
- ``create``: the wizard created on the selection (``default_get`` + ``create``, as the
  tests and ``Start`` do), its counts and total read.

Time (median, p95) and SQL queries of each.
"""

from __future__ import annotations

import time

import benchlib
from benchlib import say

MANAGER_GROUP = "omni_payment_methods.group_omni_payment_method_manager"
NO_CARD_EVERY = 5

FORM_SPEC = {
    "charge_count": {},
    "amount_total": {},
    "currency_id": {"fields": {}},
    "company_id": {"fields": {"display_name": {}}},
    "skip_count": {},
    "source": {},
    "batch_size": {},
    "line_ids": {
        "fields": {
            "partner_id": {"fields": {"display_name": {}}},
            "invoice_count": {},
            "amount": {},
            "currency_id": {"fields": {}},
            "skip": {},
            "reason": {},
        },
        "limit": 40,
    },
}


def _columns(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cur.fetchall()]


def _copy_rows(cur, table: str, seed_id: int, source: str, overrides: dict) -> int:
    """Insert a copy of row ``seed_id`` of ``table`` per row of ``source`` (SQL), the
    columns of ``overrides`` computed from it."""
    columns = _columns(cur, table)
    exprs = [overrides.get(col, f'seed."{col}"') for col in columns]
    names = ", ".join(f'"{col}"' for col in columns)
    cur.execute(
        f'INSERT INTO "{table}" ({names}) SELECT {", ".join(exprs)} '
        f'FROM (SELECT * FROM "{table}" WHERE id = %s) seed, {source}',
        [seed_id],
    )
    return cur.rowcount


def prepare(cluster, db: str, count: int) -> dict:
    """N customers with an open invoice, 4 in 5 with an authorized default card."""
    started = time.perf_counter()
    with cluster.env(db, context={"tracking_disable": True}) as env:
        admin = env.ref("base.user_admin")
        groups = "group_ids" if "group_ids" in admin._fields else "groups_id"
        admin[groups] = [(4, env.ref(MANAGER_GROUP).id)]
        provider = env.ref("payment.payment_provider_stripe")
        provider.write(
            {
                "state": "test",
                "stripe_secret_key": "sk_test_bench",
                "stripe_publishable_key": "pk_test_bench",
            }
        )
        partner = env["res.partner"].create(
            {"name": "Seed customer", "email": "seed@bench.example", "is_company": True}
        )
        token = env["payment.token"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": env.ref("payment.payment_method_card").id,
                "partner_id": partner.id,
                "payment_details": "4242",
                "provider_ref": "cus_seed",
                "stripe_payment_method": "pm_seed",
                "method_kind": "card",
                "stripe_pm_type": "card",
                "card_brand": "visa",
                "card_exp_month": 12,
                "card_exp_year": 2031,
            }
        )
        token._omni_record_authorization()
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_line_ids": [(0, 0, {"name": "Plan", "quantity": 1, "price_unit": 49})],
            }
        )
        invoice.action_post()
        env.flush_all()
        seeds = (partner.id, token.id, invoice.id)
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            partner_id, token_id, invoice_id = seeds
            series = (
                f"(SELECT nextval('res_partner_id_seq') AS nid, g "
                f"FROM generate_series(1, {int(count)}) g) s"
            )
            name = "'Bench customer ' || s.g"
            _copy_rows(
                cur,
                "res_partner",
                partner_id,
                series,
                {
                    "id": "s.nid",
                    "name": name,
                    "complete_name": name,
                    "commercial_company_name": name,
                    "commercial_partner_id": "s.nid",
                    "email": "'c' || s.g || '@bench.example'",
                },
            )
            customers = (
                "(SELECT id AS pid, row_number() OVER (ORDER BY id) AS n FROM res_partner "
                "WHERE name LIKE 'Bench customer %%') c"
            )
            _copy_rows(
                cur,
                "payment_token",
                token_id,
                f"{customers} WHERE c.n %% {NO_CARD_EVERY} <> 0",
                {
                    "id": "nextval('payment_token_id_seq')",
                    "partner_id": "c.pid",
                    "commercial_partner_id": "c.pid",
                    "provider_ref": "'cus_bench_' || c.pid",
                    "stripe_payment_method": "'pm_bench_' || c.pid",
                },
            )
            _copy_rows(
                cur,
                "account_move",
                invoice_id,
                customers,
                {
                    "id": "nextval('account_move_id_seq')",
                    "partner_id": "c.pid",
                    "commercial_partner_id": "c.pid",
                    "partner_shipping_id": "c.pid",
                    "name": "'INV/BENCH/' || c.pid",
                    "sequence_number": "100000 + c.n",
                },
            )
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    finally:
        conn.close()
    return {"customers": count, "seconds": round(time.perf_counter() - started, 1)}


def _partner_ids(cluster, db: str) -> list[int]:
    with cluster.env(db, commit=False) as env:
        env.cr.execute("SELECT id FROM res_partner WHERE name LIKE 'Bench customer %%' ORDER BY id")
        return [row[0] for row in env.cr.fetchall()]


def _measure(cluster, db: str, partner_ids: list[int], how: str) -> tuple[float, int, dict]:
    with cluster.env(db, commit=False) as root:
        env = root(user=root.ref("base.user_admin").id)
        context = {"active_model": "res.partner", "active_ids": partner_ids}
        Wizard = env["omni.bulk.charge.wizard"].with_context(**context)
        started = time.perf_counter()
        with benchlib.capture_queries() as log:
            if how == "open":
                result = Wizard.onchange({}, [], FORM_SPEC)["value"]
                lines = result["line_ids"]
                preview = {
                    "charge_count": result["charge_count"],
                    "skip_count": result["skip_count"],
                    "amount_total": result["amount_total"],
                    "lines_returned": len(lines),
                }
            else:
                wizard = Wizard.create({})
                preview = {
                    "charge_count": wizard.charge_count,
                    "skip_count": wizard.skip_count,
                    "amount_total": wizard.amount_total,
                }
                env.flush_all()
        seconds = time.perf_counter() - started
    return seconds, log.count, preview


def measure(cluster, db: str, runs: int) -> dict:
    partner_ids = _partner_ids(cluster, db)
    result = {"customers": len(partner_ids)}
    for how in ("open", "create"):
        _measure(cluster, db, partner_ids[:50], how)  # warm-up: caches, compiled code
        times, queries, preview = [], set(), None
        for _run in range(runs):
            seconds, count, preview = _measure(cluster, db, partner_ids, how)
            times.append(seconds)
            queries.add(count)
        result[how] = {
            **benchlib.summary_ms(times),
            "queries": sorted(queries),
            "preview": preview,
        }
        say(
            f"  {len(partner_ids):,} customers, {how}: median "
            f"{result[how]['median_ms'] / 1000:.2f} s, {sorted(queries)} queries; {preview}"
        )
    return result


def profile(cluster, db: str, path) -> None:
    """One "open" under cProfile: the hottest functions, written to ``path``."""
    import cProfile  # noqa: PLC0415
    import io  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    partner_ids = _partner_ids(cluster, db)
    profiler = cProfile.Profile()
    profiler.enable()
    _measure(cluster, db, partner_ids, "open")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    path.write_text(out.getvalue())
    say(f"  profile of one open: {path}")


def run(cluster, sizes, runs: int = 3, profile_to=None) -> list[dict]:
    results = []
    for size in sizes:
        db = cluster.create_db(f"bulk_preview_{size}")
        say(f"bulk charge preview: {size:,} customers (SQL copies of one)")
        prepared = prepare(cluster, db, size)
        say(f"  data in {prepared['seconds']} s")
        results.append({"prepare": prepared, **measure(cluster, db, runs)})
        if profile_to:
            profile(cluster, db, profile_to.with_name(f"{profile_to.name}-{size}.txt"))
    return results


def write_markdown(data: dict, path) -> None:
    machine = data["machine"]
    rows = "\n".join(
        f"| {r['customers']:,} | {r['open']['median_ms'] / 1000:.2f} s "
        f"({r['open']['p95_ms'] / 1000:.2f}) | {', '.join(map(str, r['open']['queries']))} | "
        f"{r['create']['median_ms'] / 1000:.2f} s ({r['create']['p95_ms'] / 1000:.2f}) | "
        f"{', '.join(map(str, r['create']['queries']))} | "
        f"{r['open']['preview']['charge_count']:,} / {r['open']['preview']['skip_count']:,} |"
        for r in data["preview"]
    )
    sizes = ",".join(str(r["customers"]) for r in data["preview"])
    path.write_text(
        f"""# Bulk charge preview: the wizard opened on many customers

Generated by `bench/bulk_charge.py --preview {sizes}` (see [`../README.md`](../README.md));
raw numbers in `{path.stem}.json`. Machine:
{machine.get("cpu") or "?"}, {machine.get("cpus_available", "?")} CPU(s) available, load at
start {machine.get("loadavg_1_5_15_at_start")}; addon {machine.get("addon_commit")};
Odoo {machine.get("odoo")}. Median of {data["runs"]} runs (p95 in brackets), each on a new
cursor after a warm-up.

| Customers | Open (onchange) | Queries | Wizard created | Queries | Charged / skipped |
|---|---|---|---|---|---|
{rows}

Each customer has one open invoice; one in {NO_CARD_EVERY} has no payment method (skipped
with its reason). "Open" is the call the web client makes when the wizard opens (the form's
onchange: the lines, counts and total); "Wizard created" is ``default_get`` + ``create``
(what the tests and *Start* do), the counts and total read.
"""
    )
