#!/usr/bin/env python3
"""Write bench/results/expiry.md from the JSON results of the benches.

python bench/report.py           # no Odoo or PostgreSQL needed
python bench/report.py --quick   # bench/results/quick/
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

PARTIAL_INDEX_FIX = (
    "`omni_payment_methods/models/payment_token.py`, `PaymentToken.init()`:\n\n"
    "```python\n"
    "        create_index(  # from odoo.tools.sql import create_index\n"
    "            self.env.cr,\n"
    '            "payment_token_omni_card_expiry_index",\n'
    "            self._table,\n"
    '            ["omni_expiry_date", "id"],\n'
    "            where=\"active AND omni_method_kind = 'card'\",\n"
    "        )\n"
    "```"
)

PROGRESS_FIX = (
    "`omni_payment_methods/models/omni_payment_reminder.py`, "
    "`_cron_send_expiry_reminders`:\n\n"
    "```python\n"
    '        self.env["ir.cron"]._notify_progress(done=len(rows), remaining=remaining)\n'
    "```"
)


# --------------------------------------------------------------------------- helpers


def page_query(result: dict) -> dict | None:
    """The ORM's page query (SELECT ... FROM payment_token ... LIMIT 80) of a list result."""
    for query in result["orm_queries"]:
        if query["kind"] == "SELECT payment_token" and "LIMIT 80" in query["sql"]:
            return query
    return None


def count_query(result: dict) -> dict | None:
    for query in result["orm_queries"]:
        if query["kind"] == "SELECT payment_token" and "COUNT(*)" in query["sql"]:
            return query
    return None


def execution_ms(query: dict | None) -> float | None:
    """The 'Execution Time' of a query's EXPLAIN ANALYZE."""
    for line in (query or {}).get("plan", []):
        if line.startswith("Execution Time:"):
            return float(line.split()[2])
    return None


def index_used(query: dict | None) -> str:
    lines = [x for x in (query or {}).get("index_lines", []) if "Index" in x]
    return "; ".join(f"`{x}`" for x in lines) or "–"


def _ms(value, digits=1):
    return "–" if value is None else f"{value:,.{digits}f}"


def _plan(lines):
    return "```\n" + "\n".join(lines) + "\n```"


def _states(states: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in states.items())


# --------------------------------------------------------------------------- sections


def _machine(machine: dict) -> list[str]:
    pg = machine.get("postgresql_settings", {})
    return [
        "| | |",
        "|---|---|",
        f"| Date (UTC) | {machine.get('date_utc', '')} |",
        f"| CPU | {machine.get('cpu', '')}, {machine.get('cpus_available', '')} cores available |",
        f"| Memory | {machine.get('memory_gib', '')} GiB |",
        f"| OS / Python | {machine.get('os', '')} / Python {machine.get('python', '')} |",
        f"| Odoo | {machine.get('odoo', '')} (Community) |",
        f"| PostgreSQL | {machine.get('postgresql', '')}, unix socket, "
        + ", ".join(f"{k}={v}" for k, v in pg.items())
        + " |",
        f"| Addon | commit {machine.get('addon_commit', '')} |",
        f"| Addon install (template database) | {machine.get('addon_install_s', '–')} s |",
        f"| Load average (1/5/15 min) at start / end | "
        f"{machine.get('loadavg_1_5_15_at_start', '–')} / "
        f"{machine.get('loadavg_1_5_15_at_end', '–')} (2 cores; the bench itself keeps about "
        "one busy; more means other work on the machine) |",
    ]


