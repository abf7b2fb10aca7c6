"""Shared fixtures: the cast of users (firm A/B, officers of bank A/B, manager, staff), eager Celery
for unit tests, a real Celery worker process for tests marked ``worker``, and a browser for ``e2e``."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from portal.celery import app as celery_app
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _cache_of_this_process():
    """Each test process keeps its cache in a Redis database of its own (the broker stays on
    REDIS_URL's): Django's ``cache.clear()`` is a FLUSHDB, and one xdist worker's clear must not wipe
    another's throttle counters or a running worker's task queue."""
    if not settings.REDIS_URL:
        yield
        return
    from urllib.parse import urlsplit, urlunsplit

    from django.test.utils import override_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    db = 2 + int(worker[2:]) if worker.startswith("gw") else 1
    url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{min(db, 15)}"))
    caches = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Unit tests run tasks in-process; tests marked ``worker`` talk to a real worker."""
    eager = request.node.get_closest_marker("worker") is None
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = old


@pytest.fixture(autouse=True)
def _match_runs_inline(settings):
    """Without a broker a manual full run would go to a background thread (the embedded demo's
    MATCH_EAGER_BACKGROUND); tests run it inline, in their transaction. The tests of the thread
    switch it back on (tests/matching/test_background_run.py)."""
    settings.MATCH_EAGER_BACKGROUND = False


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Regions and LPR come from data migrations; transactional tests truncate them, so put them
    back for any test that uses the database."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    from portal.models import Region
    from portal.regions import ensure_regions
    from subsidies.lpr import ensure_lpr
    from subsidies.models import LprRate

    if Region.objects.count() < 12:
        ensure_regions(Region)
    if not LprRate.objects.exists():
        ensure_lpr(LprRate)


@pytest.fixture(autouse=True)
def _workday_calendar_fresh():
    """The cached holiday schedules (portal/workdays.py) are built from rows a test rolls back:
    each test starts and ends without them."""
    from portal.workdays import calendar_cache_clear

    calendar_cache_clear()
    yield
    calendar_cache_clear()


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _api_list_cache_off(settings):
    """Tests run inside a transaction that never commits, so the cached API lists and token lookups
    would not go stale between a test's steps; the tests of the caches switch them back on
    (tests/portal/test_api_list_cache.py)."""
    settings.API_LIST_CACHE_SECONDS = 0
    settings.API_TOKEN_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _api_throttle_off(settings):
    """API throttles count in the shared Redis across tests; tests that check them switch them back on
    with ``settings.API_THROTTLE_DISABLED = False`` (tests/portal/test_security_auth.py)."""
    settings.API_THROTTLE_DISABLED = True


def reauth_session(client):
    """Mark ``client``'s session as having confirmed the password just now (portal/reauth.py), for
    tests of acts that need a recent confirmation. Works for a test Client and an APIClient (logged
    in with ``force_login`` or ``force_authenticate``); returns the client."""
    from portal.reauth import SESSION_KEY

    session = client.session
    user_id = session.get("_auth_user_id")
    if user_id is None:
        forced = getattr(client, "handler", None) and getattr(client.handler, "_force_user", None)
        user_id = forced.pk if forced is not None else None
    session[SESSION_KEY] = {"uid": int(user_id) if user_id is not None else None, "at": time.time()}
    session.save()
    return client


@pytest.fixture
def reauthed():
    """``reauthed(client)`` → the client, its password confirmed just now (see ``reauth_session``)."""
    return reauth_session


@pytest.fixture
def cast(db):
    """Firm A and B, bank A (officer, second officer, manager) and bank B (officer), staff, and the
    finance desk (finance approves, cashier pays)."""
    bank_a_branch = f.BranchFactory(name="甲银行太原科技支行", is_scitech=True)
    bank_b_branch = f.BranchFactory(name="乙银行太原支行")
    ns = type("Cast", (), {})()
    ns.firm_a = f.FirmUserFactory(username="firm_a")
    ns.firm_b = f.FirmUserFactory(username="firm_b")
    ns.officer_a = f.OfficerFactory(username="officer_a", branch=bank_a_branch)
    ns.officer_a2 = f.OfficerFactory(username="officer_a2", branch=bank_a_branch)
    ns.manager_a = f.ManagerFactory(username="manager_a", branch=bank_a_branch)
    ns.officer_b = f.OfficerFactory(username="officer_b", branch=bank_b_branch)
    ns.staff = f.StaffFactory(username="staff")
    # The finance desk: one approves, the other (出纳) pays — four eyes on fiscal money.
    ns.finance = f.FinanceFactory(username="finance", first_name="郭建华")
    ns.cashier = f.FinanceFactory(username="cashier", first_name="韩雪")
    ns.bank_a = bank_a_branch.institution
    ns.bank_b = bank_b_branch.institution
    return ns


@pytest.fixture
def client_for(client):
    """``client_for(user)`` → a test client logged in as that user."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def api_for():
    """``api_for(user)`` → a DRF APIClient authenticated as that user (or anonymous for None)."""
    from rest_framework.test import APIClient

    def make(user=None):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return make


# ------------------------------------------------------------------------------------------------
# A real Celery worker process (tests marked ``worker``)
# ------------------------------------------------------------------------------------------------


def _test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    """Starts ``celery -A portal worker`` on its own queue against the test database."""

    def __init__(self, queue: str, concurrency: int = 1, extra_env: dict | None = None):
        self.queue = queue
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log = ROOT / f"test-results/worker-{queue}.log"

    def start(self) -> "WorkerProcess":
        self.log.parent.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DEBUG": "1",
            "CONN_MAX_AGE": "0",
            "WEBHOOK_ALLOW_PRIVATE_HOSTS": "1",  # the tests' webhook receivers listen on 127.0.0.1
            **self.extra_env,
        }
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            self.queue,
            "-c",
            str(self.concurrency),
            "-l",
            "info",
            "-n",
            f"{self.queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early: {self.log.read_text()[-2000:]}")
            replies = celery_app.control.ping(
                destination=[f"{self.queue}@{os.uname().nodename}"], timeout=0.5
            )
            if replies:
                return
        raise RuntimeError(f"celery worker did not answer: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker process group (the parent and its pool children)."""
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_queue():
    """A queue name of this test's own; tasks sent by the code under test default to it."""
    queue = f"kejin-test-{uuid.uuid4().hex[:10]}"
    old = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_default_queue = old


@pytest.fixture
def celery_worker_process(transactional_db, worker_queue):
    """A running worker process on this test's queue, stopped afterwards. Data the test commits
    (transactional_db) is visible to it."""
    worker = WorkerProcess(worker_queue).start()
    yield worker
    worker.stop()


# ------------------------------------------------------------------------------------------------
# Playwright for Python driving Debian's chromium (never a downloaded browser). Session-scoped and
# defined here once, so that every test folder shares the one Playwright instance of its process.
# ------------------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Debian chromium not found at {CHROMIUM}: run `make test` (it installs it) or set CHROMIUM_PATH"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test thread for the whole session;
    # the ORM calls made there (fixtures, flushes) are still plain synchronous code, so Django's
    # async-safety guard is lifted in this test process only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
