"""Load test: the three journeys against gunicorn on PostgreSQL and Redis with a real worker.

    .venv/bin/python bench/load.py [--users 50] [--seconds 30] [--workers 3] [--port 8765]

It builds its own database (``kejin_load``), seeds the demo data, starts gunicorn and a Celery worker
on loopback, and drives them with locust (as a library, headless, bounded users and time):

1. the mixed run: firm browsing and applying, officer working the inbox, staff on the dashboard —
   requests/s, median and p95 per endpoint, and failures;
2. saturation runs of the same length and users for the inbox endpoint, the product list endpoint,
   and a trivial Django JSON view (the stack's ceiling) — each endpoint's requests/s as a ratio of
   the ceiling's. A saturation run polls one URL with one token, as a bank's system polls its
   inbox: after the first request it measures the cached path (portal/api/caching.py and
   portal/api/authentication.py — the token lookup and the rendered page come from Redis until a
   lead or product changes); the mixed run's writes (applications) make the caches go stale.

The last line is exactly ``failures=<n> inbox_ratio=<x> products_ratio=<y>``.
"""

# locust must patch the standard library (gevent) before anything else imports it.
from locust import HttpUser, between, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import os
import random
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import gevent

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PASSWORD = "Load-test-2026"


def run(cmd, env, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def make_env(args) -> dict:
    base = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
    return {
        **os.environ,
        "DATABASE_URL": f"{base}/kejin_load",
        "REDIS_URL": os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379/12"),
        "DEBUG": "0",
        "SECRET_KEY": "load-test-" + "q8Zr4Tn2Wm6Yp1Xv" * 3,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_DISABLED": "1",
    }


def prepare_database(env) -> dict:
    """Recreate kejin_load, migrate, seed; return API tokens of the demo users."""
    import psycopg2

    dsn = env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS kejin_load WITH (FORCE)")
        cur.execute("CREATE DATABASE kejin_load")
    conn.close()
    seed_env = {**env, "DEBUG": "1"}
    seed_env.pop("REDIS_URL")  # seed with eager tasks: no worker needed yet
    run([PY, "manage.py", "migrate", "--noinput", "-v0"], seed_env)
    run(
        [PY, "manage.py", "seed_demo", "--password", PASSWORD, "--firms", "300"],
        seed_env,
        stdout=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [
            PY,
            "manage.py",
            "shell",
            "-c",
            "from rest_framework.authtoken.models import Token; from portal.models import User\n"
            "for n in ['demo_firm','demo_officer','demo_staff']:\n"
            "    t,_=Token.objects.get_or_create(user=User.objects.get(username=n)); print(n, t.key)",
        ],
        cwd=ROOT,
        env=seed_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(line.split() for line in out.strip().splitlines() if line.startswith("demo_"))


def start_servers(env, args):
    gunicorn = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "-b",
            f"127.0.0.1:{args.port}",
            "-w",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(
        [PY, "-m", "celery", "-A", "portal", "worker", "-c", "1", "-l", "warning", "-Q", "celery"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{args.port}/healthz/live/"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return gunicorn, worker
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def build_users(tokens: dict, product_ids: list[int]):
    firm_h = {"Authorization": f"Token {tokens['demo_firm']}"}
    officer_h = {"Authorization": f"Token {tokens['demo_officer']}"}
    staff_h = {"Authorization": f"Token {tokens['demo_staff']}"}

    class Firm(HttpUser):
        weight = 5
        wait_time = between(0.05, 0.3)

        @task(4)
        def browse(self):
            self.client.get("/api/v1/products/", name="products")
            self.client.get("/products/", name="supermarket page")

        @task(2)
        def product_and_eligibility(self):
            pid = random.choice(product_ids)
            self.client.get(f"/products/{pid}/", name="product page")
            self.client.get(f"/api/v1/products/{pid}/eligibility/", headers=firm_h, name="eligibility")

        @task(1)
        def apply(self):
            pid = random.choice(product_ids)
            with self.client.post(
                "/api/v1/applications/",
                json={
                    "product": pid,
                    "amount": "1000000.00",
                    "term_months": 12,
                    "purpose": "working_capital",
                    "share_profile": True,
                },
                headers=firm_h,
                name="apply",
                catch_response=True,
            ) as r:
                # 201 created, or a clear refusal (already open for that product): both are correct answers.
                if r.status_code in (201, 400, 409):
                    r.success()
            self.client.get("/api/v1/applications/", headers=firm_h, name="my applications")

    class Officer(HttpUser):
        weight = 3
        wait_time = between(0.05, 0.3)

        @task
        def inbox(self):
            self.client.get("/api/v1/matches/?status=suggested", headers=officer_h, name="inbox")

    class Staff(HttpUser):
        weight = 1
        wait_time = between(0.1, 0.5)

        @task
        def dashboard(self):
            self.client.get("/api/v1/dashboard/summary/", headers=staff_h, name="dashboard summary")

    def single(path, headers=None, label="x"):
        class One(HttpUser):
            wait_time = between(0, 0)

            @task
            def hit(self):
                self.client.get(path, headers=headers or {}, name=label)

        return One

    return (Firm, Officer, Staff), {
        "inbox": single("/api/v1/matches/?status=suggested", officer_h, "inbox"),
        "products": single("/api/v1/products/", None, "products"),
        "ceiling": single("/healthz/live/", None, "ceiling"),
    }


def drive(user_classes, host, users, seconds):
    env = Environment(user_classes=list(user_classes), host=host)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(1, users // 2))
    gevent.sleep(seconds)
    runner.quit()
    return env.stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)

    env = make_env(args)
    print("preparing database kejin_load (migrate + seed_demo) …", flush=True)
    tokens = prepare_database(env)
    gunicorn, worker = start_servers(env, args)
    host = f"http://127.0.0.1:{args.port}"
    try:
        with urllib.request.urlopen(f"{host}/api/v1/products/?page_size=100") as r:  # noqa: S310 (loopback)
            import json

            product_ids = [p["id"] for p in json.load(r)["results"]]
        journeys, singles = build_users(tokens, product_ids)

        print(f"\n== mixed journeys: {args.users} users, {args.seconds}s", flush=True)
        stats = drive(journeys, host, args.users, args.seconds)
        print(f"{'endpoint':<22}{'requests':>9}{'req/s':>9}{'median ms':>11}{'p95 ms':>9}{'failures':>10}")
        for name in sorted(stats.entries, key=lambda k: k[0]):
            e = stats.entries[name]
            print(
                f"{name[0]:<22}{e.num_requests:>9}{e.total_rps:>9.1f}{e.median_response_time:>11.0f}"
                f"{e.get_response_time_percentile(0.95):>9.0f}{e.num_failures:>10}"
            )
        failures = stats.total.num_failures
        for err in stats.errors.values():
            print(f"  failure: {err.method} {err.name}: {err.error} ×{err.occurrences}")

        rps = {}
        for label, cls in singles.items():
            s = drive([cls], host, args.users, max(10, args.seconds // 2))
            rps[label] = s.total.total_rps
            failures += s.total.num_failures
            print(
                f"saturation {label:<10} {s.total.total_rps:8.1f} req/s  median {s.total.median_response_time:.0f} ms"
                f"  p95 {s.total.get_response_time_percentile(0.95):.0f} ms  failures {s.total.num_failures}"
            )
        ceiling = rps["ceiling"] or 1
        print(
            f"failures={failures} inbox_ratio={rps['inbox'] / ceiling:.2f} products_ratio={rps['products'] / ceiling:.2f}"
        )
    finally:
        for proc in (gunicorn, worker):
            proc.terminate()
        for proc in (gunicorn, worker):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