def _headlines(gen, lst, rem) -> list[str]:
    lines = ["## Headlines", ""]
    if gen:
        g = gen["generate"]
        lines.append(
            f"- Generation: {g['tokens']:,} cards + {g['partners_inserted']:,} partners in "
            f"**{g['total_s']:.1f} s**, **{g['rows_per_s']:,} rows/s** "
            f"({g['tokens_per_s']:,} cards/s for the card INSERT)."
        )
    if lst:
        b = lst["expiring_list"]["baseline"]
        lines.append(
            f"- Expiring Cards default search at {lst['tokens']:,} cards: ORM "
            f"`web_search_read` **{b['orm']['web_search_read']['median_ms']:.1f} ms** median "
            f"(p95 {b['orm']['web_search_read']['p95_ms']:.1f}), first page alone "
            f"{b['orm']['first_page']['median_ms']:.1f} ms, uncapped `search_count` "
            f"{b['orm']['search_count']['median_ms']:.1f} ms; bare SQL page "
            f"**{b['bare_sql']['page']['median_ms']:.2f} ms**, bare count "
            f"{b['bare_sql']['count']['median_ms']:.2f} ms."
        )
        lines.append(f"- Plan of the ORM's page query: {index_used(page_query(b))}")
    if rem:
        r = rem["reminders"]
        job = r["volume"]["job"]
        over = r["overhead"]
        lines.append(
            f"- Reminder job, {job['processed']:,} reminders due: **{job['job_s']:.0f} s**, "
            f"**{job['ms_per_reminder']:.1f} ms** and **{job['queries_per_reminder']} SQL "
            "queries per reminder**; queries per reminder with "
            + " / ".join(f"{sc['tokens']:,}" for sc in (r.get("scaling") or []))
            + " cards in the database: "
            + " / ".join(str(sc["job"]["queries_per_reminder"]) for sc in (r.get("scaling") or []))
            + f". Odoo's own render + mail.mail creation for the same emails: "
            f"{over['odoo_batched_ms_per_email']:.1f} ms per email (the addon: "
            f"{over['addon_over_odoo_batched_ratio']}×, "
            f"{over['addon_minus_odoo_batched_ms']:+.1f} ms)."
        )
    lines.append("")
    return lines


