#!/usr/bin/env python3
"""Time the Expiring Cards list's default search at 1,000,000 cards, as the web client does it.

    ODOO_HOME=/path/to/odoo-18 PYTHON=/path/to/python $PYTHON bench/expiring_list.py

Standalone, it starts a throwaway PostgreSQL, installs the addon, generates the cards
(bench/generate.py), measures and writes bench/results/expiring_list.json.

What is measured, with a user of the addon's Viewer group (record rules apply):
- the list's first load: ``web_search_read`` with the action's domain AND the default
  filter's domain evaluated for today, the list view's fields as the web client's
  specification, ``limit=80``, ``order='omni_expiry_date ASC, id ASC'``, ``count_limit=10001``
  (the web client's call: the count is capped at 10,001);
- the first page alone (``search_fetch`` + ``web_read``) and an uncapped ``search_count``;
- the same page in bare SQL;
each on a new cursor (cold ORM cache, warm PostgreSQL), several runs, median and p95. The
SQL the ORM emits is captured through the cursor's query hooks and run again under
``EXPLAIN (ANALYZE, BUFFERS)``; the plan's index lines are reported. Then the same is
measured with a candidate partial index, created in the bench database only, and dropped.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import generate as generate_mod  # noqa: E402
from benchlib import say  # noqa: E402

ACTION = "omni_payment_methods.payment_token_action_expiring"
LIST_VIEW = "omni_payment_methods.payment_token_view_list_expiring"
VIEWER_GROUP = "omni_payment_methods.group_omni_payment_method_viewer"
PAGE = 80
COUNT_LIMIT = 10001  # the web client's DEFAULT_COUNT_LIMIT (10000) + 1
CANDIDATE_INDEX = (
    "CREATE INDEX bench_payment_token_card_expiry_idx ON payment_token (omni_expiry_date, id) "
    "WHERE active AND omni_method_kind = 'card'"
)


def create_viewer(cluster, db: str) -> int:
    with cluster.env(db) as env:
        user = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Bench Viewer",
                    "login": "bench_viewer",
                    "email": "bench.viewer@example.com",
                    "tz": "UTC",
                    # the users' groups: groups_id on Odoo 18.0, group_ids on 19.0
                    ("group_ids" if "group_ids" in env["res.users"]._fields else "groups_id"): [
                        (6, 0, [env.ref("base.group_user").id, env.ref(VIEWER_GROUP).id])
                    ],
                }
            )
        )
        return user.id


def web_client_call(env, today: datetime.date) -> dict:
    """The domain, specification and order the web client sends for the action's list."""
    from dateutil.relativedelta import relativedelta  # noqa: PLC0415

    from odoo.osv import expression  # noqa: PLC0415
    from odoo.tools.safe_eval import datetime as safe_datetime  # noqa: PLC0415
    from odoo.tools.safe_eval import safe_eval  # noqa: PLC0415

    action = env.ref(ACTION).sudo()
    action_domain = safe_eval(action.domain or "[]")
    action_context = safe_eval(action.context or "{}")
    model = env["payment.token"]
    views = model.get_views(
        [(env.ref(LIST_VIEW).id, "list"), (action.search_view_id.id, "search")]
    )["views"]
    list_arch = ElementTree.fromstring(views["list"]["arch"])
    search_arch = ElementTree.fromstring(views["search"]["arch"])

    # the list's columns (what the web client's getFieldsSpec builds from the arch)
    specification = {}
    for node in list_arch:
        if node.tag != "field":
            continue
        name = node.get("name")
        field = model._fields[name]
        specification[name] = {"fields": {"display_name": {}}} if field.type == "many2one" else {}

    # the default filters of the action's context, evaluated as the web client does
    eval_context = {
        "context_today": lambda: today,
        "relativedelta": relativedelta,
        "datetime": safe_datetime,
    }
    filters = []
    for node in search_arch.iter("filter"):
        if action_context.get(f"search_default_{node.get('name')}") and node.get("domain"):
            filters.append(
                {
                    "name": node.get("name"),
                    "domain_source": node.get("domain"),
                    "domain": safe_eval(node.get("domain"), eval_context),
                }
            )
    domain = expression.AND([action_domain, *[f["domain"] for f in filters]])
    order = list_arch.get("default_order") or "id"
    order = ", ".join(
        f"{part.split()[0]} {(part.split()[1:] or ['ASC'])[0].upper()}" for part in order.split(",")
    )
    return {
        "action_domain": action_domain,
        "default_filters": filters,
        "domain": domain,
        "specification": specification,
        "order": order,
        "context": {
            "lang": "en_US",
            "tz": "UTC",
            "uid": env.uid,
            "allowed_company_ids": env.user.company_ids.ids[:1],
            "bin_size": True,
            **action_context,
        },
    }


def _timed_runs(func, runs: int) -> tuple[list[float], object]:
    func()  # warm-up (registry caches, PostgreSQL buffers)
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def explain(cr, query: str, params) -> list[str]:
    cr.execute("EXPLAIN (ANALYZE, BUFFERS) " + cr.mogrify(query, params).decode())
    return [row[0] for row in cr.fetchall()]


