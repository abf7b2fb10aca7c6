"""Scheduled work of the subsidies app (thin: the services do the work).

Suggested schedules (the beat table lives in ``portal/celery.py``): ``subsidies.reward_yearly``
on 5 January for the year before; ``subsidies.interest_auto_claims`` on the 5th of January, April,
July and October for the quarter just ended.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .services import interest_claims_generate, reward_claims_generate


@shared_task(name="subsidies.reward_yearly")
def reward_yearly(year: int | None = None) -> dict:
    """The exclusive-product reward of ``year`` (default: last year) for every bank."""
    year = year or timezone.localdate().year - 1
    claims = reward_claims_generate(year=year)
    return {"year": year, "created": len(claims), "amount": str(sum(c.amount for c in claims))}


@shared_task(name="subsidies.interest_auto_claims")
def interest_auto_claims(year: int | None = None) -> dict:
    """免申即享: interest-subsidy claims for every ended period of ``year`` (default: the year of
    five days ago, so the run on 5 January still closes the last quarter of the year before)."""
    year = year or (timezone.localdate() - timedelta(days=5)).year
    report = interest_claims_generate(year=year)
    return {**report, "amount": str(report["amount"]), "year": year}
