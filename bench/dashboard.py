"""Benchmark of the 信息直通车: the dashboard page and the summary endpoint at a realistic volume.

    .venv/bin/python bench/dashboard.py [--firms 100000] [--matches 1000000] [--applications 100000]
                                        [--loans 30000] [--requests 50] [--reuse] [--plans 3]

It recreates its own PostgreSQL database (``kejin_bench_dash``, or ``BENCH_DASH_DB``), migrates it,
fills it server-side with ``INSERT … SELECT FROM generate_series`` (a few seconds per million rows),
runs ``ANALYZE``, then measures in-process with Django's test client as a provincial staff user,
for every period the page offers — this month, this quarter, this year and all time (the custom
range of the last ten years, the longest the page allows) — the dashboard page (``/dashboard/``)
and ``/api/v1/dashboard/summary/``, each requested ``--requests`` times: median and p95 in
milliseconds and the number of SQL queries per request, one line per period and view. It then
prints the EXPLAIN ANALYZE plans of the slowest queries of one dashboard request of the worst
period. ``--period month|quarter|year|all`` measures that period only.

The last line is exactly ``dashboard_p95_ms=<x> summary_p95_ms=<y> queries=<n>``, for the **worst**
period (the one whose page p95 is highest; the summary figure is that period's too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DASH_DB", "kejin_bench_dash")
INSTITUTIONS = 30
PRODUCTS = 200
CITIES = [
    "140100",
    "140200",
    "140300",
    "140400",
    "140500",
    "140600",
    "140700",
    "140800",
    "140900",
    "141000",
    "141100",
    "140171",
]
INDUSTRIES = [
    "next_gen_it",
    "high_end_equipment",
    "new_materials",
    "biotech",
    "nev",
    "new_energy",
    "energy_saving",
    "digital_creative",
    "related_services",
    "other",
]
PRODUCT_TYPES = ["credit", "ip_pledge", "order_financing", "talent", "export", "equity_linked", "insurance"]


# Indexes the dashboard needs on other apps' tables (to be added by their owners' migrations under
# these names; CREATE INDEX IF NOT EXISTS makes this a no-op once they exist). ``--no-proposed-indexes``
# measures the schema as migrated.
PROPOSED_INDEXES = [
    "CREATE INDEX IF NOT EXISTS match_created_cover_idx ON matching_match (created_at) INCLUDE "
    "(is_lead, is_near_miss, institution_id, product_id, enterprise_id, need_id, status, routed_at, "
    "response_deadline, first_response_at)",
    "CREATE INDEX IF NOT EXISTS match_lead_created_idx ON matching_match (created_at) INCLUDE "
    "(institution_id, need_id, status, routed_at, response_deadline, first_response_at) WHERE is_lead",
    "CREATE INDEX IF NOT EXISTS match_overdue_idx ON matching_match (response_deadline) "
    "WHERE is_lead AND first_response_at IS NULL AND status IN ('suggested', 'claimed')",
    "CREATE INDEX IF NOT EXISTS enterprise_created_idx ON enterprises_enterprise (created_at)",
    "CREATE INDEX IF NOT EXISTS enterprise_verified_at_idx ON enterprises_enterprise (verified_at)",
    "CREATE INDEX IF NOT EXISTS need_created_idx ON enterprises_financingneed (created_at) "
    "INCLUDE (id, status, amount, enterprise_id)",
    "CREATE INDEX IF NOT EXISTS application_stalled_idx ON matching_application (status_changed_at) "
    "WHERE status IN ('submitted', 'accepted', 'approved')",
    "CREATE INDEX IF NOT EXISTS application_created_idx ON matching_application (created_at)",
    "CREATE INDEX IF NOT EXISTS application_approved_idx ON matching_application (approved_at)",
    "CREATE INDEX IF NOT EXISTS loan_start_idx ON matching_loan (start_date)",
    "CREATE INDEX IF NOT EXISTS ledger_kind_at_idx ON subsidies_ledgerentry (kind, at)",
]


def sql_array(values) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def recreate_database() -> None:
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{DB}"')
    conn.close()
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


# ------------------------------------------------------------------------------------------------
# Filling: INSERT … SELECT over generate_series; any NOT NULL column not named gets a neutral value
# ------------------------------------------------------------------------------------------------

NEUTRAL = {
    "character varying": "''",
    "text": "''",
    "jsonb": "'[]'::jsonb",
    "boolean": "false",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "numeric": "0",
    "double precision": "0",
    "date": "current_date",
    "timestamp with time zone": "now()",
}


def insert_select(cur, table: str, exprs: dict[str, str], source: str) -> None:
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'",
        [table],
    )
    columns = dict(exprs)
    for name, data_type in cur.fetchall():
        columns.setdefault(name, NEUTRAL[data_type])
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(columns.values())
    cur.execute(f"INSERT INTO {table} ({names}) SELECT {values} FROM {source}")


def fill(args) -> dict[str, float]:
    from django.db import connection

    timings = {}
    firms, needs = args.firms, int(args.firms * 1.2)
    apps, loans = args.applications, min(args.loans, args.applications)
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.42)")

        def step(name, fn):
            t = time.perf_counter()
            fn()
            timings[name] = time.perf_counter() - t
            print(f"  filled {name:<14} {timings[name]:6.1f} s", flush=True)

        step(
            "institutions",
            lambda: (
                insert_select(
                    cur,
                    "lenders_institution",
                    {
                        "id": "g",
                        "kind": "'bank'",
                        "name": "'基准银行' || g || '山西省分行'",
                        "short_name": "'基准银行' || g",
                        "is_lender": "true",
                        "created_at": "now()",
                    },
                    f"generate_series(1, {INSTITUTIONS}) g",
                ),
                insert_select(
                    cur,
                    "lenders_branch",
                    {
                        "id": "g",
                        "institution_id": "g",
                        "name": "'省分行'",
                        "is_provincial": "true",
                        "city_id": "'140100'",
                    },
                    f"generate_series(1, {INSTITUTIONS}) g",
                ),
            ),
        )
        step(
            "products",
            lambda: insert_select(
                cur,
                "products_product",
                {
                    "id": "g",
                    "institution_id": f"(g % {INSTITUTIONS}) + 1",
                    "name": "'基准产品' || g",
                    "product_type": f"({sql_array(PRODUCT_TYPES)})[(g % {len(PRODUCT_TYPES)}) + 1]",
                    "amount_min": "100000",
                    "amount_max": "50000000",
                    "term_min_months": "1",
                    "term_max_months": "36",
                    "guarantee_types": """'["credit"]'::jsonb""",
                    "status": "'published'",
                    "published_at": "now()",
                    "created_at": "now()",
                    "updated_at": "now()",
                },
                f"generate_series(1, {PRODUCTS}) g",
            ),
        )
        step(
            "firms",
            lambda: insert_select(
                cur,
                "enterprises_enterprise",
                {
                    "id": "g",
                    "name": "'基准科技' || g || '有限公司'",
                    "uscc": "'9114' || lpad(g::text, 14, '0')",
                    "legal_representative": "'张三'",
                    "city_id": f"({sql_array(CITIES)})[(g % {len(CITIES)}) + 1]",
                    "industry": f"({sql_array(INDUSTRIES)})[((g / 7) % {len(INDUSTRIES)}) + 1]",
                    "stage": "'growth'",
                    "verification_status": "CASE WHEN random() < 0.8 THEN 'verified' ELSE 'pending' END",
                    "created_at": "now() - random() * interval '1095 days'",
                    "updated_at": "now()",
                },
                f"generate_series(1, {firms}) g",
            ),
        )
        cur.execute(
            "UPDATE enterprises_enterprise SET verified_at = created_at + interval '2 days' "
            "WHERE verification_status = 'verified'"
        )
        step(
            "needs",
            lambda: insert_select(
                cur,
                "enterprises_financingneed",
                {
                    "id": "g",
                    "enterprise_id": f"((g - 1) % {firms}) + 1",
                    "amount": "round((100000 + random() * 20000000)::numeric, 2)",
                    "term_months": "12",
                    "purpose": "'working_capital'",
                    "guarantee_types": """'["credit"]'::jsonb""",
                    "status": "CASE WHEN random() < 0.7 THEN 'open' WHEN random() < 0.5 THEN 'fulfilled' ELSE 'withdrawn' END",
                    "confirmed_by_firm": "true",
                    "created_at": "now() - random() * interval '1095 days'",
                    "updated_at": "now()",
                },
                f"generate_series(1, {needs}) g",
            ),
        )
        step(
            "matches",
            lambda: insert_select(
                cur,
                "matching_match",
                {
                    "id": "g",
                    "need_id": "n.id",
                    "enterprise_id": "n.enterprise_id",
                    "product_id": "p.id",
                    "institution_id": "p.institution_id",
                    "score": "(40 + random() * 60)::int",
                    "is_lead": "r < 0.25",
                    "is_near_miss": "r >= 0.25 AND r < 0.40",
                    "status": "CASE WHEN r >= 0.25 THEN 'suggested' WHEN r < 0.08 THEN 'contacted' "
                    "WHEN r < 0.12 THEN 'invited' WHEN r < 0.16 THEN 'claimed' WHEN r < 0.19 THEN 'declined' "
                    "ELSE 'suggested' END",
                    "branch_id": "CASE WHEN r < 0.25 THEN p.institution_id END",
                    "routed_at": "CASE WHEN r < 0.25 THEN n.created_at + interval '1 hour' END",
                    "response_deadline": "CASE WHEN r < 0.25 THEN n.created_at + interval '49 hours' END",
                    "first_response_at": "CASE WHEN r < 0.19 THEN n.created_at + interval '1 hour' "
                    "+ random() * interval '80 hours' END",
                    "created_at": "n.created_at + interval '1 hour'",
                    "updated_at": "now()",
                },
                f"(SELECT g, random() AS r FROM generate_series(1, {args.matches}) g) s "
                f"JOIN enterprises_financingneed n ON n.id = ((g - 1) % {needs}) + 1 "
                f"JOIN products_product p ON p.id = (((g - 1) / {needs}) * 37 + g) % {PRODUCTS} + 1",
            ),
        )
        step(
            "applications",
            lambda: insert_select(
                cur,
                "matching_application",
                {
                    "id": "g",
                    "enterprise_id": f"((g - 1) % {firms}) + 1",
                    "need_id": f"((g - 1) % {firms}) + 1",
                    "product_id": f"(((g - 1) / {firms}) * 53 + g) % {PRODUCTS} + 1",
                    "amount": "round((100000 + random() * 10000000)::numeric, 2)",
                    "term_months": "12",
                    "purpose": "'working_capital'",
                    "status": f"CASE WHEN g <= {loans} THEN 'disbursed' ELSE "
                    "(ARRAY['submitted','accepted','approved','rejected','withdrawn'])[(g % 5) + 1] END",
                    "created_at": "now() - random() * interval '1095 days'",
                    "status_changed_at": "now() - random() * interval '60 days'",
                },
                f"generate_series(1, {apps}) g",
            ),
        )
        cur.execute(
            "UPDATE matching_application SET approved_at = created_at + interval '5 days', "
            "credit_line = round(amount * 0.9, 2) WHERE status IN ('disbursed', 'approved')"
        )
        step(
            "loans",
            lambda: insert_select(
                cur,
                "matching_loan",
                {
                    "id": "g",
                    "application_id": "g",
                    "principal": "a.credit_line",
                    "annual_rate": "3.450",
                    "start_date": "(a.approved_at + interval '3 days')::date",
                    "maturity_date": "(a.approved_at + interval '368 days')::date",
                    "status": "'active'",
                    "created_at": "a.approved_at + interval '3 days'",
                },
                f"generate_series(1, {loans}) g JOIN matching_application a ON a.id = g",
            ),
        )
        cur.execute(
            "INSERT INTO subsidies_policy (id, series, version, kind, name, parameters, effective_from, budget, "
            "is_active, source, created_at) VALUES (1, 'bench-tiexi', 1, 'interest', '贷款贴息', '{}'::jsonb, "
            "'2023-01-01', 100000000, true, '', now())"
        )
        step(
            "subsidies",
            lambda: (
                insert_select(
                    cur,
                    "subsidies_claim",
                    {
                        "id": "l.id",
                        "policy_id": "1",
                        "kind": "'interest'",
                        "loan_id": "l.id",
                        "enterprise_id": "a.enterprise_id",
                        "year": "extract(year from l.start_date)::int",
                        "period_start": "l.start_date",
                        "period_end": "l.start_date + 90",
                        "amount": "round(l.principal * 0.005, 2)",
                        "status": "'paid'",
                        "paid_at": "l.created_at + interval '100 days'",
                        "created_at": "l.created_at + interval '95 days'",
                    },
                    "matching_loan l JOIN matching_application a ON a.id = l.application_id WHERE l.id % 3 = 0",
                ),
                insert_select(
                    cur,
                    "subsidies_ledgerentry",
                    {
                        "policy_id": "1",
                        "claim_id": "c.id",
                        "kind": "'pay'",
                        "amount": "c.amount",
                        "year": "c.year",
                        "at": "c.paid_at",
                    },
                    "subsidies_claim c",
                ),
            ),
        )
        for table in (
            "lenders_institution",
            "lenders_branch",
            "products_product",
            "enterprises_enterprise",
            "enterprises_financingneed",
            "matching_match",
            "matching_application",
            "matching_loan",
            "subsidies_policy",
            "subsidies_claim",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        t = time.perf_counter()
        cur.execute("VACUUM ANALYZE")
        timings["analyze"] = time.perf_counter() - t
    return timings


# ------------------------------------------------------------------------------------------------
# Measuring
# ------------------------------------------------------------------------------------------------


#: The periods measured, as the page names them.
PERIODS = {"month": "this month", "quarter": "this quarter", "year": "this year", "all": "all time"}


def period_query(period: str) -> str:
    """The dashboard's query string for a period: all time is the custom range of the last ten
    years up to today (the longest range the filter form accepts)."""
    if period != "all":
        return f"period={period}"
    from django.utils import timezone

    today = timezone.localdate()
    try:
        start = today.replace(year=today.year - 10)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 10, day=28)
    return f"period=custom&date_from={start + timedelta(days=1):%Y-%m-%d}&date_to={today:%Y-%m-%d}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(client, url: str, n: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up (template loading, connection)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return times, len(ctx.captured_queries)


def slowest_plans(client, url: str, top: int) -> list[tuple[float, str, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    plans = []
    with connection.cursor() as cur:
        for q in ctx.captured_queries:
            sql = q["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + sql)
            lines = [r[0] for r in cur.fetchall()]
            ms = next(
                (
                    float(line.split(":")[1].strip().split()[0])
                    for line in lines
                    if line.startswith("Execution Time")
                ),
                0.0,
            )
            plans.append((ms, sql, "\n".join(lines)))
    plans.sort(key=lambda p: -p[0])
    return plans[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--matches", type=int, default=1_000_000)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--loans", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--plans", type=int, default=3, help="how many of the slowest queries to EXPLAIN")
    parser.add_argument(
        "--period",
        choices=[*PERIODS, "every"],
        default="every",
        help="measure one period only (default: every period; the last line reports the worst)",
    )
    parser.add_argument("--reuse", action="store_true", help="measure the database filled by a previous run")
    parser.add_argument(
        "--no-proposed-indexes",
        dest="proposed_indexes",
        action="store_false",
        help="do not create the indexes proposed for other apps' tables (measure the schema as migrated)",
    )
    args = parser.parse_args()

    if not args.reuse:
        print(f"recreating {DB} and migrating …", flush=True)
        recreate_database()
    os.environ["DATABASE_URL"] = f"{PG}/{DB}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("REDIS_URL", None)  # local-memory cache: nothing of the dashboard is cached anyway
    # Connection settings recommended for the portal (DATABASES OPTIONS "-c jit=off -c work_mem=32MB"):
    # PostgreSQL's JIT compiles these short aggregates for longer than they run (seen: 180 ms of JIT
    # for a 300 ms query), and the default 4 MB work_mem sends the year view's sorts to disk.
    os.environ.setdefault("PGOPTIONS", "-c jit=off -c work_mem=32MB")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from portal.models import Role, User

    settings.DEBUG = False  # no per-query debug bookkeeping while timing
    if not args.reuse:
        t = time.perf_counter()
        fill(args)
        print(f"filled in {time.perf_counter() - t:.1f} s", flush=True)

    from django.db import connection

    from enterprises.models import Enterprise
    from matching.models import Application, Loan, Match

    if args.proposed_indexes:
        t = time.perf_counter()
        with connection.cursor() as cur:
            for statement in PROPOSED_INDEXES:
                cur.execute(statement)
            cur.execute("VACUUM ANALYZE")
        print(f"proposed indexes in place ({time.perf_counter() - t:.1f} s)")

    print(
        f"rows: firms={Enterprise.objects.count()} matches={Match.objects.count()} applications={Application.objects.count()} loans={Loan.objects.count()}"
    )
    staff, _ = User.objects.get_or_create(username="bench_staff", defaults={"role": Role.STAFF})
    client = Client()
    client.force_login(staff)

    periods = list(PERIODS) if args.period == "every" else [args.period]
    measured = {}  # period → (page times, page queries, summary times, summary queries)
    for period in periods:
        query = period_query(period)
        page = measure(client, f"/dashboard/?{query}", args.requests)
        summary = measure(client, f"/api/v1/dashboard/summary/?{query}", args.requests)
        measured[period] = (*page, *summary)
        label = PERIODS[period]
        for view, (times, queries) in (("dashboard page", page), ("summary API", summary)):
            print(
                f"{view + ' (' + label + ')':<32} median={statistics.median(times):7.1f} ms  "
                f"p95={percentile(times, 0.95):7.1f} ms  queries={queries}",
                flush=True,
            )
    worst = max(measured, key=lambda period: percentile(measured[period][0], 0.95))
    page_times, page_queries, summary_times, _summary_queries = measured[worst]
    if args.plans:
        print(f"\nslowest queries of one dashboard request ({PERIODS[worst]}; EXPLAIN ANALYZE), top {args.plans}:")
        for ms, sql, plan in slowest_plans(client, f"/dashboard/?{period_query(worst)}", args.plans):
            print(f"\n--- {ms:.1f} ms\n{sql[:600]}{' …' if len(sql) > 600 else ''}\n{plan}")
    print(f"worst period: {PERIODS[worst]} ({worst})")
    print(
        f"dashboard_p95_ms={percentile(page_times, 0.95):.1f} "
        f"summary_p95_ms={percentile(summary_times, 0.95):.1f} queries={page_queries}"
    )

if __name__ == "__main__":
    main()
