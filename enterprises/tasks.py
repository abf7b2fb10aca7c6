"""Celery tasks of the enterprises app: thin wrappers that call one service (scheduled in
portal/celery.py)."""

from celery import shared_task

from . import scoring, services


@shared_task(name="enterprises.consents_expire")
def consents_expire() -> dict:
    """Nightly: consent records past their expiry become expired; firms hear 30 days before
    (idempotent: a record is expired once and its notice sent once per grant period)."""
    return services.consents_expire()


@shared_task(name="enterprises.score_recompute")
def score_recompute(groups: list[str] | None = None) -> dict:
    """Nightly (all stage groups) and after a firm's change (its group): the 科创积分 recomputed
    (enterprises/scoring.py; a firm whose result is unchanged gets no new row)."""
    return scoring.score_recompute(groups=groups)
