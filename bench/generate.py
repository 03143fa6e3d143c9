#!/usr/bin/env python3
"""Fill a database (addon installed) with N saved cards and their customers, in SQL.

    ODOO_HOME=/path/to/odoo-18 PYTHON=/path/to/python $PYTHON bench/generate.py --tokens 1000000

Standalone, it starts a throwaway PostgreSQL, installs the addon, generates the data, prints
rows/s, writes bench/results/generate.json and stops everything. The other benches import
``generate()`` to fill their own databases.

How the rows are made: one customer (res.partner) and one card (payment.token) are created
through the ORM, read back as rows and rolled back; every generated row copies all the
columns of those seed rows (so the defaults of every installed module are there) except the
ones drawn below, with INSERT ... SELECT over generate_series, then VACUUM ANALYZE.

Distributions (seeded, reproducible):
- customers: 75 % individuals, 25 % companies; every company has one contact person, and
  its 2nd/3rd cards belong to that person (the card's customer stays the company);
  every customer and contact has an email address;
- 1 card (55 %), 2 (30 %) or 3 (15 %) per customer: 1.6 on average;
- the 1st card of a customer is its default (active); later cards are archived (deleted)
  with a 5 % probability; one default per customer and company, as the partial unique index
  requires;
- brand Visa 52 %, Mastercard 30 %, Amex 10 %, Discover 5 %, JCB/Diners/UnionPay 3 %;
  funding credit 60 %, debit 35 %, prepaid 5 %; random last 4;
- expiry month uniform from 24 months ago to 71 months ahead (8 years), the expiry date
  being the month's last day: about 3 % of the cards fall in the Expiring Cards window
  (today - 30 days .. today + 60 days);
- with ``--due-today K``: exactly K customers' default cards expire within the reminder
  window (a reminder stage is due today for each) and every other card outside it;
- provider Stripe (payment.payment_provider_stripe) and its company, payment method Card,
  fake Stripe ids (cus_..., pm_..., fingerprint), added 0-3 years ago through the portal,
  online payment, staff or an emailed link.
"""

from __future__ import annotations

import argparse
import calendar
import datetime
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
from benchlib import say  # noqa: E402

CARDS_PER_CUSTOMER = 1.6  # 0.55 * 1 + 0.30 * 2 + 0.15 * 3
MONTHS_BACK = 24
MONTHS_AHEAD = 71
LIST_WINDOW = (-30, 60)  # the Expiring Cards default filter, days around today
REMINDER_WINDOW = (-30, 60)  # lib/reminders.window() with the default offsets and grace

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Karen", "Nina", "Lucas", "Emma", "Noah", "Olivia", "Liam", "Sofia",
    "Mateo", "Amelia", "Yuki", "Aisha", "Omar", "Chloe", "Hugo", "Ines", "Pierre", "Anna",
    "Lena", "Jonas", "Marta",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Dubois", "Muller", "Rossi",
    "Nakamura", "Kowalski", "Jansen", "Silva", "Novak", "Berg", "Costa",
]  # fmt: skip
COMPANY_SUFFIXES = ["Ltd", "Inc", "LLC", "GmbH", "SARL", "BV", "Group", "& Co", "Partners"]


def month_offsets(today: datetime.date, window: tuple[int, int]) -> tuple[list, list]:
    """Month offsets (from today's month) whose last day falls in / out of the window."""
    inside, outside = [], []
    start = today + datetime.timedelta(days=window[0])
    stop = today + datetime.timedelta(days=window[1])
    for offset in range(-MONTHS_BACK, MONTHS_AHEAD + 1):
        index = today.year * 12 + today.month - 1 + offset
        year, month = divmod(index, 12)
        last_day = datetime.date(year, month + 1, calendar.monthrange(year, month + 1)[1])
        (inside if start <= last_day <= stop else outside).append(offset)
    return inside, outside


