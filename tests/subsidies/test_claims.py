"""Claims end to end, worked by hand: 免申即享 interest subsidy from recorded repayments (caps, late
repayments), the firm's confirmation, staff review and the ledger, duplicates refused by the
database, the yearly exclusive-product reward, risk compensation with a cap and a recovery."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from portal.models import Notification, Transition
from portal.services import ConflictError, ServiceError
from subsidies import services
from subsidies.models import Claim, LedgerEntry
from subsidies.selectors import budget_balance
from tests import factories as f

pytestmark = pytest.mark.django_db

Q1, Q2 = date(2026, 1, 1), date(2026, 4, 1)
#: Defaults of 2026 are claimable from 2027-01-01, once the year-end NPL ratio is known.
EARLY_2027 = datetime(2027, 1, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
AFTER_Q2 = date(2026, 7, 15)


def two_quarters(q1_on_time=True):
    # 3,000,000 at 3.5% from 2026-01-10: interest the bank records on the 21st of each quarter's
    # last month. The subsidy is on the interest ACCRUED in each quarter, not on these payments:
    # Q1 2026-01-10..03-31 = 81 days: 3,000,000 × 0.035 × 81 / 360 = 23,625.00 → × 50% = 11,812.50
    # Q2 04-01..06-30 = 91 days: 3,000,000 × 0.035 × 91 / 360 = 26,541.666… → × 50% = 13,270.83
    return [(date(2026, 3, 21), "26250.00", q1_on_time), (date(2026, 6, 21), "26250.00", True)]


def test_auto_claims_are_generated_per_quarter_from_the_recorded_interest(cast, make_loan):
    f.PolicyFactory()
    loan = make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters())
    report = services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    # Q1: min(23,625.00 × 50% = 11,812.50, 3,000,000 × 3% × 81 / 360 = 20,250.00, 200,000) = 11,812.50
    # Q2: min(26,541.67 × 50% = 13,270.83, 3,000,000 × 3% × 91 / 360 = 22,750.00, 200,000 − 11,812.50) = 13,270.83
    claims = list(Claim.objects.filter(loan=loan).order_by("period_start"))
    assert [(c.period_start, c.period_end) for c in claims] == [
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 6, 30)),
    ]
    assert [c.amount for c in claims] == [Decimal("11812.50"), Decimal("13270.83")]
    assert {c.status for c in claims} == {Claim.Status.AWAITING_CONFIRMATION}
    assert report["created"] == 2 and report["amount"] == Decimal("25083.33")
    assert claims[0].explanation and any("11,812.50" in line for line in claims[0].explanation)
    assert any("本期计息 81 天" in line for line in claims[0].explanation)
    assert Notification.objects.filter(user=cast.firm_a).count() == 2
    # idempotent, and the quarter that has not ended yet is left alone
    again = services.interest_claims_generate(year=2026, as_of=date(2026, 12, 1))
    assert again["created"] == 0 and again["existing"] == 2
    assert Claim.objects.count() == 2


def test_the_per_firm_yearly_cap_bites(cast, make_loan):
    f.PolicyFactory(parameters={**f.PolicyFactory.build().parameters, "firm_year_cap": "20000"})
    make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters())
    services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    # Q1: min(11,812.50, 20,250.00, 20,000 − 0) = 11,812.50
    # Q2: min(13,270.83, 22,750.00, 20,000 − 11,812.50 = 8,187.50) = 8,187.50
    amounts = list(Claim.objects.order_by("period_start").values_list("amount", flat=True))
    assert amounts == [Decimal("11812.50"), Decimal("8187.50")]


def test_the_principal_cap_bites_on_a_yearly_claim_period(cast, make_loan):
    f.PolicyFactory(parameters={**f.PolicyFactory.build().parameters, "claim_period": "year"})
    # 1,000,000 at 8% from 2026-01-10: 2026-01-10..12-31 = 356 days accrued in the year
    make_loan(
        enterprise=cast.firm_a.enterprise,
        principal="1000000.00",
        rate="8.000",
        repayments=[(date(2026, m, 20), "20000.00", True) for m in (3, 6, 9, 12)],
    )
    services.interest_claims_generate(year=2026, as_of=date(2027, 1, 5))
    # accrued = 1,000,000 × 0.08 × 356 / 360 = 79,111.11
    # min(79,111.11 × 50% = 39,555.56, 1,000,000 × 3% × 356 / 360 = 29,666.67, 200,000) = 29,666.67:
    # the 3% cap is an annual rate, pro rata to the 356 days (not 30,000)
    claim = Claim.objects.get()
    assert (claim.period_start, claim.period_end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert claim.amount == Decimal("29666.67")


def test_a_period_with_a_late_repayment_is_excluded(cast, make_loan):
    f.PolicyFactory()
    loan = make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters(q1_on_time=False))
    report = services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    assert list(Claim.objects.filter(loan=loan).values_list("period_start", flat=True)) == [Q2]
    assert report["skipped"] == 1
    assert any("逾期" in reason for reason in report["reasons"])


def test_when_the_policy_does_not_require_on_time_repayment_the_late_period_counts(cast, make_loan):
    f.PolicyFactory(parameters={**f.PolicyFactory.build().parameters, "require_on_time": False})
    make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters(q1_on_time=False))
    services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    assert Claim.objects.count() == 2


def test_non_credit_products_and_unverified_firms_get_no_claims(make_loan):
    f.PolicyFactory()
    make_loan(
        product=f.ProductFactory(product_type="ip_pledge", guarantee_types=["ip_pledge"]),
        repayments=two_quarters(),
    )
    make_loan(enterprise=f.EnterpriseFactory(verification_status="pending"), repayments=two_quarters())
    report = services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    assert report["created"] == 0 and report["skipped"] == 4
    assert Claim.objects.count() == 0


def test_the_firm_confirms_staff_review_finance_approves_a_cashier_pays_and_the_ledger_sums_up(
    cast, make_loan, api_for, reauthed
):
    policy = f.PolicyFactory(budget=Decimal("100000.00"))
    make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters())
    services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    claim = Claim.objects.order_by("period_start").first()

    firm = api_for(cast.firm_a)
    r = firm.post(
        f"/api/v1/subsidies/claims/{claim.pk}/confirm/",
        {"payee_name": "甲公司", "payee_bank": "中国银行", "payee_account": "62160000111122223333"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "submitted"

    staff = reauthed(api_for(cast.staff))
    assert staff.post(f"/api/v1/subsidies/claims/{claim.pk}/review/").json()["status"] == "reviewed"
    finance = reauthed(api_for(cast.finance))
    assert finance.post(f"/api/v1/subsidies/claims/{claim.pk}/approve/").json()["status"] == "approved"
    balance = budget_balance(series=policy.series, year=2026)
    # remaining = 100,000.00 − 11,812.50 = 88,187.50
    assert balance["committed"] == Decimal("11812.50") and balance["remaining"] == Decimal("88187.50")
    assert balance["paid"] == Decimal("0")
    paid = reauthed(api_for(cast.cashier)).post(f"/api/v1/subsidies/claims/{claim.pk}/pay/").json()
    assert paid["status"] == "paid"
    assert (paid["reviewed_by_name"], paid["approved_by_name"], paid["paid_by_name"]) == (
        cast.staff.display_name,
        "郭建华",
        "韩雪",
    )
    kinds = list(
        LedgerEntry.objects.filter(claim=claim)
        .order_by("id")
        .values_list("kind", "amount", "maker__username", "checker__username")
    )
    assert kinds == [
        ("commit", Decimal("11812.50"), "staff", "finance"),
        ("pay", Decimal("11812.50"), "finance", "cashier"),
    ]

    ledger = staff.get("/api/v1/subsidies/ledger/", {"year": 2026}).json()
    row = next(r for r in ledger["rows"] if r["series"] == policy.series)
    assert row == {
        "series": policy.series,
        "year": 2026,
        "name": policy.name,
        "kind": "interest",
        "budget": "100000.00",
        "committed": "11812.50",
        "paid": "11812.50",
        "committed_unpaid": "0.00",
        "recovered": "0.00",
        "remaining": "88187.50",
    }
    states = list(
        Transition.objects.filter(object_id=claim.pk, content_type__model="claim").values_list(
            "to_state", flat=True
        )
    )
    assert states == ["awaiting", "submitted", "reviewed", "approved", "paid"]
    assert Notification.objects.filter(user=cast.firm_a, title__contains="已批准").exists()
    assert Notification.objects.filter(user=cast.firm_a, title__contains="已拨付").exists()


def test_staff_reject_with_a_reason_and_nothing_is_committed(cast, make_loan, api_for, reauthed):
    f.PolicyFactory()
    make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters())
    services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    claim = Claim.objects.first()
    staff = reauthed(api_for(cast.staff))
    assert staff.post(f"/api/v1/subsidies/claims/{claim.pk}/reject/", {}).status_code == 400
    r = staff.post(f"/api/v1/subsidies/claims/{claim.pk}/reject/", {"reason": "企业已注销"})
    assert r.json()["status"] == "rejected" and r.json()["reject_reason"] == "企业已注销"
    assert not LedgerEntry.objects.exists()
    assert staff.post(f"/api/v1/subsidies/claims/{claim.pk}/review/").status_code == 409
    assert (
        reauthed(api_for(cast.finance)).post(f"/api/v1/subsidies/claims/{claim.pk}/approve/").status_code
        == 409
    )


def test_no_approval_beyond_the_remaining_budget(cast, make_loan):
    f.PolicyFactory(budget=Decimal("20000.00"))
    make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters())
    services.interest_claims_generate(year=2026, as_of=AFTER_Q2)
    first, second = Claim.objects.order_by("period_start")
    for claim in (first, second):
        services.claim_confirm(
            user=cast.firm_a,
            claim=claim,
            payee_name="甲",
            payee_bank="中行",
            payee_account="6216000011112222",
        )
        services.claim_review(user=cast.staff, claim=claim)
    services.claim_approve(user=cast.finance, claim=first)
    # remaining 20,000.00 − 11,812.50 = 8,187.50 < 13,270.83
    with pytest.raises(ConflictError, match="预算不足"):
        services.claim_approve(user=cast.finance, claim=second)
    second.refresh_from_db()
    assert second.status == Claim.Status.REVIEWED


def test_duplicate_claims_are_refused_by_the_database(cast, make_loan):
    policy = f.PolicyFactory()
    loan = make_loan(enterprise=cast.firm_a.enterprise)
    fields = {
        "policy": policy,
        "kind": "interest",
        "loan": loan,
        "year": 2026,
        "period_start": Q1,
        "period_end": date(2026, 3, 31),
        "amount": Decimal("1.00"),
    }
    Claim.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(**fields)
    reward = f.RewardPolicyFactory()
    Claim.objects.create(
        policy=reward,
        kind="reward",
        institution=cast.bank_a,
        year=2026,
        period_start=Q1,
        period_end=date(2026, 12, 31),
        amount=Decimal("200000.00"),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(
            policy=reward,
            kind="reward",
            institution=cast.bank_a,
            year=2026,
            period_start=Q1,
            period_end=date(2026, 12, 31),
            amount=Decimal("200000.00"),
        )


def test_a_duplicate_through_the_service_is_a_clear_conflict(cast, make_loan, time_machine=None):
    f.PolicyFactory(parameters={**f.PolicyFactory.build().parameters, "auto_claim": False})
    loan = make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters())
    account = {"payee_name": "甲", "payee_bank": "中行", "payee_account": "6216000011112222"}
    claim = services.interest_claim_submit(user=cast.firm_a, loan=loan, period_start=Q1, **account)
    assert claim.status == Claim.Status.SUBMITTED and claim.amount == Decimal("11812.50")
    with pytest.raises(ConflictError, match="不能重复申领"):
        services.interest_claim_submit(user=cast.firm_a, loan=loan, period_start=date(2026, 2, 15), **account)
    with pytest.raises(ServiceError):
        services.interest_claim_submit(user=cast.firm_b, loan=loan, period_start=Q2, **account)


def test_firms_claim_themselves_when_the_policy_is_not_auto(cast, make_loan, client_for):
    f.PolicyFactory(parameters={**f.PolicyFactory.build().parameters, "auto_claim": False})
    loan = make_loan(enterprise=cast.firm_a.enterprise, repayments=two_quarters())
    assert services.interest_claims_generate(year=2026, as_of=AFTER_Q2)["created"] == 0
    c = client_for(cast.firm_a)
    page = c.get("/subsidies/my-claims/").content.decode()
    assert "可申领的贴息" in page and "1.18万元" in page and "1.33万元" in page
    r = c.post(
        "/subsidies/my-claims/submit/",
        {
            "loan": loan.pk,
            "period_start": "2026-01-01",
            "payee_name": "甲",
            "payee_bank": "中行",
            "payee_account": "6216000011112222",
        },
    )
    assert r.status_code == 302
    assert Claim.objects.get().status == Claim.Status.SUBMITTED


# ------------------------------------------------------------------------------------------
# 专属产品奖励
# ------------------------------------------------------------------------------------------


def test_the_reward_sequence_through_the_yearly_service(cast):
    from django.utils import timezone

    from subsidies.tasks import reward_yearly

    policy = f.RewardPolicyFactory(budget=Decimal("2000000.00"))
    product = f.ProductFactory(institution=cast.bank_a, is_exclusive=True)
    other = f.ProductFactory(institution=cast.bank_a, is_exclusive=False)
    yearly = {2021: "60000000", 2022: "130000000", 2023: "345000000", 2024: "320000000", 2025: "410000000"}
    for year, total in yearly.items():
        # two approved credit lines per year adding up to the total; a non-exclusive one that does not count
        half = Decimal(total) / 2
        for _ in range(2):
            f.ApplicationFactory(
                product=product,
                status="disbursed",
                credit_line=half,
                approved_at=timezone.make_aware(timezone.datetime(year, 6, 1, 10)),
            )
        f.ApplicationFactory(
            product=other,
            status="disbursed",
            credit_line=Decimal("900000000"),
            approved_at=timezone.make_aware(timezone.datetime(year, 6, 1, 10)),
        )
    amounts = {}
    for year in yearly:
        if year == 2023:
            reward_yearly.delay(year)  # the Celery task calls the same service
        else:
            services.reward_claims_generate(year=year)
        claim = Claim.objects.filter(kind="reward", institution=cast.bank_a, year=year).first()
        amounts[year] = claim.amount if claim else Decimal("0")
    # N: 0, 1, 3, 3, 4; highest rewarded before: 0, 0, 1, 3, 3
    # reward: 0; 20万×(1−0); 20万×(3−1); 0; 20万×(4−3)
    assert amounts == {
        2021: Decimal("0"),
        2022: Decimal("200000.00"),
        2023: Decimal("400000.00"),
        2024: Decimal("0"),
        2025: Decimal("200000.00"),
    }
    assert Claim.objects.get(year=2025).reward_units == 4
    assert any("3.45亿元" in line for line in Claim.objects.get(year=2023).explanation)
    assert services.reward_claims_generate(year=2025) == []  # idempotent
    assert Claim.objects.filter(policy=policy).count() == 3


def test_staff_run_the_reward_from_the_claims_page(cast, client_for):
    from django.utils import timezone

    f.RewardPolicyFactory()
    product = f.ProductFactory(institution=cast.bank_a, is_exclusive=True)
    f.ApplicationFactory(
        product=product,
        status="disbursed",
        credit_line=Decimal("150000000"),
        approved_at=timezone.make_aware(timezone.datetime(2026, 3, 1)),
    )
    r = client_for(cast.staff).post("/subsidies/claims/generate/", {"year": 2026, "what": "reward"})
    assert r.status_code == 302
    assert Claim.objects.get(kind="reward").amount == Decimal("200000.00")
    assert (
        client_for(cast.firm_a)
        .post("/subsidies/claims/generate/", {"year": 2026, "what": "reward"})
        .status_code
        == 403
    )


# ------------------------------------------------------------------------------------------
# 风险补偿
# ------------------------------------------------------------------------------------------


def test_risk_compensation_with_a_cap_and_a_later_recovery(cast, make_loan):
    policy = f.RiskPolicyFactory(budget=Decimal("20000000.00"))
    product = f.ProductFactory(institution=cast.bank_a, is_exclusive=True, amount_max=Decimal("100000000"))
    loan = make_loan(
        product=product,
        principal="50000000.00",
        start=date(2026, 2, 1),
        status="defaulted",
        defaulted_on=date(2026, 9, 1),
        outstanding_at_default=Decimal("40000000.00"),
    )
    # NPL on 2026-12-31 = defaulted outstanding 40,000,000 ÷ all outstanding 40,000,000 = 100% > 1%
    # 30% × 40,000,000 = 12,000,000 > the bank's yearly cap 10,000,000 → 10,000,000
    with time_machine.travel(EARLY_2027, tick=False):
        claim = services.risk_claim_submit(user=cast.officer_a, loan=loan)
    assert claim.amount == Decimal("10000000.00")
    assert claim.status == Claim.Status.SUBMITTED
    assert any("100.00%" in line for line in claim.explanation)
    services.claim_review(user=cast.staff, claim=claim)
    services.claim_approve(user=cast.finance, claim=claim)
    services.claim_pay(user=cast.cashier, claim=claim)

    # a second default the same year: the pool for bank A is used up
    loan2 = make_loan(
        product=product,
        principal="1000000.00",
        start=date(2026, 3, 1),
        status="defaulted",
        defaulted_on=date(2026, 10, 1),
        outstanding_at_default=Decimal("1000000.00"),
    )
    with pytest.raises(ConflictError, match="额度已用完"), time_machine.travel(EARLY_2027, tick=False):
        services.risk_claim_submit(user=cast.officer_a, loan=loan2)

    # recovery of 8,000,000: payback = 10,000,000 × 8,000,000 ÷ 40,000,000 = 2,000,000.00
    row = services.risk_recovery_record(user=cast.officer_a, claim=claim, recovered=Decimal("8000000.00"))
    assert row.payback == Decimal("2000000.00")
    # another 4,000,000 (12,000,000 in all): total payback 3,000,000.00, so 1,000,000.00 more
    row = services.risk_recovery_record(user=cast.staff, claim=claim, recovered=Decimal("4000000.00"))
    assert row.payback == Decimal("1000000.00")
    balance = budget_balance(series=policy.series, year=2026)
    # remaining = 20,000,000 − 10,000,000 + 3,000,000 = 13,000,000.00
    assert balance["recovered"] == Decimal("3000000.00")
    assert balance["remaining"] == Decimal("13000000.00")
    assert LedgerEntry.objects.filter(kind="recovery").count() == 2
    with pytest.raises(ServiceError):
        services.risk_recovery_record(user=cast.officer_b, claim=claim, recovered=Decimal("1.00"))


def test_risk_compensation_needs_the_npl_trigger_and_an_exclusive_product(cast, make_loan):
    f.RiskPolicyFactory()
    product = f.ProductFactory(institution=cast.bank_a, is_exclusive=True, amount_max=Decimal("1000000000"))
    make_loan(product=product, principal="500000000.00", start=date(2026, 1, 5))
    loan = make_loan(
        product=product,
        principal="1000000.00",
        start=date(2026, 2, 1),
        status="defaulted",
        defaulted_on=date(2026, 8, 1),
        outstanding_at_default=Decimal("1000000.00"),
    )
    # NPL on 2026-12-31 = 1,000,000 ÷ 501,000,000 ≈ 0.20% ≤ 1%
    with pytest.raises(ServiceError, match="未触发"), time_machine.travel(EARLY_2027, tick=False):
        services.risk_claim_submit(user=cast.officer_a, loan=loan)
    plain = make_loan(
        product=f.ProductFactory(institution=cast.bank_a),
        status="defaulted",
        defaulted_on=date(2026, 8, 1),
        outstanding_at_default=Decimal("1000000.00"),
    )
    with time_machine.travel(EARLY_2027, tick=False):
        with pytest.raises(ServiceError, match="专属产品"):
            services.risk_claim_submit(user=cast.officer_a, loan=plain)
        with pytest.raises(ServiceError):
            services.risk_claim_submit(user=cast.officer_b, loan=loan)


# ------------------------------------------------------------------------------------------
# Decimal everywhere
# ------------------------------------------------------------------------------------------


def test_a_float_passed_into_a_service_is_refused(cast, make_loan):
    with pytest.raises(TypeError):
        services.policy_create(
            user=cast.staff,
            series="x",
            kind="reward",
            name="x",
            parameters={"unit": "1", "reward_per_unit": "1"},
            effective_from=Q1,
            budget=1000.0,
        )
    with pytest.raises(TypeError):
        services.lpr_add(
            user=cast.staff, effective_from=date(2026, 6, 20), one_year=3.0, five_year=Decimal("3.5")
        )
    claim = Claim(kind="risk", status="paid")
    with pytest.raises(TypeError):
        services.risk_recovery_record(user=cast.staff, claim=claim, recovered=0.5)
    with pytest.raises(ServiceError, match="浮点"):
        services.policy_create(
            user=cast.staff,
            series="y",
            kind="reward",
            name="y",
            parameters={"unit": 1e8, "reward_per_unit": "200000"},
            effective_from=Q1,
            budget=Decimal("1"),
        )
