"""Redis (the Celery broker) unreachable while a firm posts a need: the need is saved and the page
answers; the periodic sweep matches it once the broker is back."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from enterprises.models import FinancingNeed
from matching.models import Match, MatchRun
from matching.services.runs import needs_sweep_unmatched, needs_unmatched
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

    with caplog.at_level(logging.WARNING, logger="matching.services.runs"):
        r = client.post("/firm/needs/new/", form())

    assert r.status_code == 302
    need = FinancingNeed.objects.get(enterprise=firm.enterprise)
    assert need.status == FinancingNeed.Status.OPEN
    assert client.get(r["Location"]).status_code == 200
    assert client.get("/firm/needs/").status_code == 200
    run = MatchRun.objects.get(need=need)
    assert run.status == MatchRun.Status.FAILED and "消息队列不可用" in run.error
    assert "broker unreachable" in caplog.text
    assert not Match.objects.filter(need=need).exists()
    assert list(needs_unmatched()) == [need]

    # Still down: the sweep queues nothing, loses nothing, and does not raise.
    assert needs_sweep_unmatched() == 0
    assert list(needs_unmatched()) == [need]

    # Redis is back (the real broker restored; tasks run in-process as in every unit test).
    broker_down()
    assert needs_sweep_unmatched() == 1

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

    from matching.services.runs import start_full_run

    start_full_run(trigger="nightly")
    assert not needs_unmatched().exists()


def test_withdrawn_needs_and_needs_of_unverified_firms_are_not_swept():
    f.NeedFactory(status=FinancingNeed.Status.WITHDRAWN)
    f.NeedFactory(enterprise=f.EnterpriseFactory(verification_status="pending"))
    assert not needs_unmatched().exists()
    assert needs_sweep_unmatched() == 0


def test_the_sweep_is_scheduled_every_five_minutes_by_a_migration():
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from portal.celery import ensure_periodic_tasks

    assert ("matching", "0007_sweep_schedule") in MigrationLoader(connection).graph.nodes
    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)  # what the migration runs (tables flushed here)
    task = PeriodicTask.objects.get(task="matching.sweep_unmatched_needs")
    assert task.crontab.minute == "*/5" and task.enabled
