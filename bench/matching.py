"""Benchmark of the matching service: a full run at a realistic volume, its write floor, and the
incremental path (one new need against all products).

    .venv/bin/python bench/matching.py [--firms 20000] [--products 200] [--chunk-size 2000]
                                       [--incremental 50] [--workers 1] [--seed 2026]

It recreates its own PostgreSQL database (``kejin_bench`` on the server of ``DATABASE_URL``, or
``BENCH_PG``; name from ``BENCH_MATCH_DB``), migrates it and generates the data with
``bulk_create``: institutions with branches, ``--products`` published products with varied
criteria, ``--firms`` firms (qualifications, IP assets, last year's figures) each with one open
financing need. With ``--workers 1`` (the default) tasks run in this process (``REDIS_URL`` ignored): the figures of one
worker process. With ``--workers N`` the full run goes through Redis to a real Celery worker with N
processes (the chunks of the chord run in parallel), as in production.

Printed figures:

* the full run: pairs evaluated, matches (eligible), near misses, rows written, seconds, pairs/s;
* the write floor: the time PostgreSQL takes to write the same rows with one bulk INSERT — an
  ``INSERT INTO … SELECT`` of the run's rows into an empty copy of the match table with the same
  indexes, measured right after the run, commit included — and the ratio run / floor. The copy
  (``LIKE … INCLUDING ALL``) has the table's indexes and checks but no foreign keys: the run pays
  for its need, product and branch references at commit, the floor does not;
* the incremental path: ``enqueue_need_match`` for a new firm's need, end to end (the MatchRun,
  the task, the evaluation and the upsert), median and p95 of ``--incremental`` needs.

The last line is exactly ``full_run_ratio=<x> incremental_median_ms=<y>``.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _server_url() -> str:
    if os.environ.get("BENCH_PG"):
        return os.environ["BENCH_PG"].rstrip("/")
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kejin")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


PG = _server_url()
DB = os.environ.get("BENCH_MATCH_DB", "kejin_bench")
QUEUE = "bench-matching"

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
CITY_WEIGHTS = [30, 6, 4, 6, 4, 3, 8, 6, 3, 5, 3, 12]
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
STAGES = ["seed", "startup", "growth", "mature"]
GUARANTEES = ["credit", "ip_pledge", "order", "receivable", "collateral", "guarantee"]
PRODUCT_TYPES = [
    "credit",
    "credit",
    "credit",
    "ip_pledge",
    "order_financing",
    "talent",
    "export",
    "equity_linked",
]
WAN = Decimal(10000)


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


def setup_django(workers: int) -> None:
    os.environ["DATABASE_URL"] = f"{PG}/{DB}"
    if workers <= 1:
        os.environ.pop("REDIS_URL", None)  # tasks run eagerly in this process
    elif not os.environ.get("REDIS_URL"):
        raise SystemExit("--workers > 1 needs REDIS_URL (the chunks go through Celery)")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("celery").setLevel(logging.WARNING)


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------


def generate(args) -> None:
    from enterprises.models import AnnualFigures, Enterprise, FinancingNeed, IPAsset, Qualification
    from enterprises.uscc import make_uscc
    from lenders.models import Branch, Institution
    from portal.models import Region
    from products.models import Criteria, Product

    rng = random.Random(args.seed)
    regions = {r.code: r for r in Region.objects.all()}
    today = date.today()

    institutions = Institution.objects.bulk_create(
        [
            Institution(kind="bank", name=f"基准银行{i}山西省分行", short_name=f"基准银行{i}")
            for i in range(12)
        ]
    )
    branches = []
    for i, inst in enumerate(institutions):
        branches.append(
            Branch(institution=inst, name="省分行营业部", city=regions["140100"], is_provincial=True)
        )
        for code in rng.sample(CITIES[:11], 3):
            branches.append(Branch(institution=inst, name=f"{regions[code].name}分行", city=regions[code]))
        if i % 2 == 0:
            branches.append(
                Branch(institution=inst, name="科技支行", city=regions["140100"], is_scitech=True)
            )
    Branch.objects.bulk_create(branches)

    products, criteria = [], []
    for i in range(args.products):
        low = Decimal(rng.choice([10, 50, 100, 200, 500])) * WAN
        high = low * rng.choice([10, 20, 50, 100])
        rate_min = Decimal(rng.choice(["2.80", "3.00", "3.20", "3.45", "3.80", "4.20"]))
        ptype = rng.choice(PRODUCT_TYPES)
        products.append(
            Product(
                institution=institutions[i % len(institutions)],
                name=f"基准产品{i}",
                product_type=ptype,
                amount_min=low,
                amount_max=high,
                term_min_months=rng.choice([1, 3, 6, 12]),
                term_max_months=rng.choice([12, 24, 36, 60]),
                rate_min=None if ptype == "equity_linked" else rate_min,
                rate_max=None if ptype == "equity_linked" else rate_min + 2,
                guarantee_types=rng.sample(GUARANTEES, rng.randint(1, 3)),
                status="published",
            )
        )
    Product.objects.bulk_create(products)
    for p in products:
        criteria.append(
            Criteria(
                product=p,
                cities=rng.sample(CITIES[:11], rng.randint(1, 4)) if rng.random() < 0.35 else [],
                industries=rng.sample(INDUSTRIES, rng.randint(3, 6)) if rng.random() < 0.3 else [],
                stages=rng.sample(STAGES, 2) if rng.random() < 0.2 else [],
                required_qualifications=[rng.choice(["hitech", "tech_sme", "srdi_innovative"])]
                if rng.random() < 0.25
                else [],
                min_revenue=Decimal(rng.choice([100, 500, 1000])) * WAN if rng.random() < 0.2 else None,
                min_invention_patents=rng.choice([1, 2]) if rng.random() < 0.15 else 0,
                min_years=rng.choice([1, 2, 3]) if rng.random() < 0.2 else 0,
                export_required=rng.random() < 0.08,
                max_amount_revenue_ratio=Decimal("0.5") if rng.random() < 0.15 else None,
            )
        )
    Criteria.objects.bulk_create(criteria)

    firms, figures = [], []
    last_year = today.year - 1  # the firm's figures: last financial year's row (AnnualFigures)
    for i in range(args.firms + args.incremental):
        revenue = Decimal(int(10 ** rng.uniform(5.5, 8.5))).quantize(Decimal("0.01"))
        city = regions[rng.choices(CITIES, CITY_WEIGHTS)[0]]
        founded_on = today - timedelta(days=rng.randint(100, 7000))
        industry, stage = rng.choice(INDUSTRIES), rng.choice(STAGES)
        employees = rng.randint(5, 400)
        st_staff = min(employees, rng.randint(1, 80))
        rd_spend = (revenue * Decimal(rng.uniform(0.01, 0.15))).quantize(Decimal("0.01"))
        firm = Enterprise(
            name=f"基准科技{i}有限公司",
            uscc=make_uscc(division="140100", body=f"MA{i:06d}0"),
            legal_representative="张三",
            city=city,
            founded_on=founded_on,
            industry=industry,
            stage=stage,
            export_business=rng.random() < 0.2,
            verification_status="verified" if rng.random() < 0.8 else "pending",
        )
        firms.append(firm)
        figures.append(
            AnnualFigures(
                enterprise=firm,
                year=last_year,
                revenue=revenue,
                rd_spend=rd_spend,
                employees=employees,
                st_staff=st_staff,
            )
        )
    Enterprise.objects.bulk_create(firms, batch_size=2000)
    for row in figures:
        row.enterprise_id = row.enterprise.pk
    AnnualFigures.objects.bulk_create(figures, batch_size=5000)
    quals, assets, needs = [], [], []
    for n, firm in enumerate(firms):
        for code in rng.sample(["hitech", "tech_sme", "srdi"], rng.choice([0, 0, 1, 1, 2])):
            issued = today - timedelta(days=rng.randint(30, 1000))
            quals.append(
                Qualification(
                    enterprise=firm,
                    kind=code,
                    level="innovative" if code == "srdi" else "",
                    issued_on=issued,
                    expires_on=issued + timedelta(days=1095),
                    source=rng.choice(["declared", "official"]),
                )
            )
        for k in range(rng.randint(0, 6)):
            assets.append(
                IPAsset(
                    enterprise=firm,
                    kind=rng.choice(["invention_patent", "utility_model", "software_copyright"]),
                    number=f"ZL{n:06d}{k}",
                )
            )
        if n < args.firms:  # the last --incremental firms post their needs during the benchmark
            needs.append(need_for(firm, rng))
    Qualification.objects.bulk_create(quals, batch_size=5000)
    IPAsset.objects.bulk_create(assets, batch_size=5000)
    FinancingNeed.objects.bulk_create(needs, batch_size=5000)
    with __import__("django").db.connection.cursor() as cur:
        cur.execute("ANALYZE")


def need_for(firm, rng):
    from enterprises.models import FinancingNeed

    return FinancingNeed(
        enterprise=firm,
        amount=(Decimal(int(10 ** rng.uniform(5, 7.7)))).quantize(Decimal("0.01")),
        term_months=rng.choice([6, 12, 12, 24, 36]),
        guarantee_types=rng.sample(GUARANTEES, rng.randint(1, 2)),
        max_annual_rate=rng.choice([None, Decimal("4.00"), Decimal("5.00"), Decimal("6.00")]),
    )


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------


def start_workers(workers: int) -> subprocess.Popen:
    """A real Celery worker with ``workers`` processes on a queue of the benchmark's own."""
    from portal.celery import app

    app.conf.task_default_queue = QUEUE
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "DEBUG": "1", "CONN_MAX_AGE": "0"}
    log = open(ROOT / "test-results" / "bench-matching-worker.log", "ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            QUEUE,
            "-c",
            str(workers),
            "-l",
            "warning",
            "-n",
            f"{QUEUE}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[f"{QUEUE}@{os.uname().nodename}"], timeout=0.5):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(
                "the benchmark's celery worker did not start; see test-results/bench-matching-worker.log"
            )
    return proc