def _seed_rows(env) -> dict:
    """Create one customer and one card with the ORM; return them as column -> value rows.

    The caller rolls the transaction back: nothing of the seeds stays.
    """
    provider = env.ref("payment.payment_provider_stripe")
    partner = env["res.partner"].create(
        {"name": "Seed Customer", "email": "seed.customer@example.com", "lang": "en_US"}
    )
    token = env["payment.token"].create(
        {
            "provider_id": provider.id,
            "payment_method_id": env.ref("payment.payment_method_card").id,
            "partner_id": partner.id,
            "provider_ref": "cus_seed",
            "stripe_payment_method": "pm_seed",
            "payment_details": "4242",
            "omni_method_kind": "card",
            "omni_stripe_pm_type": "card",
            "omni_card_brand": "visa",
            "omni_card_exp_month": 12,
            "omni_card_exp_year": 2030,
            "omni_card_funding": "credit",
            "omni_holder_name": "SEED CUSTOMER",
        }
    )
    env.flush_all()
    cr = env.cr
    cr.execute("SELECT row_to_json(p)::text FROM res_partner p WHERE id = %s", [partner.id])
    partner_row = cr.fetchone()[0]
    cr.execute("SELECT row_to_json(t)::text FROM payment_token t WHERE id = %s", [token.id])
    token_row = cr.fetchone()[0]
    return {
        "partner": partner_row,
        "token": token_row,
        "provider_id": provider.id,
        "company_id": provider.company_id.id,
        "payment_method_id": env.ref("payment.payment_method_card").id,
        "country_id": env.ref("base.us").id,
        "lang": partner.lang,
    }


def _columns(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cur.fetchall()]


def _insert_select(cur, table, alias_from, overrides, template_json, where=""):
    """INSERT every column of ``table``: the override expression or the seed row's value."""
    columns = _columns(cur, table)
    exprs = [overrides.get(col, f'seed."{col}"') for col in columns]
    # Overrides of columns that do not exist (a module not installed) are ignored.
    names = ", ".join(f'"{col}"' for col in columns)
    query = (
        f'INSERT INTO "{table}" ({names})'
        f" SELECT {', '.join(exprs)}"
        f' FROM {alias_from}, json_populate_record(NULL::"{table}", %(seed)s::json) seed'
        f" {where}"
    )
    cur.execute(query, {"seed": template_json})
    return cur.rowcount


