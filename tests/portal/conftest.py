"""Fixtures of the portal tests: leads made by a real matching run (API clients, idempotency)."""

from decimal import Decimal

import pytest
import time_machine

from matching.models import Match
from matching.services.dispatch import start_full_run
from tests import factories as f

NOW = "2026-03-10 10:00 +08:00"


@pytest.fixture
def leads(cast, django_capture_on_commit_callbacks):
    """A real full run: firm A's 500万元 need fits only bank A's product, firm B's 2,000万元 need
    only bank B's (one lead per need), so each bank has one lead."""
    product_a = f.ProductFactory(
        institution=cast.bank_a,
        name="甲行科创贷",
        amount_min=Decimal("500000"),
        amount_max=Decimal("8000000"),
    )
    product_b = f.ProductFactory(
        institution=cast.bank_b,
        name="乙行科创贷",
        amount_min=Decimal("10000000"),
        amount_max=Decimal("30000000"),
    )
    f.NeedFactory(enterprise=cast.firm_a.enterprise, amount=Decimal("5000000"))
    f.NeedFactory(enterprise=cast.firm_b.enterprise, amount=Decimal("20000000"))
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start_full_run(trigger="manual", user=cast.staff)
    lead_a = Match.objects.get(product=product_a, is_lead=True)
    lead_b = Match.objects.get(product=product_b, is_lead=True)
    return lead_a, lead_b
