"""The Celery tasks and the periodic schedules of the matching service (run eagerly here)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from matching import tasks
from matching.models import Match, MatchRun
from portal.celery import PERIODIC_TASKS, ensure_periodic_tasks
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_schedules_are_created_once_and_admin_edits_are_kept():
    PeriodicTask.objects.all().delete()
    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)
    nightly = PeriodicTask.objects.get(task="matching.nightly_full_run")
    assert (nightly.crontab.hour, nightly.crontab.minute) == ("2", "0")
    assert PeriodicTask.objects.get(task="matching.escalate_overdue_leads").crontab.minute == "*/15"
    nightly.crontab = CrontabSchedule.objects.create(minute="30", hour="3", timezone="Asia/Shanghai")
    nightly.save()
    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)
    assert PeriodicTask.objects.count() == len(PERIODIC_TASKS)
    assert PeriodicTask.objects.get(task="matching.nightly_full_run").crontab.hour == "3"


def test_the_nightly_task_starts_a_nightly_full_run(django_capture_on_commit_callbacks):
    f.NeedFactory()
    f.ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.nightly_full_run.delay().get()
    run = MatchRun.objects.get(pk=run_id)
    assert (run.trigger, run.status, run.pairs_evaluated) == ("nightly", "succeeded", 1)


def test_the_periodic_overdue_check_escalates_each_overdue_lead_once(cast):
    lead = f.MatchFactory(
        branch=cast.officer_a.branch,
        routed_at=timezone.now() - timedelta(days=5),
        response_deadline=timezone.now() - timedelta(days=1),
    )
    assert tasks.escalate_overdue_leads.delay().get() == 1
    assert tasks.escalate_overdue_leads.delay().get() == 0
    lead.refresh_from_db()
    assert lead.status == Match.Status.EXPIRED and lead.escalated_at is not None
