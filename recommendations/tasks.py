"""Periodic tasks of recommended lists (scheduled in ``portal.celery.PERIODIC_TASKS``)."""

from celery import shared_task

from .services import recipients_escalate_overdue


@shared_task(name="recommendations.escalate_overdue")
def escalate_overdue() -> int:
    """Daily: alert the managers, then provincial staff, of lists whose answers are overdue
    (idempotent: each recipient alerts each side once)."""

    return recipients_escalate_overdue()
