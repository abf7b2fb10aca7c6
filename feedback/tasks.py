"""Background work of the feedback app (schedules in ``portal.celery.PERIODIC_TASKS``)."""

from celery import shared_task

from .services import complaints_autoclose as close


@shared_task(name="feedback.complaints_autoclose")
def complaints_autoclose() -> int:
    """Daily: complaints replied to 7 days ago that the firm neither confirmed nor reopened close."""

    return close()
