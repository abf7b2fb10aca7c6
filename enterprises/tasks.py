"""Celery tasks of the enterprises app: thin wrappers that call one service (scheduled in
portal/celery.py)."""

from celery import shared_task

from . import services


@shared_task(name="enterprises.consents_expire")
def consents_expire() -> dict:
    """Nightly: consent records past their expiry become expired; firms hear 30 days before
    (idempotent: a record is expired once and its notice sent once per grant period)."""
    return services.consents_expire()
