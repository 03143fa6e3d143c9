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
  tests and ``Start`` do), its counts and total read;
- ``lists``: the wizard's full lists opened (its two buttons): the first page (80) of the
  customers to charge and of those skipped, with their count, as the list view reads them;
- ``start``: *Start* on a created wizard (the preview made again, the run and its lines
  created).

Time (median, p95) and SQL queries of each.
"""

from __future__ import annotations

import time

import benchlib
from benchlib import say

MANAGER_GROUP = "omni_payment_methods.group_omni_payment_method_manager"
NO_CARD_EVERY = 5

_LINE_SPEC = {
    "fields": {
        "partner_id": {"fields": {"display_name": {}}},
        "invoice_count": {},
        "amount": {},
        "currency_id": {"fields": {}},
        "skip": {},
        "reason": {},
    },
    "limit": 40,
}
# The fields of the wizard's form view (omni_bulk_charge_wizard_view_form), as the web client
# asks for them.
FORM_SPEC = {
    "charge_count": {},
    "skip_count": {},
    "skip_summary": {},
    "amount_total": {},
    "amount_summary": {},
    "currency_id": {"fields": {}},
    "company_id": {"fields": {"display_name": {}}},
    "source": {},
    "batch_size": {},
    "charge_line_ids": _LINE_SPEC,
    "skip_line_ids": _LINE_SPEC,
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
                "omni_method_kind": "card",
                "omni_stripe_pm_type": "card",
                "omni_card_brand": "visa",
                "omni_card_exp_month": 12,
                "omni_card_exp_year": 2031,
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


LIST_SPEC = {"partner_id": {"fields": {"display_name": {}}}, "amount": {}, "reason": {}}


def _measure(cluster, db: str, partner_ids: list[int], how: str) -> tuple[float, int, dict]:
    with cluster.env(db, commit=False) as root:
        env = root(user=root.ref("base.user_admin").id)
        context = {"active_model": "res.partner", "active_ids": partner_ids}
        Wizard = env["omni.bulk.charge.wizard"].with_context(**context)
        wizard = Wizard.create({}) if how in ("lists", "start") else None
        env.flush_all()
        started = time.perf_counter()
        with benchlib.capture_queries() as log:
            if how == "open":
                result = Wizard.onchange({}, [], FORM_SPEC)["value"]
                lines = result["charge_line_ids"] + result["skip_line_ids"]
                preview = {
                    "charge_count": result["charge_count"],
                    "skip_count": result["skip_count"],
                    "amount_total": result["amount_total"],
                    "lines_returned": len(lines),
                }
            elif how == "create":
                wizard = Wizard.create({})
                preview = {
                    "charge_count": wizard.charge_count,
                    "skip_count": wizard.skip_count,
                    "amount_total": wizard.amount_total,
                }
                env.flush_all()
            elif how == "lists":
                lengths = []
                for action in (wizard.action_view_to_charge(), wizard.action_view_skipped()):
                    page = (
                        env[action["res_model"]]
                        .with_context(**action["context"])
                        .web_search_read(action["domain"], LIST_SPEC, limit=80)
                    )
                    lengths.append(page["length"])
                preview = {"charge_count": lengths[0], "skip_count": lengths[1]}
            else:
                run = env["omni.bulk.charge"].browse(wizard.action_start()["res_id"])
                env.flush_all()
                preview = {"charge_count": run.to_do_count, "skip_count": run.skipped_count}
        seconds = time.perf_counter() - started
    return seconds, log.count, preview


def measure(cluster, db: str, runs: int) -> dict:
    partner_ids = _partner_ids(cluster, db)
    result = {"customers": len(partner_ids)}
    for how in ("open", "create", "lists", "start"):
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


HEADER = (
    "| Customers | Open (onchange) | Queries | Wizard created | Queries | Full lists | Queries "
    "| Start | Queries | Charged / skipped |\n|---|---|---|---|---|---|---|---|---|---|"
)


def write_markdown(data: dict, path) -> None:
    machine = data["machine"]

    def cell(r, how):
        if how not in r:
            return "- | -"
        m = r[how]
        return (
            f"{m['median_ms'] / 1000:.2f} s ({m['p95_ms'] / 1000:.2f}) | "
            f"{', '.join(map(str, m['queries']))}"
        )

    rows = "\n".join(
        f"| {r['customers']:,} | {cell(r, 'open')} | {cell(r, 'create')} | "
        f"{cell(r, 'lists')} | {cell(r, 'start')} | "
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

{HEADER}
{rows}

Each customer has one open invoice; one in {NO_CARD_EVERY} has no payment method (skipped
with its reason). "Open" is the call the web client makes when the wizard opens (the form's
onchange: the summary and the first lines of each list); "Wizard created" is
``default_get`` + ``create`` (what the tests and *Start* do), the counts and total read;
"Full lists" is the first page of the two lists the wizard's buttons open, with their counts;
"Start" is *Start* on a created wizard (preview made again, run and lines created).
"""
    )
