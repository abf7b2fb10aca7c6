"""Fixtures of the bank workspace tests: a lead routed to bank A's branch, applications in any state."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from matching.models import Application, Loan
from tests import factories as f


@pytest.fixture
def product_a(cast):
    return f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")


@pytest.fixture
def product_b(cast):
    return f.ProductFactory(institution=cast.bank_b, name="乙行科创贷")


def make_lead(cast, product, *, branch=None, score=75, deadline_in=timedelta(days=2), **kwargs):
    enterprise = kwargs.pop("enterprise", None) or cast.firm_a.enterprise
    need = kwargs.pop("need", None) or f.NeedFactory(enterprise=enterprise)
    now = timezone.now()
    return f.MatchFactory(
        need=need,
        product=product,
        score=score,
        branch=branch or cast.officer_a.branch,
        routed_at=now - timedelta(hours=1),
        response_deadline=now + deadline_in,
        **kwargs,
    )


@pytest.fixture
def lead(cast, product_a):
    return make_lead(cast, product_a)


def make_application(cast, product, status="submitted", **kwargs):
    """An application of firm A to ``product`` in ``status``, with a Loan where the status needs one."""
    app = f.ApplicationFactory(
        enterprise=cast.firm_a.enterprise,
        product=product,
        status=status,
        amount=Decimal("3000000.00"),
        term_months=12,
        **kwargs,
    )
    if status not in ("submitted", "accepted", "rejected", "withdrawn"):
        app.credit_line = Decimal("3000000.00")
        app.approved_rate = Decimal("4.000")
        app.approved_term_months = 12
        app.approved_at = timezone.now()
        app.save()
    if status in ("disbursed", "repaid", "defaulted"):
        Loan.objects.create(
            application=app,
            principal=Decimal("3000000.00"),
            annual_rate=Decimal("4.000"),
            start_date=date(2026, 1, 10),
            maturity_date=date(2027, 1, 10),
            status={"disbursed": "active"}.get(status, status),
        )
    return Application.objects.get(pk=app.pk)
