"""Redis unreachable. The broker down while a firm posts a need: the need is saved and the page and
the API answer at once (201), its run waits "待派发", and the periodic sweep (every minute) sends it
once the broker is back. The cache down: login, pages, the token API and the inbox keep working and
``/healthz/`` answers 503 naming what is down. A run without progress for 10 minutes alerts staff."""

import logging
import sys
import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from enterprises.models import FinancingNeed
from matching.models import Match, MatchRun
from matching.services.dispatch import needs_sweep_unmatched, needs_unmatched
from portal.celery import app as celery_app
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def broker_down():
    """Point the Celery app at a closed port and send tasks for real (not eagerly), as the web
    process does in production; put the real broker back afterwards."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager

    def reset_pools():
        # The app caches its connection and producer pools (from kombu's registries, keyed by
        # broker URL): drop the cached ones so the next publish uses the URL set below.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    def restore():
        reset_pools()
        conf.broker_url, conf.task_always_eager = saved

    reset_pools()
    conf.broker_url, conf.task_always_eager = CLOSED_PORT_BROKER, False
    yield restore
    restore()


def form():
    return {
        "amount": "500",
        "term_months": "12",
        "purpose": "working_capital",
        "guarantee_types": ["credit"],
        "max_annual_rate": "5.00",
        "needed_by": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "description": "Redis 停机期间发布",
    }


def test_a_need_posted_while_redis_is_down_is_saved_and_matched_by_the_sweep_when_redis_is_back(
    broker_down, client_for, caplog
):
    products = [f.ProductFactory(), f.ProductFactory()]
    firm = f.FirmUserFactory()
    f.QualificationFactory(enterprise=firm.enterprise, kind="hitech", source="official")
    client = client_for(firm)
    client.raise_request_exception = False

    with caplog.at_level(logging.WARNING, logger="matching.services.dispatch"):
        r = client.post("/firm/needs/new/", form())

    assert r.status_code == 302
    need = FinancingNeed.objects.get(enterprise=firm.enterprise)
    assert need.status == FinancingNeed.Status.OPEN
    assert client.get(r["Location"]).status_code == 200
    assert client.get("/firm/needs/").status_code == 200
    run = MatchRun.objects.get(need=need)
    assert run.status == MatchRun.Status.PENDING_DISPATCH and run.get_status_display() == "待派发"
    assert "broker unreachable" in caplog.text
    assert not Match.objects.filter(need=need).exists()
    assert list(needs_unmatched()) == [need]

    # Still down: the sweep queues nothing, loses nothing, and does not raise.
    assert needs_sweep_unmatched() == 0
    assert list(needs_unmatched()) == [need]

    assert MatchRun.objects.get(need=need).status == MatchRun.Status.PENDING_DISPATCH  # not a second run

    # Redis is back (the real broker restored; tasks run in-process as in every unit test): the
    # sweep sends the waiting run itself.
    broker_down()
    assert needs_sweep_unmatched() == 1
    assert MatchRun.objects.get(need=need).status == MatchRun.Status.SUCCEEDED

    assert set(Match.objects.filter(need=need).values_list("product_id", flat=True)) == {
        p.pk for p in products
    }
    assert MatchRun.objects.filter(need=need, status=MatchRun.Status.SUCCEEDED).count() == 1
    assert not needs_unmatched().exists()
    assert needs_sweep_unmatched() == 0  # nothing left: a second sweep queues nothing


def test_a_need_changed_after_its_last_match_is_swept_again_and_a_full_run_covers_every_need():
    need = f.NeedFactory()
    assert list(needs_unmatched()) == [need]
    assert needs_sweep_unmatched() == 1
    assert not needs_unmatched().exists()

    need.term_months = 24
    need.save()
    assert list(needs_unmatched()) == [need]

    from matching.services.dispatch import start_full_run

    start_full_run(trigger="nightly")
    assert not needs_unmatched().exists()


def test_withdrawn_needs_and_needs_of_unverified_firms_are_not_swept():
    f.NeedFactory(status=FinancingNeed.Status.WITHDRAWN)
    f.NeedFactory(enterprise=f.EnterpriseFactory(verification_status="pending"))
    assert not needs_unmatched().exists()
    assert needs_sweep_unmatched() == 0


def test_the_sweep_is_scheduled_every_minute_by_a_migration():
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from portal.celery import ensure_periodic_tasks

    nodes = MigrationLoader(connection).graph.nodes
    assert ("matching", "0007_sweep_schedule") in nodes and ("matching", "0010_sweep_every_minute") in nodes
    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)  # what the migrations run (tables flushed here)
    task = PeriodicTask.objects.get(task="matching.sweep_unmatched_needs")
    assert task.crontab.minute == "*" and task.crontab.hour == "*" and task.enabled


def test_the_schedule_migration_moves_an_existing_five_minute_sweep_to_every_minute():
    import importlib

    from django.apps import apps as django_apps
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    old = CrontabSchedule.objects.create(minute="*/5", timezone="Asia/Shanghai")
    PeriodicTask.objects.create(name="未匹配需求补偿匹配", task="matching.sweep_unmatched_needs", crontab=old)
    importlib.import_module("matching.migrations.0010_sweep_every_minute").every_minute(django_apps, None)
    assert PeriodicTask.objects.get(task="matching.sweep_unmatched_needs").crontab.minute == "*"


# ------------------------------------------------------------------------------------------------
# Broker down: the API answers at once
# ------------------------------------------------------------------------------------------------

NEED_POST_SECONDS: list[float] = []  # measured, printed (no timing assertion: shared CPUs)


def test_a_need_posted_through_the_api_while_the_broker_is_down_answers_201_and_is_matched_later(
    broker_down, caplog
):
    products = [f.ProductFactory()]
    firm = f.FirmUserFactory()
    api = APIClient()
    api.force_authenticate(firm)
    body = {**form(), "guarantee_types": ["credit"], "amount": "5000000.00", "term_months": 12}
    started = time.perf_counter()
    r = api.post("/api/v1/needs/", body, format="json")
    seconds = time.perf_counter() - started
    NEED_POST_SECONDS.append(seconds)
    sys.stdout.write(f"\nneed post with the broker down: {r.status_code} in {seconds * 1000:.0f} ms\n")
    assert r.status_code == 201, r.content
    need = FinancingNeed.objects.get(pk=r.json()["id"])
    run = MatchRun.objects.get(need=need)
    assert run.status == MatchRun.Status.PENDING_DISPATCH
    broker_down()  # the broker is back
    from matching.tasks import sweep_unmatched_needs

    assert sweep_unmatched_needs() == 1  # what beat runs every minute
    assert list(Match.objects.filter(need=need).values_list("product_id", flat=True)) == [products[0].pk]


# ------------------------------------------------------------------------------------------------
# Cache down: the portal keeps working, /healthz/ says so
# ------------------------------------------------------------------------------------------------

CLOSED_PORT_CACHE = "redis://127.0.0.1:1/0"


@pytest.fixture
def cache_down(settings):
    """The cache on a port where nothing listens (the broker stays where it is) — with the caches,
    throttles and token lookups switched on as in production."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": CLOSED_PORT_CACHE}}
    if "Resilient" not in settings.CACHES["default"]["BACKEND"]:
        pytest.skip("the cache is not Redis in this environment")
    settings.API_THROTTLE_DISABLED = False
    settings.API_TOKEN_CACHE_SECONDS = 60
    settings.API_LIST_CACHE_SECONDS = 15
    caches._settings = None
    yield
    for backend in caches.all(initialized_only=True):
        backend.close()


