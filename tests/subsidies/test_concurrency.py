"""Two approvals at the same moment against a budget that holds only one: the policy rows are
locked (SELECT … FOR UPDATE on PostgreSQL), so exactly one is approved."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from portal.services import ConflictError
from subsidies import services
from subsidies.models import Claim, LedgerEntry
from tests import factories as f


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_against_a_budget_for_one_approve_exactly_one():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    staff = f.StaffFactory()
    finance = f.FinanceFactory()
    policy = f.PolicyFactory(budget=Decimal("15000.00"))
    claims = []
    for start, end in ((date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 30))):
        loan = f.LoanFactory()
        claims.append(
            Claim.objects.create(
                policy=policy,
                kind="interest",
                loan=loan,
                enterprise=loan.application.enterprise,
                year=2026,
                period_start=start,
                period_end=end,
                amount=Decimal("13125.00"),
                status=Claim.Status.SUBMITTED,
            )
        )
        services.claim_review(user=staff, claim=claims[-1])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(claim):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            services.claim_approve(user=finance, claim=claim)
            outcomes.append("approved")
        except ConflictError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(c,)) for c in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["approved", "refused"]
    assert Claim.objects.filter(status="approved").count() == 1
    assert LedgerEntry.objects.filter(kind="commit").count() == 1
    assert sum(e.amount for e in LedgerEntry.objects.all()) == Decimal("13125.00")