def _findings(lst, rem) -> list[str]:
    lines = ["## Findings", ""]
    items = []
    if lst:
        data = lst["expiring_list"]
        base, comp = data["baseline"], data["comparison"]
        page_b, page_c = page_query(base), page_query(comp)
        due_b, due_c = base.get("reminder_due_query"), comp.get("reminder_due_query")
        if data["seq_scans"]:
            items.append(
                "**Sequential scan on payment_token** in the list's queries: "
                + "; ".join(f"`{s}`" for s in data["seq_scans"])
            )
        else:
            items.append(
                "The list's default search uses an index, no sequential scan on "
                f"payment_token: {index_used(page_b)}."
            )
        month = (
            "every card expires on a month's last day, so one `omni_expiry_date` value holds "
            "about 1/96 of the cards; an index on `omni_expiry_date` alone makes `ORDER BY "
            "omni_expiry_date, id LIMIT n` read and sort the whole first month (Incremental Sort)"
        )
        due_text = ""
        if due_b and due_c:
            due_text = (
                f"; the reminder job's batch query (same shape, LIMIT 200) "
                f"{due_b['batch']['median_ms']:.1f} ms vs {due_c['batch']['median_ms']:.1f} ms"
            )
        if comp["mode"] == "without_addon_index" and page_b and page_c:
            items.append(
                f"The addon's partial index `{data['addon_expiry_id_index']['name']}` on "
                "(omni_expiry_date, id) WHERE active AND omni_method_kind = 'card' does its job: "
                f"{month}. Page query {execution_ms(page_b):.2f} ms with it vs "
                f"{execution_ms(page_c):.1f} ms without it (EXPLAIN ANALYZE at "
                f"{lst['tokens']:,} cards); `web_search_read` "
                f"{base['orm']['web_search_read']['median_ms']:.1f} vs "
                f"{comp['orm']['web_search_read']['median_ms']:.1f} ms{due_text}. What "
                "remains of `web_search_read` is the count capped at 10,001 rows (the web "
                "client's) and the ORM's Python work on 80 records."
            )
        elif page_b and page_c:
            items.append(
                f"**Missing index**: {month}: page query {execution_ms(page_b):.1f} ms, "
                f"{execution_ms(page_c):.2f} ms with a partial index on (omni_expiry_date, id) "
                f"(EXPLAIN ANALYZE at {lst['tokens']:,} cards); `web_search_read` "
                f"{base['orm']['web_search_read']['median_ms']:.1f} → "
                f"{comp['orm']['web_search_read']['median_ms']:.1f} ms{due_text}. Fix: "
                + PARTIAL_INDEX_FIX
            )
    if rem:
        r = rem["reminders"]
        job = r["volume"]["job"]
        over = r["overhead"]
        counts = [sc["job"]["queries_per_reminder_full_batches"] for sc in (r.get("scaling") or [])]
        sizes = " / ".join(f"{sc['tokens']:,}" for sc in (r.get("scaling") or []))
        items.append(
            f"Reminder job: {job['ms_per_reminder']:.1f} ms and {job['queries_per_reminder']} "
            "queries per reminder. Queries per reminder "
            + ("do not change" if len(set(counts)) == 1 else "**change**")
            + f" with the number of cards ({' / '.join(str(c) for c in counts)} in full "
            f"batches at {sizes} cards): no N+1 on cards. It costs "
            f"{over['addon_over_odoo_batched_ratio']}× Odoo's cheapest path for the same "
            "emails (batched rendering + `mail.mail.create`). The job writes a batch in a "
            "constant number of queries: the log rows, the links, the chatter messages, the "
            "outgoing emails and their notifications in one insert each (no `message_post` "
            "per reminder); what it adds to Odoo's path is the email layout of each email, "
            "the chatter copy and the log rows (profile in section 3)."
        )
        edge = r.get("edge_case_no_email_batch")
        if not edge:
            pass
        elif edge["due_left_after_the_run"]:
            items.append(
                "**Bug: the job stops for the day after a batch in which nothing was "
                "sent.** With done = emails sent, a batch that only skipped cards reports "
                "done=0 with work remaining; Odoo 18's `ir.cron._run_job` then takes the job "
                "for fully done and reschedules it for the next day: "
                f"{edge['due_left_after_the_run']} due reminders were left. Fix: " + PROGRESS_FIX
            )
        else:
            items.append(
                "A batch in which nothing can be sent (customers without email) no longer "
                "stops the job for the day: the job reports every card handled as done "
                f"(batches {edge['per_batch']}, {edge['due_left_after_the_run']} due left)."
            )
    for number, item in enumerate(items, 1):
        lines += [f"{number}. {item}", ""]
    return lines


def _generation(gen: dict) -> list[str]:
    t = gen["timings_s"]
    d = gen["distribution"]
    return [
        "## 1. Data generation (`bench/generate.py`)",
        "",
        f"{gen['tokens']:,} cards of {gen['customers']:,} customers ({gen['companies']:,} "
        f"companies with one contact person each: {gen['partners_inserted']:,} partners), "
        f"today = {gen['today']}.",
        "",
        "| Step | Seconds |",
        "|---|---:|",
        f"| seed rows through the ORM (rolled back) | {t['seed_rows_s']:.2f} |",
        f"| planning the rows (temporary tables) | {t['plan_rows_s']:.2f} |",
        f"| INSERT res_partner | {t['partners_s']:.2f} |",
        f"| INSERT payment_token | {t['tokens_s']:.2f} |",
        f"| VACUUM ANALYZE | {t['vacuum_analyze_s']:.2f} |",
        f"| **total** | **{gen['total_s']:.1f}** |",
        "",
        f"**{gen['rows_per_s']:,} rows/s** overall ({gen['rows_inserted']:,} rows), "
        f"**{gen['tokens_per_s']:,} cards/s** for the payment_token INSERT. Sizes: "
        f"payment_token {d['payment_token_size']}, res_partner {d['res_partner_size']}.",
        "",
        f"Distribution: {d['active']:,} active cards, {d['defaults']:,} defaults (one per "
        f"customer), expiry {d['expiry_min']} .. {d['expiry_max']}, "
        f"**{d['in_list_window']:,} cards ({d['in_list_window_pct']} %) in the Expiring Cards "
        f"window**; brands {', '.join(f'{k} {v:,}' for k, v in d['brands'].items())}. "
        f"ORM check: {d.get('orm_check', '–')}.",
        "",
    ]


