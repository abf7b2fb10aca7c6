"""Celery tasks of the matching service: thin wrappers that take ids and call a service.

Every task is safe to run twice (``acks_late``: a killed worker's message is redelivered), because
the services upsert on (need, product) and count a chunk's progress only once (see
``matching.services.evaluation``).

Poison messages: a task that kills its worker process every time (a crash in C code, the OOM
killer) would be redelivered for ever. :class:`BoundedTask` counts each start of a message in
:class:`~matching.models.TaskAttempt` (committed before the work begins) and deletes the row when
the task returns or raises; a message that already started ``settings.TASK_MAX_ATTEMPTS`` times
without finishing is acknowledged without running and its matching run is marked failed (shown on
/matching/runs/).

Fault injection (tests only): a worker started with ``KEJIN_FAULT_CRASH_CHUNK=1`` in its
environment ends its process (``os._exit(1)``) at the start of every ``matching.run_chunk`` —
tests/faults/test_poison_task.py uses it to prove the bound. Never set it in production.
"""

import logging
import os

from celery import Task, shared_task
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .models import TaskAttempt
from .services import dispatch, escalation, evaluation, loans, review

logger = logging.getLogger(__name__)


class BoundedTask(Task):
    """A task whose message is given up after ``TASK_MAX_ATTEMPTS`` starts that never finished."""

    def __call__(self, *args, **kwargs):
        task_id = getattr(self.request, "id", None)
        if self.request.is_eager or not task_id or self.request.called_directly:
            return super().__call__(*args, **kwargs)
        attempts = _attempt_start(task_id=task_id, name=self.name, args=args, kwargs=kwargs)
        limit = getattr(settings, "TASK_MAX_ATTEMPTS", 3)
        if attempts > limit:
            TaskAttempt.objects.filter(task_id=task_id).update(gave_up=True)
            logger.error(
                "task %s %s gave up after %s attempts that crashed the worker", self.name, task_id, limit
            )
            self.give_up(args, kwargs, limit)
            return None
        try:
            return super().__call__(*args, **kwargs)
        finally:
            TaskAttempt.objects.filter(task_id=task_id).delete()

    def give_up(self, args, kwargs, attempts: int) -> None:
        """Record that the message was given up: a run task marks its run failed."""
        run_id = kwargs.get("run_id", args[0] if args else None)
        if run_id is not None:
            what = f"分片 {args[1]}" if self.name == "matching.run_chunk" and len(args) > 1 else "任务"
            evaluation.run_fail(
                run_id=run_id,
                error=f"{what}连续 {attempts} 次导致工作进程退出，已停止重试（{self.name}）",
            )


def _attempt_start(*, task_id: str, name: str, args, kwargs) -> int:
    """Count one more start of this message (committed at once) and return the count."""
    row, created = TaskAttempt.objects.get_or_create(
        task_id=task_id,
        defaults={
            "task_name": name[:200],
            "arguments": {"args": list(args), "kwargs": kwargs},
            "attempts": 1,
        },
    )
    if created:
        return 1
    TaskAttempt.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1, last_started_at=timezone.now())
    row.refresh_from_db(fields=["attempts"])
    return row.attempts


def _fault_crash_chunk() -> None:
    """Fault injection for tests (see the module docstring)."""
    if os.environ.get("KEJIN_FAULT_CRASH_CHUNK") == "1":
        os._exit(1)


@shared_task(name="matching.run_start", bind=True, base=BoundedTask)
def run_start(self, run_id: int, chunk_size: int | None = None) -> None:
    """Plan a run into chunks of needs and dispatch them as a chord, on the queue this came from."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    dispatch.run_dispatch(run_id=run_id, chunk_size=chunk_size, queue=queue)


@shared_task(name="matching.run_chunk", base=BoundedTask)
def run_chunk(run_id: int, index: int) -> None:
    """Match one chunk of needs of a run."""
    _fault_crash_chunk()
    evaluation.run_chunk_process(run_id=run_id, index=index)


@shared_task(name="matching.run_finish", base=BoundedTask)
def run_finish(_results=None, run_id: int | None = None) -> None:
    """Chord callback: close the run once every chunk is done (idempotent)."""
    evaluation.run_finish(run_id=run_id)


@shared_task(name="matching.nightly_full_run", base=BoundedTask)
def nightly_full_run() -> int:
    """The nightly full run (scheduled by django-celery-beat, see portal/celery.py)."""
    return dispatch.start_full_run(trigger="nightly").pk


@shared_task(name="matching.escalate_overdue_leads", base=BoundedTask)
def escalate_overdue_leads() -> int:
    """Mark overdue leads expired, alert staff and pass each need on (periodic, idempotent)."""
    return escalation.leads_escalate_overdue()


@shared_task(name="matching.sweep_unmatched_needs", base=BoundedTask, bind=True)
def sweep_unmatched_needs(self) -> int:
    """Send runs waiting for dispatch, queue a run for every open need not matched since it last
    changed, send again the chunks of stalled runs (on the queue this came from) and alert staff
    about runs still without progress (periodic, idempotent)."""
    sent = dispatch.needs_sweep_unmatched()
    dispatch.runs_resume_stalled(queue=(self.request.delivery_info or {}).get("routing_key"))
    dispatch.runs_alert_stalled()
    return sent


@shared_task(name="matching.offers_expire", base=BoundedTask)
def offers_expire() -> int:
    """Mark approved offers past their validity date expired, telling firm and bank (periodic,
    idempotent; signing and disbursing check the date themselves)."""
    return review.offers_expire()


@shared_task(name="matching.loan_notices")
def loan_notices() -> int:
    """Daily: repayment reminders 7 days before maturity and the renewal radar's 60/30-day notices,
    each once per loan (``matching.services.loans.loans_send_notices``)."""
    return loans.loans_send_notices()