def generate(
    cluster,
    db: str,
    tokens: int,
    *,
    due_today: int | None = None,
    today: datetime.date | None = None,
    seed: float = 0.42,
    quiet: bool = False,
    fast: bool = True,
) -> dict:
    """Fill ``db`` with ``tokens`` cards; return the timings and counts."""
    today = today or datetime.date.today()
    log = (lambda _m: None) if quiet else say
    timings = {}
    cluster.registry(db)  # loading Odoo's registry is not part of the generation
    started = time.monotonic()

    t0 = time.monotonic()
    with cluster.env(db, commit=False) as env:
        seeds = _seed_rows(env)
    timings["seed_rows_s"] = time.monotonic() - t0

    customers_max = math.ceil(tokens / CARDS_PER_CUSTOMER * 1.15) + 50
    inside, outside = month_offsets(today, REMINDER_WINDOW if due_today else LIST_WINDOW)
    params = {
        "seed_value": seed,
        "customers_max": customers_max,
        "tokens": tokens,
        "first": FIRST_NAMES,
        "last": LAST_NAMES,
        "suffix": COMPANY_SUFFIXES,
        "inside": inside,
        "outside": outside,
        "all_offsets": list(range(-MONTHS_BACK, MONTHS_AHEAD + 1)),
        "month0": today.year * 12 + today.month - 1,
        "due": due_today or 0,
    }

    conn = cluster.connect(db)
    try:
        cur = conn.cursor()
        if fast:
            # Bulk load: skip the foreign-key triggers (the rows reference existing records
            # by construction; verify() checks a sample through the ORM afterwards).
            cur.execute("SET session_replication_role = replica")
        cur.execute("SELECT coalesce(max(id), 0) FROM res_partner")
        partner_base = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM payment_token")
        token_base = cur.fetchone()[0]
        params.update(partner_base=partner_base, contact_base=partner_base + customers_max)

        t0 = time.monotonic()
        cur.execute("SELECT setseed(%(seed_value)s)", params)
        cur.execute(
            """
            CREATE TEMP TABLE g_cust AS
            SELECT n,
                   CASE WHEN r1 < 0.55 THEN 1 WHEN r1 < 0.85 THEN 2 ELSE 3 END AS ncards,
                   r2 < 0.25 AS is_company,
                   (%(first)s::text[])[1 + floor(r3 * array_length(%(first)s::text[], 1))]
                       AS first_name,
                   (%(last)s::text[])[1 + floor(r4 * array_length(%(last)s::text[], 1))]
                       AS last_name,
                   (%(first)s::text[])[1 + floor(r5 * array_length(%(first)s::text[], 1))]
                       AS contact_first,
                   (%(suffix)s::text[])[1 + floor(r6 * array_length(%(suffix)s::text[], 1))]
                       AS suffix,
                   %(partner_base)s + n AS partner_id,
                   %(contact_base)s + n AS contact_id
              FROM (SELECT n, random() r1, random() r2, random() r3, random() r4,
                           random() r5, random() r6
                      FROM generate_series(1, %(customers_max)s) n) s
            """,
            params,
        )
        cur.execute(
            """
            CREATE TEMP TABLE g_pick AS
            SELECT row_number() OVER (ORDER BY c.n, k) AS t, c.n, k, c.is_company,
                   c.partner_id, c.contact_id, c.first_name, c.last_name, c.suffix,
                   random() AS r_brand, random() AS r_fund, random() AS r_active,
                   random() AS r_added, random() AS r_channel, random() AS r_last4,
                   random() AS r_nick, random() AS r_month
              FROM g_cust c CROSS JOIN LATERAL generate_series(1, c.ncards) k
             ORDER BY c.n, k
             LIMIT %(tokens)s
            """,
            params,
        )
        cur.execute("DELETE FROM g_cust WHERE n > (SELECT max(n) FROM g_pick)")
        cur.execute("SELECT count(*), count(*) FILTER (WHERE is_company) FROM g_cust")
        customers, companies = cur.fetchone()
        if due_today and due_today > customers:
            raise ValueError(f"--due-today {due_today} is more than the {customers} customers")
        # Which cards expire in the window: K customers' defaults (--due-today), or chance.
        cur.execute("CREATE TEMP TABLE g_due (n int PRIMARY KEY)")
        if due_today:
            cur.execute(
                "INSERT INTO g_due SELECT n FROM g_cust ORDER BY random() LIMIT %(due)s", params
            )
        cur.execute("ANALYZE g_due")
        cur.execute(
            """
            CREATE TEMP TABLE g_tok AS
            SELECT s.*,
                   (%(month0)s + s.month_offset) / 12 AS exp_year,
                   (%(month0)s + s.month_offset) %% 12 + 1 AS exp_month
              FROM (
                SELECT p.*,
                       CASE
                           WHEN %(due)s = 0 THEN (%(all_offsets)s::int[])
                               [1 + floor(p.r_month * %(n_all)s)]
                           WHEN p.k = 1 AND d.n IS NOT NULL THEN (%(inside)s::int[])
                               [1 + floor(p.r_month * %(n_inside)s)]
                           ELSE (%(outside)s::int[])[1 + floor(p.r_month * %(n_outside)s)]
                       END AS month_offset
                  FROM g_pick p LEFT JOIN g_due d ON d.n = p.n
              ) s
            """,
            {
                **params,
                "n_all": len(params["all_offsets"]),
                "n_inside": len(inside),
                "n_outside": len(outside),
            },
        )
        timings["plan_rows_s"] = time.monotonic() - t0

        # ---------------------------------------------------------------- customers
        t0 = time.monotonic()
        person_name = "c.first_name || ' ' || c.last_name"
        company_name = "c.last_name || ' ' || c.suffix"
        name = f"CASE WHEN c.is_company THEN {company_name} ELSE {person_name} END"
        email = (
            "lower(CASE WHEN c.is_company THEN 'billing' ELSE c.first_name || '.' || "
            "c.last_name END) || '.' || c.n || '@' || CASE WHEN c.is_company THEN "
            "lower(c.last_name) || c.n || '.example.com' ELSE 'example.com' END"
        )
        partner_overrides = {
            "id": "c.partner_id",
            "name": name,
            "complete_name": name,
            "email": email,
            "email_normalized": email,
            "is_company": "c.is_company",
            "company_type": "CASE WHEN c.is_company THEN 'company' ELSE 'person' END",
            "commercial_partner_id": "c.partner_id",
            "commercial_company_name": f"CASE WHEN c.is_company THEN {company_name} END",
            "parent_id": "NULL",
            "type": "'contact'",
            "country_id": str(seeds["country_id"]),
            "customer_rank": "1",
            "create_date": "now() at time zone 'UTC'",
            "write_date": "now() at time zone 'UTC'",
            "create_uid": "1",
            "write_uid": "1",
        }
        partners = _insert_select(
            cur, "res_partner", "g_cust c", partner_overrides, seeds["partner"]
        )
        contact_name = "c.contact_first || ' ' || c.last_name"
        contact_email = (
            "lower(c.contact_first) || '.' || c.n || '@' || lower(c.last_name) || c.n "
            "|| '.example.com'"
        )
        contact_overrides = {
            **partner_overrides,
            "id": "c.contact_id",
            "name": contact_name,
            "complete_name": f"{company_name} || ', ' || {contact_name}",
            "email": contact_email,
            "email_normalized": contact_email,
            "is_company": "false",
            "company_type": "'person'",
            "commercial_company_name": company_name,
            "parent_id": "c.partner_id",
            "customer_rank": "0",
        }
        contacts = _insert_select(
            cur,
            "res_partner",
            "g_cust c",
            contact_overrides,
            seeds["partner"],
            "WHERE c.is_company",
        )
        timings["partners_s"] = time.monotonic() - t0

        # ---------------------------------------------------------------- cards
        t0 = time.monotonic()
        brand = (
            "CASE WHEN g.r_brand < 0.52 THEN 'visa' WHEN g.r_brand < 0.82 THEN 'mastercard' "
            "WHEN g.r_brand < 0.92 THEN 'amex' WHEN g.r_brand < 0.97 THEN 'discover' "
            "WHEN g.r_brand < 0.98 THEN 'jcb' WHEN g.r_brand < 0.99 THEN 'diners' "
            "ELSE 'unionpay' END"
        )
        added_on = "(now() at time zone 'UTC') - (g.r_added * interval '1095 days')"
        token_overrides = {
            "id": f"{token_base} + g.t",
            "partner_id": (
                "CASE WHEN g.is_company AND g.k > 1 THEN g.contact_id ELSE g.partner_id END"
            ),
            "commercial_partner_id": "g.partner_id",
            "company_id": str(seeds["company_id"]),
            "provider_id": str(seeds["provider_id"]),
            "payment_method_id": str(seeds["payment_method_id"]),
            "payment_details": "lpad(floor(g.r_last4 * 10000)::int::text, 4, '0')",
            "provider_ref": "'cus_' || substr(md5('customer' || g.n), 1, 14)",
            "stripe_payment_method": "'pm_' || substr(md5('pm' || g.t), 1, 24)",
            "stripe_mandate": "NULL",
            "omni_method_kind": "'card'",
            "omni_stripe_pm_type": "'card'",
            "omni_card_brand": brand,
            "omni_card_exp_month": "g.exp_month",
            "omni_card_exp_year": "g.exp_year",
            "omni_expiry_date": "(make_date(g.exp_year, g.exp_month, 1) + interval '1 month' "
            "- interval '1 day')::date",
            "omni_holder_name": "upper(g.first_name || ' ' || g.last_name)",
            "omni_card_funding": "CASE WHEN g.r_fund < 0.60 THEN 'credit' "
            "WHEN g.r_fund < 0.95 THEN 'debit' ELSE 'prepaid' END",
            "omni_card_country_id": str(seeds["country_id"]),
            "omni_fingerprint": "substr(md5('fp' || g.t), 1, 16)",
            "omni_card_wallet": "CASE WHEN g.r_nick > 0.97 THEN 'apple_pay' END",
            "omni_bank_name": "NULL",
            "omni_nickname": "CASE WHEN g.r_nick < 0.10 THEN 'Card ' || g.k END",
            "omni_is_default": "g.k = 1",
            "active": "g.k = 1 OR g.r_active >= 0.05",
            "omni_added_on": added_on,
            "omni_added_by_id": "NULL",
            "omni_added_channel": "CASE WHEN g.r_channel < 0.45 THEN 'checkout' "
            "WHEN g.r_channel < 0.75 THEN 'portal' WHEN g.r_channel < 0.90 THEN 'staff' "
            "ELSE 'link' END",
            "omni_stripe_sync_state": "'synced'",
            "omni_stripe_synced_on": added_on,
            "omni_stripe_state_at": added_on,
            "create_date": added_on,
            "write_date": added_on,
            "create_uid": "1",
            "write_uid": "1",
        }
        cards = _insert_select(cur, "payment_token", "g_tok g", token_overrides, seeds["token"])
        timings["tokens_s"] = time.monotonic() - t0

        cur.execute("SELECT setval('res_partner_id_seq', (SELECT max(id) FROM res_partner))")
        cur.execute("SELECT setval('payment_token_id_seq', (SELECT max(id) FROM payment_token))")
        t0 = time.monotonic()
        conn.commit()
        timings["commit_s"] = time.monotonic() - t0
    finally:
        conn.close()

    t0 = time.monotonic()
    conn = cluster.connect(db, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) res_partner, payment_token")
    finally:
        conn.close()
    timings["vacuum_analyze_s"] = time.monotonic() - t0
    total = time.monotonic() - started

    stats = window_stats(cluster, db, today)
    stats["orm_check"] = verify(cluster, db)
    rows = partners + contacts + cards
    result = {
        "database": db,
        "today": today.isoformat(),
        "tokens": cards,
        "customers": customers,
        "companies": companies,
        "partners_inserted": partners + contacts,
        "rows_inserted": rows,
        "due_today_requested": due_today,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "total_s": round(total, 3),
        "insert_s": round(timings["partners_s"] + timings["tokens_s"], 3),
        "rows_per_s": round(rows / total),
        "tokens_per_s": round(cards / timings["tokens_s"]),
        "distribution": stats,
    }
    log(
        f"{db}: {cards:,} cards of {customers:,} customers ({companies:,} companies) and "
        f"{partners + contacts:,} partners in {total:.1f}s: {rows / total:,.0f} rows/s "
        f"(cards alone {cards / timings['tokens_s']:,.0f}/s); "
        f"{stats['in_list_window']:,} cards in the Expiring Cards window "
        f"({stats['in_list_window_pct']} %)"
    )
    return result


