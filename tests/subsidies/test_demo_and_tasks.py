"""The demo step and the scheduled tasks call the services; the demo is idempotent."""

from datetime import date
from decimal import Decimal

import pytest

from subsidies.demo import seed_subsidies
from subsidies.models import Claim, LedgerEntry
from subsidies.tasks import interest_auto_claims
from tests import factories as f

pytestmark = pytest.mark.django_db


def quarterly(loan):
    for month in (3, 6, 9):
        f.RepaymentFactory(loan=loan, paid_on=date(2026, month, 21), interest=Decimal("26250.00"))


def test_the_demo_generates_confirms_approves_and_pays_and_a_second_run_changes_nothing(cast):
    f.PolicyFactory()
    for _ in range(6):
        quarterly(f.LoanFactory())
    seed_subsidies(today=date(2026, 11, 28))
    counts = (
        Claim.objects.count(),
        list(Claim.objects.order_by("pk").values_list("status", flat=True)),
        LedgerEntry.objects.count(),
    )
    assert counts[0] == 18  # 6 loans × Q1–Q3
    assert {"paid", "approved", "submitted", "awaiting"} <= set(counts[1])
    assert LedgerEntry.objects.filter(kind="pay").exists()
    seed_subsidies(today=date(2026, 11, 28))
    assert (
        Claim.objects.count(),
        list(Claim.objects.order_by("pk").values_list("status", flat=True)),
        LedgerEntry.objects.count(),
    ) == counts


def test_the_demo_without_loans_creates_nothing(cast):
    f.PolicyFactory()
    seed_subsidies(today=date(2026, 11, 28))
    assert Claim.objects.count() == 0


def test_the_auto_claims_task_runs_the_generator(cast):
    f.PolicyFactory()
    quarterly(f.LoanFactory())
    result = interest_auto_claims.delay(2026).get()
    assert result["created"] >= 3 and result["amount"] == str(Decimal("13125.00") * result["created"])