def test_with_the_cache_down_login_the_pages_the_token_api_and_the_inbox_answer(cast, cache_down, caplog):
    from tests.portal.test_people_tokens import PASSWORD, with_password

    with_password(cast.officer_a)
    c = Client()
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        login = c.post("/accounts/login/", {"username": "officer_a", "password": PASSWORD})
        assert login.status_code == 302
        assert c.get("/").status_code == 200
        assert c.get("/bank/leads/").status_code == 200
        assert Client().get("/products/").status_code == 200
        token = APIClient().post("/api/v1/auth/token/", {"username": "officer_a", "password": PASSWORD})
        assert token.status_code == 200
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
        inbox = api.get("/api/v1/matches/")
        assert inbox.status_code == 200 and "results" in inbox.json()
        assert APIClient().get("/api/v1/products/").status_code == 200
    assert "cache unavailable" in caplog.text


def test_healthz_names_the_cache_when_it_is_down(db, cache_down):
    r = Client().get("/healthz/")
    assert r.status_code == 503
    assert r.json()["down"] == ["cache"] and r.json()["checks"]["database"] == "ok"


def test_healthz_names_the_broker_when_it_is_down(db, broker_down):
    r = Client().get("/healthz/")
    assert r.status_code == 503 and r.json()["down"] == ["broker"]


def test_healthz_is_ok_when_everything_answers(db):
    r = Client().get("/healthz/")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


# ------------------------------------------------------------------------------------------------
# Stalled runs alert staff
# ------------------------------------------------------------------------------------------------


def test_a_run_without_progress_for_ten_minutes_alerts_staff_once():
    from matching.services.dispatch import runs_alert_stalled
    from portal.models import Notification

    staff = f.StaffFactory()
    stalled = MatchRun.objects.create(trigger=MatchRun.Trigger.NIGHTLY, status=MatchRun.Status.RUNNING)
    MatchRun.objects.filter(pk=stalled.pk).update(
        created_at=timezone.now() - timedelta(minutes=30), started_at=timezone.now() - timedelta(minutes=11)
    )
    fresh = MatchRun.objects.create(trigger=MatchRun.Trigger.NIGHTLY, status=MatchRun.Status.RUNNING)
    MatchRun.objects.filter(pk=fresh.pk).update(started_at=timezone.now() - timedelta(minutes=3))
    assert runs_alert_stalled() == 1
    note = Notification.objects.get(user=staff)
    assert f"#{stalled.pk}" in note.title and "10 分钟" in note.body
    assert runs_alert_stalled() == 0  # once per run
    assert MatchRun.objects.get(pk=stalled.pk).stall_alerted_at is not None
    assert MatchRun.objects.get(pk=fresh.pk).stall_alerted_at is None


def test_the_celery_settings_redeliver_a_dead_workers_chunk_within_five_minutes():
    from django.conf import settings

    from portal.celery import app as celery_app

    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    restore_cycle = 10  # kombu's Redis transport puts back expired unacked messages every 10 s
    assert visibility + restore_cycle <= 5 * 60
    assert celery_app.conf.task_soft_time_limit < celery_app.conf.task_time_limit < visibility
    assert settings.MATCH_RUN_STALL_MINUTES == 10
