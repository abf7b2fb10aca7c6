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
    """免申即享: interest-subsidy claims for every ended period of ``year``. By default the year of
    five days ago and the year before it: a period's claim is due once its interest is recorded as
    paid, which for a loan paying at maturity can be in a later year (the claim still counts in
    the year its days fall in). Idempotent, so running a year twice changes nothing."""
    if year:
        report = interest_claims_generate(year=year)
        return {**report, "amount": str(report["amount"]), "year": year}
    latest = (timezone.localdate() - timedelta(days=5)).year
    reports = {y: interest_claims_generate(year=y) for y in (latest - 1, latest)}
    return {
        "year": latest,
        "years": {str(y): {**r, "amount": str(r["amount"])} for y, r in reports.items()},
        "created": sum(r["created"] for r in reports.values()),
        "amount": str(sum(r["amount"] for r in reports.values())),
    }
