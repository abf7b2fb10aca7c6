"""The loan after disbursement (issue 17 items 2, 3 and 6): reminders, the renewal radar, the
无还本续贷 pre-check, the renewal request routed to the same bank first, and the government-guarantee
route after a collateral decline.

Every loan here comes from the real transitions (tests/matching/test_loans.py's helpers): firm A's
300万元 loan from bank A, 2026-03-05 → 2026-09-05, 12 months, purpose 研发投入. The clock is frozen
in every test; worked dates: 60 days before 2026-09-05 is 2026-07-07, so 2026-07-08 is 59 days
before; 30 days before is 2026-08-06; 7 days before is 2026-08-29."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from enterprises.models import FinancingNeed
from enterprises.services import need_create
from matching.models import LoanNotice, LoanRenewal, Match
from matching.services.leads import lead_decline
from matching.services.loans import loan_request_renewal, loans_send_notices, renewal_precheck
from portal.models import Notification
from portal.services import ServiceError
from tests import factories as f
from tests.matching.test_loans import disbursed

pytestmark = pytest.mark.django_db

DAY_59 = "2026-07-08 09:00 +08:00"


def strengthen(enterprise):
    """A verified firm with a valid 高企 (2025-01-01 → 2027-12-31) and patents: it scores above the
    lead threshold against a plain credit product."""
    f.QualificationFactory(enterprise=enterprise, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=enterprise)


@pytest.fixture
def product_a(cast):
    return f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")


@pytest.fixture
def product_b(cast):
    return f.ProductFactory(institution=cast.bank_b, name="乙行科创贷")


@pytest.fixture
def loan_a(cast, product_a):
    strengthen(cast.firm_a.enterprise)
    return disbursed(cast.firm_a, cast.officer_a, product_a)


def titles(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("pk").values_list("title", flat=True))


# ---------------------------------------------------------------------------------------------------
# The renewal radar and the repayment reminder: each notice once
# ---------------------------------------------------------------------------------------------------


def test_a_loan_59_days_from_maturity_gets_the_60_day_notices_once_after_two_runs(cast, loan_a):
    before_firm, before_officer = len(titles(cast.firm_a)), len(titles(cast.officer_a))
    with time_machine.travel(DAY_59):
        first = loans_send_notices()
        second = loans_send_notices()
    assert (first, second) == (1, 0)
    assert list(LoanNotice.objects.filter(loan=loan_a).values_list("kind", "sent_on")) == [
        ("renewal_60", date(2026, 7, 8))
    ]
    firm_new = titles(cast.firm_a)[before_firm:]
    officer_new = titles(cast.officer_a)[before_officer:]
    assert firm_new == ["续贷提醒：甲行科创贷 将于 2026-09-05 到期"]
    assert officer_new == [f"续贷客户：{cast.firm_a.enterprise.name} 的贷款将于 2026-09-05 到期"]
    body = Notification.objects.filter(user=cast.firm_a).order_by("-pk").first().body
    assert "还有 59 天到期" in body and "300.00万元" in body
    assert titles(cast.firm_b) == [] and titles(cast.officer_b) == []


def test_the_30_day_notice_and_the_7_day_repayment_reminder_are_each_sent_once(cast, loan_a):
    with time_machine.travel(DAY_59):
        loans_send_notices()
    with time_machine.travel("2026-08-06 09:00 +08:00"):  # 30 days before
        assert loans_send_notices() == 1
        assert loans_send_notices() == 0
    with time_machine.travel("2026-08-28 09:00 +08:00"):  # 8 days before: nothing new
        assert loans_send_notices() == 0
    firm_before = len(titles(cast.firm_a))
    officer_before = len(titles(cast.officer_a))
    with time_machine.travel("2026-08-29 09:00 +08:00"):  # 7 days before
        assert loans_send_notices() == 1
        assert loans_send_notices() == 0
    assert titles(cast.firm_a)[firm_before:] == ["还款提醒：甲行科创贷 将于 2026-09-05 到期"]
    assert len(titles(cast.officer_a)) == officer_before  # the repayment reminder is the firm's
    assert sorted(LoanNotice.objects.filter(loan=loan_a).values_list("kind", flat=True)) == [
        "renewal_30",
        "renewal_60",
        "repayment_7",
    ]


def test_a_loan_first_seen_inside_30_days_gets_the_30_day_notice_not_a_stale_60_day_one(cast, loan_a):
    with time_machine.travel("2026-08-20 09:00 +08:00"):  # 16 days before, no run until now
        assert loans_send_notices() == 1
    assert list(LoanNotice.objects.filter(loan=loan_a).values_list("kind", flat=True)) == ["renewal_30"]


def test_a_repaid_loan_gets_no_notice(cast, loan_a):
    from tests.matching.test_loans import repay

    repay(loan_a, cast.officer_a, on="2026-07-01", principal="3000000.00", interest="10000.00")
    with time_machine.travel(DAY_59):
        assert loans_send_notices() == 0
    assert not LoanNotice.objects.exists()


# ---------------------------------------------------------------------------------------------------
# The 无还本续贷 pre-check
# ---------------------------------------------------------------------------------------------------


def conditions(loan, on: date) -> dict[str, tuple[bool, str]]:
    loan.refresh_from_db()
    return {c.code: (c.met, c.reason) for c in renewal_precheck(loan, today=on)}


def test_the_precheck_lists_every_condition_met_with_its_reason(cast, loan_a):
    got = conditions(loan_a, date(2026, 7, 10))
    assert got == {
        "no_overdue": (True, "本笔贷款按期还本付息，无逾期记录。"),
        "verified": (True, "企业仍为已认证状态。"),
        "qualifications": (True, "高新技术企业有效期至 2027-12-31。"),
        "renewal_limit": (True, "贷款本金 300.00万元，未超过本产品无还本续贷上限 1,000.00万元。"),
    }


def test_the_precheck_says_which_conditions_fail_and_why(cast, loan_a, product_a):
    product_a.renewal_limit = Decimal("2000000.00")
    product_a.save(update_fields=["renewal_limit"])
    firm = cast.firm_a.enterprise
    firm.qualifications.update(expires_on=date(2026, 6, 30))
    firm.verification_status = "pending"
    firm.save(update_fields=["verification_status"])
    got = conditions(loan_a, date(2026, 9, 10))  # past maturity, principal outstanding: overdue
    assert got == {
        "no_overdue": (False, "贷款已于 2026-09-05 到期，本金尚未结清，处于逾期状态。"),
        "verified": (False, "企业当前认证状态为“待审核”，须为已认证。"),
        "qualifications": (
            False,
            "企业暂无有效期内的科技资质（高新技术企业、科技型中小企业或专精特新），请更新资质信息。",
        ),
        "renewal_limit": (False, "贷款本金 300.00万元，超过本产品无还本续贷上限 200.00万元。"),
    }


def test_a_product_that_requires_a_qualification_checks_that_one(cast, loan_a, product_a):
    product_a.criteria.required_qualifications = ["tech_sme"]
    product_a.criteria.save()
    met, reason = conditions(loan_a, date(2026, 7, 10))["qualifications"]
    assert (met, reason) == (False, "产品要求的资质已过期或未取得：科技型中小企业。")


def test_a_late_repayment_fails_the_no_overdue_condition(cast, loan_a):
    loan_a.repayments.create(paid_on=date(2026, 6, 25), principal=0, interest=Decimal("100.00"), on_time=False)
    met, reason = conditions(loan_a, date(2026, 7, 10))["no_overdue"]
    assert (met, reason) == (False, "有 1 笔还款晚于约定日期（最近一笔 2026-06-25）。")


# ---------------------------------------------------------------------------------------------------
# The renewal request: a need linked to the loan, offered to the same bank first
# ---------------------------------------------------------------------------------------------------


def test_the_renewal_request_creates_a_need_linked_to_the_loan_routed_to_the_same_bank_first(
    cast, loan_a, product_b, api_for, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_for(cast.firm_a).post(f"/api/v1/loans/{loan_a.pk}/renewal/")
    assert response.status_code == 201, response.content
    body = response.json()
    need = FinancingNeed.objects.get(pk=body["id"])
    assert (body["is_renewal"], body["loan"], body["amount"], body["term_months"], body["purpose"]) == (
        True,
        loan_a.pk,
        "3000000.00",
        12,
        "rd",
    )
    assert need.is_renewal and need.enterprise_id == cast.firm_a.enterprise_id
    assert LoanRenewal.objects.get(loan=loan_a).need_id == need.pk
    # The match run found both banks' products eligible; only the loan's bank got the lead.
    rows = {m.institution_id: m for m in Match.objects.filter(need=need)}
    assert rows[cast.bank_a.pk].is_lead and rows[cast.bank_a.pk].status == "suggested"
    assert not rows[cast.bank_b.pk].is_near_miss and not rows[cast.bank_b.pk].is_lead
    assert rows[cast.bank_a.pk].branch_id == cast.officer_a.branch_id
    # Bank A declines: the need passes to bank B, as for any need.
    with time_machine.travel("2026-07-11 10:00 +08:00"):
        lead_decline(user=cast.officer_a, match=rows[cast.bank_a.pk], reason_code="revenue")
    rows[cast.bank_b.pk].refresh_from_db()
    assert rows[cast.bank_b.pk].is_lead
    # The loan API says which need renews it; the bank's inbox filters renewal needs.
    loan_body = api_for(cast.firm_a).get(f"/api/v1/loans/{loan_a.pk}/").json()
    assert loan_body["renewal_need"] == need.pk


def test_a_second_renewal_request_for_the_same_loan_is_refused(cast, loan_a, api_for):
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        assert api_for(cast.firm_a).post(f"/api/v1/loans/{loan_a.pk}/renewal/").status_code == 201
        needs = FinancingNeed.objects.count()
        again = api_for(cast.firm_a).post(f"/api/v1/loans/{loan_a.pk}/renewal/")
    assert again.status_code == 409
    assert again.json()["detail"] == "该笔贷款已提交过续贷申请，请在融资需求中查看进度。"
    assert FinancingNeed.objects.count() == needs and LoanRenewal.objects.count() == 1


def test_another_firm_cannot_renew_the_loan(cast, loan_a, api_for):
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        assert api_for(cast.firm_b).post(f"/api/v1/loans/{loan_a.pk}/renewal/").status_code == 404
        assert api_for(cast.officer_a).post(f"/api/v1/loans/{loan_a.pk}/renewal/").status_code == 404
    assert not LoanRenewal.objects.exists() and not FinancingNeed.objects.filter(is_renewal=True).exists()


def test_a_failing_precheck_refuses_the_renewal_with_the_reasons(cast, loan_a, product_a, api_for):
    product_a.renewal_limit = Decimal("2000000.00")
    product_a.save(update_fields=["renewal_limit"])
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        response = api_for(cast.firm_a).post(f"/api/v1/loans/{loan_a.pk}/renewal/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "precheck_failed"
    assert body["reasons"] == [
        {
            "code": "renewal_limit",
            "label": "贷款额度在续贷上限内",
            "met": False,
            "reason": "贷款本金 300.00万元，超过本产品无还本续贷上限 200.00万元。",
        }
    ]
    assert not LoanRenewal.objects.exists() and not FinancingNeed.objects.filter(is_renewal=True).exists()


def test_the_renewal_service_refuses_a_repaid_loan(cast, loan_a):
    from tests.matching.test_loans import repay

    repay(loan_a, cast.officer_a, on="2026-07-01", principal="3000000.00")
    loan_a.refresh_from_db()
    with time_machine.travel("2026-07-10 10:00 +08:00"), pytest.raises(ServiceError) as exc:
        loan_request_renewal(user=cast.firm_a, loan=loan_a)
    assert exc.value.status == 409 and exc.value.code == "loan_closed"


def test_the_firm_renews_from_its_loan_page(cast, loan_a, client_for):
    client = client_for(cast.firm_a)
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        page = client.get(f"/subsidies/my-loans/{loan_a.pk}/").content.decode()
        assert 'data-condition="renewal_limit" data-met="1"' in page and "申请续贷" in page
        assert "300.00万元" in page and "2026-09-05" in page
        response = client.post(f"/subsidies/my-loans/{loan_a.pk}/renewal/")
        assert response.status_code == 302
        after = client.get(f"/subsidies/my-loans/{loan_a.pk}/").content.decode()
    assert "已优先推送给原贷款机构" in after
    assert LoanRenewal.objects.filter(loan=loan_a).exists()
    assert client_for(cast.firm_b).get(f"/subsidies/my-loans/{loan_a.pk}/").status_code == 404


# ---------------------------------------------------------------------------------------------------
# Lists: maturing_within, the firm's loans page, the bank's inbox
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def loan_b(cast, product_b):
    strengthen(cast.firm_b.enterprise)
    return disbursed(cast.firm_b, cast.officer_b, product_b)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_maturing_within_lists_the_callers_loans_due_in_that_many_days(cast, loan_a, loan_b, api_for):
    with time_machine.travel("2026-07-10 10:00 +08:00"):  # both mature 2026-09-05: in 57 days
        assert ids(api_for(cast.firm_a).get("/api/v1/loans/?maturing_within=60")) == [loan_a.pk]
        assert ids(api_for(cast.firm_b).get("/api/v1/loans/?maturing_within=60")) == [loan_b.pk]
        assert ids(api_for(cast.officer_b).get("/api/v1/loans/?maturing_within=57")) == [loan_b.pk]
        assert ids(api_for(cast.firm_a).get("/api/v1/loans/?maturing_within=56")) == []
        assert sorted(ids(api_for(cast.staff).get("/api/v1/loans/?maturing_within=60"))) == sorted(
            [loan_a.pk, loan_b.pk]
        )
        for bad in ("abc", "1.5", "-1", "367"):
            response = api_for(cast.firm_a).get(f"/api/v1/loans/?maturing_within={bad}")
            assert response.status_code == 400 and "maturing_within" in response.json()
    with time_machine.travel("2026-09-06 10:00 +08:00"):  # overdue now: not "maturing"
        assert ids(api_for(cast.firm_a).get("/api/v1/loans/?maturing_within=60")) == []


def test_the_firms_loans_page_shows_its_loan_and_the_subsidy_received(cast, loan_a, loan_b, client_for):
    from subsidies.models import Claim

    policy = f.PolicyFactory()
    claims = (("1200.00", "paid", 3), ("800.00", "submitted", 4), ("999.00", "rejected", 5))
    for amount, status, month in claims:
        Claim.objects.create(
            policy=policy,
            kind="interest",
            loan=loan_a,
            enterprise=cast.firm_a.enterprise,
            year=2026,
            period_start=date(2026, month, 5),
            period_end=date(2026, month, 28),
            amount=Decimal(amount),
            status=status,
        )
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        listing = client_for(cast.firm_a).get("/subsidies/my-loans/").content.decode()
        detail = client_for(cast.firm_a).get(f"/subsidies/my-loans/{loan_a.pk}/").content.decode()
    assert f'data-loan="{loan_a.pk}"' in listing and f'data-loan="{loan_b.pk}"' not in listing
    assert "0.12万元" in listing  # 1,200 yuan paid; the submitted and rejected claims are not received
    assert "0.12万元" in detail and "另有 0.08万元 审核或拨付中" in detail
    assert "57 天后" in detail


def test_the_bank_inbox_shows_its_renewals_due_and_filters_renewal_needs(
    cast, loan_a, loan_b, client_for, api_for, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        page_a = client_for(cast.officer_a).get("/bank/leads/").content.decode()
        page_b = client_for(cast.officer_b).get("/bank/leads/").content.decode()
        assert f'data-renewal-loan="{loan_a.pk}"' in page_a and f'data-renewal-loan="{loan_b.pk}"' not in page_a
        assert f'data-renewal-loan="{loan_b.pk}"' in page_b
        with django_capture_on_commit_callbacks(execute=True):
            need_id = api_for(cast.firm_a).post(f"/api/v1/loans/{loan_a.pk}/renewal/").json()["id"]
        renewal_page = client_for(cast.officer_a).get("/bank/leads/?renewal=true").content.decode()
    lead = Match.objects.get(need_id=need_id, institution=cast.bank_a)
    assert f'data-lead="{lead.pk}"' in renewal_page and "data-renewal" in renewal_page
    assert f'data-renewal-loan="{loan_a.pk}"' not in renewal_page  # requested: no longer "due"


def test_the_dashboard_counts_renewals_due_requested_and_granted(
    cast, loan_a, loan_b, api_for, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        with django_capture_on_commit_callbacks(execute=True):
            api_for(cast.firm_a).post(f"/api/v1/loans/{loan_a.pk}/renewal/")
        summary = api_for(cast.staff).get("/api/v1/dashboard/summary/?start=2026-07-01&end=2026-07-31").json()
    assert (summary["renewals_due"], summary["renewals_requested"], summary["renewals_granted"]) == (1, 1, 0)


# ---------------------------------------------------------------------------------------------------
# A declined firm is not left alone: the government-guarantee route
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def guarantee_product():
    institution = f.InstitutionFactory(kind="guarantee", name="山西省融资再担保集团", short_name="山西再担保")
    f.BranchFactory(institution=institution, name="山西再担保营业部", is_provincial=True)
    return f.ProductFactory(
        institution=institution,
        name="担保增信",
        guarantee_types=["credit", "guarantee"],
        rate_min=None,
        rate_max=None,
        guarantee_fee_rate=Decimal("1.000"),
        guarantee_coverage=Decimal("80.000"),
    )


@pytest.fixture
def declined_need(cast, product_a, guarantee_product, django_capture_on_commit_callbacks):
    strengthen(cast.firm_a.enterprise)
    with time_machine.travel("2026-07-10 10:00 +08:00"):
        with django_capture_on_commit_callbacks(execute=True):
            need = need_create(
                user=cast.firm_a,
                enterprise=cast.firm_a.enterprise,
                amount=Decimal("5000000"),
                term_months=12,
                purpose="working_capital",
                guarantee_types=["credit"],
            )
    return need


FEE = "担保费率 1%/年：担保 500.00万元、12 个月，担保费约 5.00万元。"
EFFECT = "山西再担保为贷款本金的 80% 承担代偿责任（约 400.00万元）"


def test_a_guarantee_product_is_a_suggestion_not_a_first_lead(cast, declined_need, guarantee_product):
    match = Match.objects.get(need=declined_need, product=guarantee_product)
    assert not match.is_near_miss and not match.is_lead


def test_after_a_collateral_decline_the_firm_is_offered_the_guarantee_route(
    cast, declined_need, guarantee_product, client_for
):
    lead = Match.objects.get(need=declined_need, institution=cast.bank_a)
    with time_machine.travel("2026-07-11 10:00 +08:00"):
        lead_decline(user=cast.officer_a, match=lead, reason_code="collateral", note="无可抵押房产")
        page = client_for(cast.firm_a).get("/firm/needs/").content.decode()
    referral = Match.objects.get(need=declined_need, product=guarantee_product)
    assert referral.is_lead and referral.status == "suggested" and referral.routed_at is not None
    note = Notification.objects.filter(user=cast.firm_a).order_by("-pk").first()
    assert note.title == "可走政府性融资担保增信：担保增信（山西再担保）"
    assert FEE in note.body and EFFECT in note.body
    assert "data-guarantee-route" in page and FEE in page and EFFECT in page
    assert "data-guarantee-route" not in client_for(cast.firm_b).get("/firm/needs/").content.decode()


def test_a_decline_for_another_reason_passes_the_need_on_without_the_guarantee_route(
    cast, declined_need, guarantee_product, client_for
):
    lead = Match.objects.get(need=declined_need, institution=cast.bank_a)
    with time_machine.travel("2026-07-11 10:00 +08:00"):
        lead_decline(user=cast.officer_a, match=lead, reason_code="revenue")
        page = client_for(cast.firm_a).get("/firm/needs/").content.decode()
    assert not Match.objects.get(need=declined_need, product=guarantee_product).is_lead
    assert "data-guarantee-route" not in page


def test_an_application_rejected_for_lack_of_credit_history_shows_the_guarantee_route(
    cast, declined_need, guarantee_product, product_a, client_for
):
    from matching.services.applications import application_submit
    from matching.services.review import application_transition

    with time_machine.travel("2026-07-11 10:00 +08:00"):
        app = application_submit(
            user=cast.firm_a,
            product=product_a,
            amount=Decimal("5000000"),
            term_months=12,
            purpose="working_capital",
            need=declined_need,
            share_profile=True,
        )
        application_transition(user=cast.officer_a, application=app, action="reject", reason_code="credit_history")
        page = client_for(cast.firm_a).get(f"/firm/applications/{app.pk}/").content.decode()
    assert Match.objects.get(need=declined_need, product=guarantee_product).is_lead
    assert "data-guarantee-route" in page and FEE in page and "缺少信贷记录" not in FEE


def test_without_an_officer_on_the_loan_the_institutions_managers_hear_of_the_renewal(cast):
    strengthen(cast.firm_a.enterprise)
    loan = f.LoanFactory(
        application=f.ApplicationFactory(
            enterprise=cast.firm_a.enterprise, product=f.ProductFactory(institution=cast.bank_a), status="disbursed"
        ),
        start_date=date(2026, 1, 10),
        maturity_date=date(2026, 8, 10),
    )
    with time_machine.travel("2026-07-01 09:00 +08:00"):  # 40 days before
        assert loans_send_notices() == 1
    assert titles(cast.manager_a) == [f"续贷客户：{cast.firm_a.enterprise.name} 的贷款将于 2026-08-10 到期"]
    assert titles(cast.officer_a) == [] and titles(cast.officer_b) == []
    assert LoanNotice.objects.get(loan=loan).kind == "renewal_60"