def verify(cluster, db: str, sample: int = 500) -> str:
    """Check a random sample of the generated cards through the ORM: the stored expiry date
    is the one the addon computes, the customer is the contact's commercial entity, and each
    customer has exactly one live default (the rest of the data is checked by the unique
    index and the NOT NULL constraints while inserting)."""
    from odoo.addons.omni_payment_methods.lib import expiry as expiry_lib  # noqa: PLC0415

    with cluster.env(db, commit=False) as env:
        env.cr.execute(
            "SELECT id FROM payment_token TABLESAMPLE SYSTEM (5) REPEATABLE (7) LIMIT %s",
            [sample],
        )
        tokens = env["payment.token"].browse([row[0] for row in env.cr.fetchall()])
        problems = []
        for token in tokens:
            expected = expiry_lib.expiry_date(token.omni_card_exp_month, token.omni_card_exp_year)
            if token.omni_expiry_date != expected:
                problems.append(f"token {token.id}: expiry {token.omni_expiry_date} != {expected}")
            if token.commercial_partner_id != token.partner_id.commercial_partner_id:
                problems.append(f"token {token.id}: customer is not the commercial entity")
            if not token.partner_id.email:
                problems.append(f"token {token.id}: customer without email")
        env.cr.execute(
            """
            SELECT count(*) FROM (
                SELECT commercial_partner_id FROM payment_token
                 GROUP BY commercial_partner_id
                HAVING count(*) FILTER (WHERE omni_is_default AND active) != 1
            ) s
            """
        )
        no_single_default = env.cr.fetchone()[0]
        if no_single_default:
            problems.append(f"{no_single_default} customers without exactly one default")
    if problems:
        raise RuntimeError("generated data is inconsistent:\n" + "\n".join(problems[:20]))
    return f"ok ({len(tokens)} cards read through the ORM, one default per customer)"