def _list_section(data: dict) -> list[str]:
    lst = data["expiring_list"]
    base, comp = lst["baseline"], lst["comparison"]
    call = base["call"]
    other = comp["label"]

    def row(label, b, c, digits=1):
        return (
            f"| {label} | {_ms(b['median_ms'], digits)} | {_ms(b['p95_ms'], digits)} | "
            f"{_ms(c['median_ms'], digits)} | {_ms(c['p95_ms'], digits)} |"
        )

    page_b, page_c, count_b = page_query(base), page_query(comp), count_query(base)
    length = base["orm"]["web_search_read"]["length"]
    lines = [
        "## 2. Expiring Cards list, default search (`bench/expiring_list.py`)",
        "",
        f"{data['tokens']:,} cards; a user of the Viewer group; today = {lst['today']}. "
        "The web client's first load of the action `payment_token_action_expiring`:",
        "",
        f"- domain = action domain AND filter `{call['default_filters'][0]['name']}`: "
        f"`{call['domain']}`",
        f"- specification (the list view's fields): `{json.dumps(call['specification'])}`",
        f"- `web_search_read(domain, specification, limit={lst['page_size']}, "
        f"order='{call['order']}', count_limit={lst['count_limit']})`, each run on a new "
        "cursor (cold ORM cache, warm PostgreSQL); the uncapped `search_count(domain)` and "
        "the first page alone (`search_fetch` + `web_read`) separately.",
        "",
        f"Runs per measure: {base['orm']['web_search_read']['runs']} (after one warm-up). "
        f"Right-hand columns: {other} (`{comp['ddl']}`), in the bench database only.",
        "",
        f"| Measure (ms) | median | p95 | median, {other} | p95, {other} |",
        "|---|---:|---:|---:|---:|",
        row(
            "ORM `web_search_read` (page + count capped at 10,001)",
            base["orm"]["web_search_read"],
            comp["orm"]["web_search_read"],
        ),
        row(
            "ORM first page alone (`search_fetch` + `web_read`)",
            base["orm"]["first_page"],
            comp["orm"]["first_page"],
        ),
        row(
            "ORM `search_count` (uncapped)",
            base["orm"]["search_count"],
            comp["orm"]["search_count"],
        ),
        row("bare SQL page (LIMIT 80)", base["bare_sql"]["page"], comp["bare_sql"]["page"], 2),
        row("bare SQL count", base["bare_sql"]["count"], comp["bare_sql"]["count"], 2),
        "",
        f"Matching cards: {base['orm']['search_count']['count']:,} (`web_search_read` length "
        f"{length:,}{', the cap' if length == lst['count_limit'] else ''}). SQL queries of "
        f"one `web_search_read`: {base['orm_query_count']} "
        f"({', '.join(q['kind'] for q in base['orm_queries'])}).",
        "",
    ]
    if lst["seq_scans"]:
        lines += ["**Sequential scans found:**", "", *[f"- `{s}`" for s in lst["seq_scans"]], ""]
    if page_b:
        lines += [
            "### Plan of the ORM's page query",
            "",
            f"Index line: {index_used(page_b)}",
            "",
            "```sql",
            page_b["sql"],
            "```",
            "",
            _plan(page_b["plan"]),
            "",
        ]
    if page_c:
        lines += [f"{other[0].upper()}{other[1:]}:", "", _plan(page_c["plan"]), ""]
    if count_b:
        lines += ["### Plan of the ORM's count query (capped)", "", _plan(count_b["plan"]), ""]
    lines += ["### Bare SQL", ""]
    for name in ("page", "count"):
        part = base["bare_sql"][name]
        lines += ["```sql", part["sql"], "```", "", _plan(part["plan"]), ""]
    due_b, due_c = base.get("reminder_due_query"), comp.get("reminder_due_query")
    if due_b and due_c:
        lines += [
            "### The reminder job's due-card query on the same cards",
            "",
            "`omni.payment.reminder._due_tokens(today, limit=200)` (one batch, FOR UPDATE "
            "SKIP LOCKED) and the `remaining` call without limit that each full batch makes, "
            "as the superuser: same WHERE and ORDER BY as the list.",
            "",
            f"| call | rows | median ms | p95 ms | median ms, {other} |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {name} | {due_b[name]['rows']:,} | {due_b[name]['median_ms']:.1f} | "
                f"{due_b[name]['p95_ms']:.1f} | {due_c[name]['median_ms']:.1f} |"
                for name in ("batch", "remaining")
            ),
            "",
            "```sql",
            due_b["batch"]["sql"],
            "```",
            "",
            _plan(due_b["batch"]["plan"]),
            "",
            f"{other[0].upper()}{other[1:]}:",
            "",
            _plan(due_c["batch"]["plan"]),
            "",
        ]
    return lines