def full_run(args):
    from matching.models import Match, MatchRun
    from matching.services.dispatch import start_full_run

    started = time.perf_counter()
    run = start_full_run(trigger=MatchRun.Trigger.NIGHTLY, chunk_size=args.chunk_size)
    while (
        args.workers > 1
        and not MatchRun.objects.filter(
            pk=run.pk, status__in=[MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED]
        ).exists()
    ):
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED, run.error
    return run, seconds, Match.objects.count()


def write_floor() -> float:
    from django.db import connection, transaction

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_match_floor")
        cur.execute("CREATE TABLE bench_match_floor (LIKE matching_match INCLUDING ALL)")
        cur.execute("CHECKPOINT")
    started = time.perf_counter()  # the statement and its commit, like the run (commits included)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO bench_match_floor SELECT * FROM matching_match")
    seconds = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_match_floor")
    return seconds


def incremental(args) -> list[float]:
    from django.db import transaction

    from enterprises.models import Enterprise
    from matching.models import MatchRun
    from matching.services.dispatch import enqueue_need_match

    rng = random.Random(args.seed + 1)
    firms = list(Enterprise.objects.filter(needs__isnull=True).order_by("pk")[: args.incremental])
    times = []
    for firm in firms:
        need = need_for(firm, rng)
        need.save()
        started = time.perf_counter()
        with transaction.atomic():
            enqueue_need_match(need)  # runs on commit, eagerly, in this process
        times.append((time.perf_counter() - started) * 1000)
        assert MatchRun.objects.get(need=need).status == MatchRun.Status.SUCCEEDED
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firms", type=int, default=20000, help="firms, each with one open need")
    parser.add_argument("--products", type=int, default=200, help="published products")
    parser.add_argument("--chunk-size", type=int, default=2000, help="needs per chunk of the full run")
    parser.add_argument("--incremental", type=int, default=50, help="new needs timed on the incremental path")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="1: chunks run in this process; N > 1: on a real Celery worker with N processes (needs REDIS_URL)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    t = time.perf_counter()
    recreate_database()
    setup_django(args.workers)
    generate(args)
    print(
        f"database {DB}: {args.firms} firms with needs, {args.products} products ({time.perf_counter() - t:.1f} s)"
    )

    worker = start_workers(args.workers) if args.workers > 1 else None
    try:
        run, seconds, rows = full_run(args)
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
    if worker is not None:
        from portal.celery import app

        app.conf.task_always_eager = True  # the incremental path is timed in this process
    floor = write_floor()
    ratio = seconds / floor if floor else float("inf")
    timings = [c["seconds"] for c in run.chunk_timings]
    where = f"a Celery worker with {args.workers} processes" if args.workers > 1 else "this process"
    print(f"full run #{run.pk}: {run.total_chunks} chunks of {args.chunk_size} needs on {where}")
    print(f"  pairs evaluated   {run.pairs_evaluated}")
    print(f"  matches           {run.matches_count}")
    print(f"  near misses       {run.near_misses_count}")
    print(f"  leads             {run.leads_count}")
    print(f"  rows written      {rows}")
    print(f"  seconds           {seconds:.2f}")
    print(f"  pairs/second      {run.pairs_evaluated / seconds:,.0f}")
    print(
        f"  chunk seconds     min {min(timings):.2f} median {statistics.median(timings):.2f} max {max(timings):.2f}"
    )
    print(f"write floor: one bulk INSERT of {rows} rows {floor:.2f} s; ratio {ratio:.2f}")

    times = incremental(args)
    median = statistics.median(times)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    print(
        f"incremental: {len(times)} new needs × {args.products} products, median {median:.1f} ms, p95 {p95:.1f} ms"
    )
    print(f"full_run_ratio={ratio:.2f} incremental_median_ms={median:.1f}")


if __name__ == "__main__":
    main()