def index_lines(plan: list[str]) -> list[str]:
    return [
        line.strip() for line in plan if ("Index" in line and " on " in line) or "Seq Scan" in line
    ]


def measure(cluster, db: str, viewer_id: int, today: datetime.date, runs: int) -> dict:
    registry = cluster.registry(db)
    odoo = cluster.load_odoo()
    with cluster.env(db, uid=viewer_id, commit=False) as env:
        call = web_client_call(env, today)
    domain, spec, order, context = (
        call["domain"],
        call["specification"],
        call["order"],
        call["context"],
    )

    def on_new_cursor(method):
        def run():
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, viewer_id, context)
                result = method(env["payment.token"])
                cr.rollback()
                return result

        return run

    def web_search_read(model):
        return model.web_search_read(
            domain, spec, offset=0, limit=PAGE, order=order, count_limit=COUNT_LIMIT
        )

    def first_page(model):
        records = model.search_fetch(domain, spec.keys(), limit=PAGE, order=order)
        return records.web_read(spec)

    def search_count(model):
        return model.search_count(domain)

    result = {"call": {k: v for k, v in call.items() if k != "context"}}
    timings = {}
    for name, method in (
        ("web_search_read", web_search_read),
        ("first_page", first_page),
        ("search_count", search_count),
    ):
        seconds, value = _timed_runs(on_new_cursor(method), runs)
        timings[name] = benchlib.summary_ms(seconds)
        if name == "web_search_read":
            timings[name]["length"] = value["length"]
            timings[name]["records"] = len(value["records"])
            first = value["records"][0] if value["records"] else {}
            result["first_row"] = {k: v for k, v in first.items() if k != "id"}
        elif name == "search_count":
            timings[name]["count"] = value
    result["orm"] = timings

    # the SQL of one web_search_read, and the plans of its queries on payment_token
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, viewer_id, context)
        with benchlib.capture_queries(keep=True) as log:
            web_search_read(env["payment.token"])
        queries = []
        for text, params, delay in log.queries:
            entry = {
                "kind": benchlib.query_kind(text),
                "ms": round(delay * 1000, 3),
                "sql": cr.mogrify(text, params).decode(),
            }
            if entry["kind"] == "SELECT payment_token":
                entry["plan"] = explain(cr, text, params)
                entry["index_lines"] = index_lines(entry["plan"])
            queries.append(entry)
        cr.rollback()
    result["orm_queries"] = queries
    result["orm_query_count"] = len(queries)

    # the same page and count in bare SQL
    start = today + datetime.timedelta(days=generate_mod.LIST_WINDOW[0])
    stop = today + datetime.timedelta(days=generate_mod.LIST_WINDOW[1])
    bare_page = (
        "SELECT id, commercial_partner_id, omni_card_brand, payment_details, omni_card_exp_month, "
        "omni_card_exp_year, omni_expiry_date, omni_is_default, company_id FROM payment_token "
        "WHERE active AND omni_method_kind = 'card' AND omni_expiry_date BETWEEN %s AND %s "
        "ORDER BY omni_expiry_date, id LIMIT 80"
    )
    bare_count = (
        "SELECT count(*) FROM payment_token "
        "WHERE active AND omni_method_kind = 'card' AND omni_expiry_date BETWEEN %s AND %s"
    )
    conn = cluster.connect(db)
    try:
        cur = conn.cursor()
        bare = {}
        for name, query in (("page", bare_page), ("count", bare_count)):

            def run(query=query):
                cur.execute(query, (start, stop))
                return cur.fetchall()

            seconds, rows = _timed_runs(run, runs)
            bare[name] = benchlib.summary_ms(seconds)
            bare[name]["rows" if name == "page" else "count"] = (
                len(rows) if name == "page" else rows[0][0]
            )
            bare[name]["sql"] = cur.mogrify(query, (start, stop)).decode()
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, (start, stop))
            bare[name]["plan"] = [row[0] for row in cur.fetchall()]
            bare[name]["index_lines"] = index_lines(bare[name]["plan"])
        conn.rollback()
    finally:
        conn.close()
    result["bare_sql"] = bare
    result["reminder_due_query"] = reminder_due_query(cluster, db, today, runs)
    return result


def reminder_due_query(cluster, db: str, today: datetime.date, runs: int) -> dict:
    """The reminder job's due-card query on the same cards (same WHERE and ORDER BY as the
    list): one batch (LIMIT 200, FOR UPDATE SKIP LOCKED) and the 'remaining' call (no
    limit, no lock), as the superuser, on a rolled-back cursor."""
    odoo = cluster.load_odoo()
    registry = cluster.registry(db)
    out = {}
    for name, kwargs in (
        ("batch", {"limit": 200, "lock": True}),
        ("remaining", {"limit": None, "lock": False}),
    ):

        def run(kwargs=kwargs):
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                rows = env["omni.payment.reminder"]._due_tokens(today, **kwargs)
                cr.rollback()
                return rows

        seconds, rows = _timed_runs(run, runs)
        out[name] = {**benchlib.summary_ms(seconds), "rows": len(rows)}
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            with benchlib.capture_queries(keep=True) as log:
                env["omni.payment.reminder"]._due_tokens(today, **kwargs)
            text, params, _delay = next(q for q in log.queries if "omni_payment_reminder" in q[0])
            out[name]["sql"] = " ".join(cr.mogrify(text, params).decode().split())
            out[name]["plan"] = explain(cr, text, params)
            out[name]["index_lines"] = index_lines(out[name]["plan"])
            cr.rollback()
    return out