def _reminders_section(data: dict) -> list[str]:
    rem = data["reminders"]
    vol = rem["volume"]
    job = vol["job"]
    base = vol["odoo_baseline"]
    over = rem["overhead"]
    b, o = base["batched"], base["one_by_one"]
    lines = [
        "## 3. Expiry reminder job (`bench/reminders.py`)",
        "",
        f"`omni.payment.reminder._cron_send_expiry_reminders(batch_size={rem['batch_size']})` "
        "run batch after batch as Odoo 18's `ir.cron._run_job` does (new cursor per batch, "
        "cron user, `ir.cron.progress` in the context, commit after each call, next batch "
        "while work was done and some remains). Time per batch includes the commit. Every "
        "due card is its customer's default and the customer has an email address, so each "
        "reminder is an email (queued, `mail_notify_force_send=False`).",
        "",
        "### Volume",
        "",
        "| | |",
        "|---|---:|",
        f"| cards in the database | {vol['tokens']:,} |",
        f"| reminders due today | {vol['due_before']:,} |",
        f"| processed / left due after the run | {job['processed']:,} / {vol['due_after']:,} |",
        f"| afterwards | {_states(vol['states'])} |",
        f"| batches | {job['batches']} |",
        f"| **total job time** | **{job['job_s']:.1f} s** (wall {job['wall_s']:.1f} s) |",
        f"| **time per reminder** | **{job['ms_per_reminder']:.2f} ms** |",
        f"| full batch of {rem['batch_size']}: median / p95 | "
        f"{_ms(job['ms_per_full_batch_median'], 0)} / {_ms(job['ms_per_full_batch_p95'], 0)} ms |",
        f"| **SQL queries per reminder** | **{job['queries_per_reminder']}** "
        f"({job['queries']:,} in all) |",
        f"| time spent in SQL | {job['sql_share_pct']} % |",
        "",
        "Queries per reminder by kind: "
        + ", ".join(f"{k} {v}" for k, v in job["queries_per_reminder_by_kind"].items())
        + ".",
        "",
        "### Queries per reminder vs cards in the database",
        "",
        "| cards | due | processed | batches | queries / reminder | in full batches | "
        "ms / reminder |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for sc in [*(rem.get("scaling") or []), vol]:
        j = sc["job"]
        lines.append(
            f"| {sc['tokens']:,} | {sc['due_before']:,} | {j['processed']:,} | {j['batches']} | "
            f"{j['queries_per_reminder']} | {j['queries_per_reminder_full_batches']} | "
            f"{j['ms_per_reminder']:.2f} |"
        )
    lines += [
        "",
        "### Odoo's own work for the same emails",
        "",
        "`mail.template._generate_template` of the addon's template (subject, body_html, "
        "email_from) for the same due cards, then `mail.mail.create` with the rendered "
        "values, flushed; in a transaction rolled back afterwards.",
        "",
        "| | emails | ms / email | of which render | of which mail.mail | queries / email |",
        "|---|---:|---:|---:|---:|---:|",
        f"| Odoo, {b['per_call']} cards per call | {b['emails']:,} | {b['ms_per_email']:.2f} | "
        f"{b['render_ms_per_email']:.2f} | {b['mail_create_ms_per_email']:.2f} | "
        f"{b['queries_per_email']} |",
        f"| Odoo, one card per call | {o['emails']:,} | {o['ms_per_email']:.2f} | "
        f"{o['render_ms_per_email']:.2f} | {o['mail_create_ms_per_email']:.2f} | "
        f"{o['queries_per_email']} |",
        f"| **the addon's job** (log rows, links, rendering, layout, chatter messages, "
        f"emails and notifications, in batch) | {job['processed']:,} | "
        f"**{job['ms_per_reminder']:.2f}** | | | {job['queries_per_reminder']} |",
        "",
        "Overhead of the addon above Odoo's rendering + mail creation (200 per call): "
        f"**{over['addon_minus_odoo_batched_ms']:+.2f} ms per reminder "
        f"({over['addon_over_odoo_batched_ratio']}×)**, "
        f"{job['queries_per_reminder'] - b['queries_per_email']:+.1f} queries.",
        "",
    ]
    prof = vol.get("profile_one_batch")
    if prof:
        lines += [
            f"Where a batch's time goes (cProfile of one batch of {prof['reminders']}, rolled "
            "back; cumulative time as a share of the batch):",
            "",
            "| function | what | share |",
            "|---|---|---:|",
            *(
                f"| `{name}` | {f['what'].strip()} | {f['share_pct']} % |"
                for name, f in prof["functions"].items()
            ),
            "",
        ]
    edge = rem.get("edge_case_no_email_batch")
    if edge:
        lines += [
            "### Edge case: a batch where nothing can be sent",
            "",
            f"{edge['setup']}. Batches run by the cron loop: {edge['batches_run']} "
            f"({edge['per_batch']}); reminders still due today after the run: "
            f"**{edge['due_left_after_the_run']}** ({_states(edge['states'])}).",
            "",
        ]
    variants = rem.get("candidate_fixes")
    if variants:
        lines += [
            "### Variants, applied in-process",
            "",
            f"The same job on identical databases ({variants[0]['tokens']:,} cards, "
            f"{variants[0]['due']} due), with the addon's behaviour changed by the bench at "
            "run time (`reminders.candidate_fixes`; the addon's files are not modified).",
            "",
            "| variant | ms / reminder | queries / reminder | customers followed by the "
            "company's partner afterwards |",
            "|---|---:|---:|---:|",
            *(
                f"| {v['variant']} | {v['ms_per_reminder']:.2f} | {v['queries_per_reminder']} "
                f"| {v['customers_followed_by_company']:,} |"
                for v in variants
            ),
            "",
        ]
    return lines


def write() -> Path:
    gen = benchlib.read_json("generate.json")
    lst = benchlib.read_json("expiring_list.json")
    rem = benchlib.read_json("reminders.json")
    machine = (gen or lst or rem or {}).get("machine", {})
    lines = [
        "# Scale and speed: expiring cards and expiry reminders",
        "",
        "Generated by `bench/run_all.py` (see `bench/README.md`); raw numbers in "
        "`generate.json`, `expiring_list.json` and `reminders.json` beside this file.",
        "",
        *_machine(machine),
    ]
    if machine.get("bench_total_min"):
        lines.append(f"| Whole bench (`run_all.py`) | {machine['bench_total_min']} min |")
    lines.append("")
    lines += _headlines(gen, lst, rem)
    lines += _findings(lst, rem)
    if gen:
        lines += _generation(gen["generate"])
    if lst:
        lines += _list_section(lst)
    if rem:
        lines += _reminders_section(rem)
    path = benchlib.RESULTS / "expiry.md"
    benchlib.RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


if __name__ == "__main__":
    if "--quick" in sys.argv:
        benchlib.set_results_dir(benchlib.RESULTS / "quick")
    print(write())