def window_stats(cluster, db: str, today: datetime.date) -> dict:
    conn = cluster.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                SELECT count(*),
                       count(*) FILTER (WHERE active),
                       count(*) FILTER (WHERE active AND omni_is_default),
                       count(*) FILTER (WHERE active AND omni_method_kind = 'card'
                                         AND omni_expiry_date BETWEEN %(a)s AND %(b)s),
                       count(DISTINCT commercial_partner_id),
                       min(omni_expiry_date), max(omni_expiry_date)
                  FROM payment_token
                """,
                {
                    "a": today + datetime.timedelta(days=LIST_WINDOW[0]),
                    "b": today + datetime.timedelta(days=LIST_WINDOW[1]),
                },
            )
            total, active, defaults, window, customers, first, last = cur.fetchone()
            cur.execute(
                "SELECT omni_card_brand, count(*) FROM payment_token GROUP BY 1 ORDER BY 2 DESC"
            )
            brands = dict(cur.fetchall())
            cur.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('payment_token')), "
                "pg_size_pretty(pg_total_relation_size('res_partner'))"
            )
            token_size, partner_size = cur.fetchone()
    finally:
        conn.close()
    return {
        "tokens": total,
        "active": active,
        "defaults": defaults,
        "customers_with_cards": customers,
        "in_list_window": window,
        "in_list_window_pct": round(100 * window / total, 2) if total else 0,
        "expiry_min": first.isoformat() if first else None,
        "expiry_max": last.isoformat() if last else None,
        "brands": brands,
        "payment_token_size": token_size,
        "res_partner_size": partner_size,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--due-today", type=int, default=None)
    args = parser.parse_args()
    with benchlib.Cluster() as cluster:
        db = cluster.create_db("bench_generate")
        result = generate(cluster, db, args.tokens, due_today=args.due_today)
        benchlib.write_json(
            "generate.json",
            {"machine": benchlib.machine_info(cluster), "generate": result},
        )
    return 0


if __name__ == "__main__":
    sys.exit(benchlib.run_main(main))