def seq_scans(result: dict) -> list[str]:
    """Sequential scans of payment_token in the plans (res_company's one row is no issue)."""
    plans = [q.get("index_lines", []) for q in result["orm_queries"]]
    plans += [part["index_lines"] for part in result["bare_sql"].values()]
    return [line for lines in plans for line in lines if "Seq Scan on payment_token" in line]


def expiry_id_index(cur) -> tuple[str, str] | None:
    """The addon's index on payment_token (omni_expiry_date, id), if it has one: (name, DDL)."""
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'payment_token' "
        "AND indexdef LIKE '%(omni_expiry_date, id)%'"
    )
    row = cur.fetchone()
    return (row[0], row[1]) if row else None


def run(cluster, db: str, runs: int = 11, today: datetime.date | None = None) -> dict:
    """Measure with the addon's indexes, then with one index toggled: without the addon's
    (omni_expiry_date, id) index when it has one, else with the candidate partial index."""
    today = today or datetime.date.today()
    viewer_id = create_viewer(cluster, db)
    say(f"{db}: Expiring Cards default search as a Viewer, {runs} runs each")
    baseline = measure(cluster, db, viewer_id, today, runs)
    _say_result("addon's indexes", baseline)

    conn = cluster.connect(db, autocommit=True)
    try:
        with conn.cursor() as cur:
            existing = expiry_id_index(cur)
            started = time.monotonic()
            if existing:
                mode, label, ddl = "without_addon_index", f"without {existing[0]}", existing[1]
                cur.execute(f'DROP INDEX "{existing[0]}"')
            else:
                mode, label, ddl = "with_candidate_index", "with the candidate index", None
                cur.execute(CANDIDATE_INDEX)
            cur.execute("VACUUM (ANALYZE) payment_token")
            toggle_s = time.monotonic() - started
        comparison = measure(cluster, db, viewer_id, today, runs)
        _say_result(label, comparison)
        with conn.cursor() as cur:
            started = time.monotonic()
            if existing:
                cur.execute(existing[1])  # put the addon's index back
            else:
                cur.execute("DROP INDEX bench_payment_token_card_expiry_idx")
            cur.execute("VACUUM (ANALYZE) payment_token")
            if existing:
                toggle_s = time.monotonic() - started  # the index build
    finally:
        conn.close()
    return {
        "today": today.isoformat(),
        "viewer_groups": ["base.group_user", VIEWER_GROUP],
        "page_size": PAGE,
        "count_limit": COUNT_LIMIT,
        "baseline": baseline,
        "seq_scans": seq_scans(baseline),
        "addon_expiry_id_index": {"name": existing[0], "ddl": existing[1]} if existing else None,
        "comparison": {
            "mode": mode,
            "label": label,
            "ddl": ddl or CANDIDATE_INDEX,
            "index_build_s": round(toggle_s, 2),
            **comparison,
        },
    }


def _say_result(label: str, result: dict) -> None:
    orm, bare = result["orm"], result["bare_sql"]
    main = next(
        (q for q in result["orm_queries"] if "LIMIT" in q["sql"] and "plan" in q),
        None,
    )
    say(
        f"  {label}: web_search_read {orm['web_search_read']['median_ms']:.1f} ms median "
        f"(p95 {orm['web_search_read']['p95_ms']:.1f}; {orm['web_search_read']['length']:,} "
        f"cards), first page {orm['first_page']['median_ms']:.1f} ms, search_count "
        f"{orm['search_count']['median_ms']:.1f} ms; bare SQL page "
        f"{bare['page']['median_ms']:.2f} ms, count {bare['count']['median_ms']:.2f} ms"
    )
    if main:
        say(f"  plan of the ORM's page query: {'; '.join(main['index_lines'])}")
    due = result["reminder_due_query"]
    say(
        f"  reminder job's due query: batch of {due['batch']['rows']} "
        f"{due['batch']['median_ms']:.1f} ms, remaining ({due['remaining']['rows']:,} rows) "
        f"{due['remaining']['median_ms']:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    with benchlib.Cluster() as cluster:
        db = cluster.create_db("bench_list")
        generated = generate_mod.generate(cluster, db, args.tokens)
        result = run(cluster, db, runs=args.runs)
        machine = benchlib.machine_info(cluster)
        benchlib.write_json("generate.json", {"machine": machine, "generate": generated})
        benchlib.write_json(
            "expiring_list.json",
            {"machine": machine, "tokens": generated["tokens"], "expiring_list": result},
        )
    return 0


if __name__ == "__main__":
    sys.exit(benchlib.run_main(main))
