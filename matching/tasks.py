"""Celery tasks of the matching service: thin wrappers that take ids and call a service.

Every task is safe to run twice (``acks_late``: a killed worker's message is redelivered), because
the services upsert on (need, product) and count a chunk's progress only once (see
``matching.services.runs``).
"""

from celery import shared_task

from .services import runs


@shared_task(name="matching.run_start", bind=True)
def run_start(self, run_id: int, chunk_size: int | None = None) -> None:
    """Plan a run into chunks of needs and dispatch them as a chord, on the queue this came from."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    runs.run_dispatch(run_id=run_id, chunk_size=chunk_size, queue=queue)


@shared_task(name="matching.run_chunk")
def run_chunk(run_id: int, index: int) -> None:
    """Match one chunk of needs of a run."""
    runs.run_chunk_process(run_id=run_id, index=index)


@shared_task(name="matching.run_finish")
def run_finish(_results=None, run_id: int | None = None) -> None:
    """Chord callback: close the run once every chunk is done (idempotent)."""
    runs.run_finish(run_id=run_id)


@shared_task(name="matching.nightly_full_run")
def nightly_full_run() -> int:
    """The nightly full run (scheduled by django-celery-beat, see portal/celery.py)."""
    return runs.start_full_run(trigger="nightly").pk


@shared_task(name="matching.escalate_overdue_leads")
def escalate_overdue_leads() -> int:
    """Mark overdue leads expired, alert staff and pass each need on (periodic, idempotent)."""
    return runs.leads_escalate_overdue()
