"""The demo step and the scheduled tasks call the services; the demo is idempotent."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from demo.subsidies import seed_subsidies
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
    # each desk has work left: 待初审 for the science desk, 待批准 for finance, 已批准 to pay
    assert {"paid", "approved", "reviewed", "submitted", "awaiting"} <= set(counts[1])
    assert LedgerEntry.objects.filter(kind="pay").exists()
    # the two-person flow: reviewed by staff, approved by finance, paid by the cashier
    paid = Claim.objects.filter(status="paid")
    assert set(paid.values_list("reviewed_by", "approved_by", "paid_by")) == {
        (cast.staff.pk, cast.finance.pk, cast.cashier.pk)
    }
    assert set(LedgerEntry.objects.filter(kind="pay").values_list("maker", "checker")) == {
        (cast.finance.pk, cast.cashier.pk)
    }
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
    with time_machine.travel(datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        result = interest_auto_claims.delay(2026).get()
    # 3,000,000 at 3.5% from 2026-01-10, interest accrued in Q1 (81 days), Q2 (91), Q3 (92), × 50%:
    # 11,812.50 + 13,270.83 + 13,416.67 = 38,500.00 (= 3,000,000 × 0.035 × 264 / 360 × 50%)
    assert result["created"] == 3 and result["amount"] == "38500.00"


def test_the_auto_claims_task_by_default_also_closes_the_year_before(cast):
    f.PolicyFactory(effective_from=date(2025, 1, 1))
    # paid at maturity in 2026: the 2025 Q4 claim is due only now, and counts in 2025
    loan = f.LoanFactory(start_date=date(2025, 10, 1), maturity_date=date(2026, 3, 31))
    f.RepaymentFactory(loan=loan, paid_on=date(2026, 3, 31), interest=Decimal("77930.56"))
    with time_machine.travel(datetime(2026, 4, 5, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        result = interest_auto_claims.delay().get()
    assert result["created"] == 2
    assert sorted(Claim.objects.values_list("year", "period_start")) == [
        (2025, date(2025, 10, 1)),
        (2026, date(2026, 1, 1)),
    ]
