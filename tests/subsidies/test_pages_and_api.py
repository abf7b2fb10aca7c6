"""Pages and API of the subsidies app: who may see and do what, policies and LPR, the ledger and
leverage, exports, and query counts on the claims lists."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from subsidies import services
from subsidies.models import Claim, LprRate, Policy
from subsidies.selectors import leverage_for_year
from tests import factories as f

pytestmark = pytest.mark.django_db


def make_claim(
    *,
    enterprise=None,
    institution=None,
    status=Claim.Status.SUBMITTED,
    amount="13125.00",
    policy=None,
    period=(date(2026, 1, 1), date(2026, 3, 31)),
):
    policy = policy or Policy.objects.filter(kind="interest").first() or f.PolicyFactory()
    product = f.ProductFactory(institution=institution) if institution else f.ProductFactory()
    loan = f.LoanFactory(
        application=f.ApplicationFactory(
            enterprise=enterprise or f.EnterpriseFactory(), product=product, status="disbursed"
        )
    )
    return Claim.objects.create(
        policy=policy,
        kind="interest",
        loan=loan,
        enterprise=loan.application.enterprise,
        institution=product.institution,
        year=period[0].year,
        period_start=period[0],
        period_end=period[1],
        amount=Decimal(amount),
        status=status,
        explanation=["说明"],
    )


# ------------------------------------------------------------------------------------------
# Permissions
# ------------------------------------------------------------------------------------------


def test_a_firm_cannot_approve_reject_or_pay(cast, api_for):
    claim = make_claim(enterprise=cast.firm_a.enterprise)
    firm = api_for(cast.firm_a)
    for action in ("approve", "reject", "pay"):
        assert firm.post(f"/api/v1/subsidies/claims/{claim.pk}/{action}/", {"reason": "x"}).status_code == 403
    assert api_for(cast.officer_a).post(f"/api/v1/subsidies/claims/{claim.pk}/approve/").status_code == 403
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED


def test_a_firm_sees_only_its_claims_and_another_firms_claim_is_404(cast, api_for):
    mine = make_claim(enterprise=cast.firm_a.enterprise)
    theirs = make_claim(enterprise=cast.firm_b.enterprise, period=(date(2026, 4, 1), date(2026, 6, 30)))
    firm = api_for(cast.firm_a)
    ids = [c["id"] for c in firm.get("/api/v1/subsidies/claims/").json()["results"]]
    assert ids == [mine.pk]
    assert firm.get(f"/api/v1/subsidies/claims/{theirs.pk}/").status_code == 404
    assert (
        firm.post(
            f"/api/v1/subsidies/claims/{theirs.pk}/confirm/",
            {"payee_name": "a", "payee_bank": "b", "payee_account": "62160000111122"},
        ).status_code
        == 404
    )


def test_a_bank_sees_only_its_institutions_claims(cast, api_for):
    ours = make_claim(institution=cast.bank_a)
    other = make_claim(institution=cast.bank_b, period=(date(2026, 4, 1), date(2026, 6, 30)))
    for user in (cast.officer_a, cast.manager_a):
        ids = [c["id"] for c in api_for(user).get("/api/v1/subsidies/claims/").json()["results"]]
        assert ids == [ours.pk]
    assert api_for(cast.officer_a).get(f"/api/v1/subsidies/claims/{other.pk}/").status_code == 404
    staff_ids = {c["id"] for c in api_for(cast.staff).get("/api/v1/subsidies/claims/").json()["results"]}
    assert staff_ids == {ours.pk, other.pk}


def test_staff_cannot_confirm_through_the_firm_endpoint_and_anonymous_sees_nothing(cast, api_for):
    claim = make_claim(enterprise=cast.firm_a.enterprise, status=Claim.Status.AWAITING_CONFIRMATION)
    assert api_for(cast.staff).post(f"/api/v1/subsidies/claims/{claim.pk}/confirm/", {}).status_code == 403
    anonymous = api_for(None)
    assert anonymous.get("/api/v1/subsidies/claims/").status_code in (401, 403)
    assert anonymous.get("/api/v1/subsidies/ledger/").status_code in (401, 403)
    assert anonymous.get("/api/v1/subsidies/leverage/").status_code in (401, 403)
    assert api_for(cast.firm_a).get("/api/v1/subsidies/ledger/").status_code == 403
    assert api_for(cast.firm_a).get("/api/v1/subsidies/leverage/").status_code == 403


def test_anonymous_can_quote_and_open_the_calculator(client, api_for):
    f.PolicyFactory()
    product = f.ProductFactory()
    r = api_for(None).get(
        "/api/v1/subsidies/quote/", {"product": product.pk, "amount": "1000000", "term_months": 12}
    )
    assert r.status_code == 200
    assert client.get("/subsidies/calculator/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/subsidies/claims/",
        "/subsidies/policies/",
        "/subsidies/policies/new/",
        "/subsidies/lpr/",
        "/subsidies/ledger/",
        "/subsidies/claims/export.xlsx",
        "/subsidies/ledger/export.xlsx",
    ],
)
def test_staff_pages_are_403_for_other_roles_and_open_for_staff(cast, client_for, url):
    for user in (cast.firm_a, cast.officer_a, cast.manager_a):
        assert client_for(user).get(url).status_code == 403
    assert client_for(cast.staff).get(url).status_code == 200


def test_the_firm_and_bank_pages_are_for_their_roles(cast, client_for):
    make_claim(
        enterprise=cast.firm_a.enterprise, institution=cast.bank_a, status=Claim.Status.AWAITING_CONFIRMATION
    )
    page = client_for(cast.firm_a).get("/subsidies/my-claims/")
    assert page.status_code == 200 and "确认收款账户" in page.content.decode()
    assert client_for(cast.officer_a).get("/subsidies/my-claims/").status_code == 403
    assert client_for(cast.officer_a).get("/subsidies/bank/").status_code == 200
    assert client_for(cast.firm_a).get("/subsidies/bank/").status_code == 403
    assert client_for(cast.officer_a).get("/subsidies/leverage/").status_code == 200
    assert client_for(cast.firm_a).get("/subsidies/leverage/").status_code == 403


def test_the_firm_confirms_its_bank_account_on_the_page(cast, client_for):
    claim = make_claim(enterprise=cast.firm_a.enterprise, status=Claim.Status.AWAITING_CONFIRMATION)
    c = client_for(cast.firm_a)
    url = f"/subsidies/my-claims/{claim.pk}/confirm/"
    bad = c.post(url, {"payee_name": "甲", "payee_bank": "中行", "payee_account": "abc"})
    assert bad.status_code == 200 and "账号只能包含数字" in bad.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_CONFIRMATION
    assert (
        c.post(
            url, {"payee_name": "甲", "payee_bank": "中行", "payee_account": "6216 0000 1111 2222"}
        ).status_code
        == 302
    )
    claim.refresh_from_db()
    assert (claim.status, claim.payee_account) == (Claim.Status.SUBMITTED, "6216000011112222")
    other = make_claim(
        enterprise=cast.firm_b.enterprise,
        status=Claim.Status.AWAITING_CONFIRMATION,
        period=(date(2026, 4, 1), date(2026, 6, 30)),
    )
    assert c.get(f"/subsidies/my-claims/{other.pk}/confirm/").status_code == 404


def test_the_desks_review_approve_reject_and_pay_on_the_detail_page(cast, client_for, reauthed):
    claim = make_claim()
    c = reauthed(client_for(cast.staff))
    assert "13,125.00元" in c.get(f"/subsidies/claims/{claim.pk}/").content.decode()  # 元 with separators
    c.post(f"/subsidies/claims/{claim.pk}/review/")
    reauthed(client_for(cast.finance)).post(f"/subsidies/claims/{claim.pk}/approve/")
    reauthed(client_for(cast.cashier)).post(f"/subsidies/claims/{claim.pk}/pay/")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    assert (claim.reviewed_by, claim.approved_by, claim.paid_by) == (cast.staff, cast.finance, cast.cashier)
    other = make_claim(period=(date(2026, 4, 1), date(2026, 6, 30)))
    c.post(f"/subsidies/claims/{other.pk}/reject/", {"reason": "材料不符"})
    other.refresh_from_db()
    assert (other.status, other.reject_reason) == (Claim.Status.REJECTED, "材料不符")


# ------------------------------------------------------------------------------------------
# Policies and LPR
# ------------------------------------------------------------------------------------------

POLICY_POST = {
    "series": "interest-2027",
    "kind": "interest",
    "name": "贷款贴息（2027）",
    "effective_from": "2027-01-01",
    "budget_wan": "1000",
    "ratio": "0.5",
    "principal_cap_rate": "0.03",
    "firm_year_cap_wan": "20",
    "basis": "360",
    "eligible_product_types": ["credit"],
    "auto_claim": "on",
    "require_on_time": "on",
    "claim_period": "quarter",
}


def test_staff_create_a_policy_with_parameters_stored_as_strings(cast, client_for):
    r = client_for(cast.staff).post("/subsidies/policies/new/", POLICY_POST)
    assert r.status_code == 302, r.content.decode()[:2000]
    p = Policy.objects.get(series="interest-2027")
    assert p.budget == Decimal("10000000.00")
    assert p.parameters["ratio"] == "0.5"
    assert p.parameters["firm_year_cap"] == "200000.00"
    assert p.parameters["basis"] == 360
    assert p.parameters["eligible_product_types"] == ["credit"]
    assert p.parameters["auto_claim"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ratio": "1.5"}, "不能大于"),
        ({"basis": ""}, "360"),
        ({"eligible_product_types": []}, "至少选择"),
        ({"firm_year_cap_wan": "-1"}, "不能小于"),
    ],
)
def test_bad_policy_parameters_are_refused_in_chinese_and_nothing_is_saved(cast, client_for, change, message):
    r = client_for(cast.staff).post("/subsidies/policies/new/", {**POLICY_POST, **change})
    assert r.status_code == 200
    assert message in r.content.decode()
    assert not Policy.objects.filter(series="interest-2027").exists()


def test_editing_a_policy_makes_a_new_version_and_claims_keep_theirs(cast, client_for):
    old = f.PolicyFactory(series="interest-s", effective_from=date(2026, 1, 1))
    claim = make_claim(policy=old)
    r = client_for(cast.staff).post(
        f"/subsidies/policies/{old.pk}/edit/",
        {**POLICY_POST, "series": "ignored", "effective_from": "2026-07-01", "ratio": "0.6"},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    old.refresh_from_db()
    new = Policy.objects.get(series="interest-s", version=2)
    assert (old.is_active, old.effective_to) == (False, date(2026, 6, 30))
    assert new.is_active and new.parameters["ratio"] == "0.6"
    claim.refresh_from_db()
    assert claim.policy_id == old.pk
    from subsidies.rules import policy_in_force

    assert policy_in_force("interest", date(2026, 3, 1)) == old
    assert policy_in_force("interest", date(2026, 8, 1)) == new


def test_staff_extend_the_lpr_table(cast, client_for):
    c = client_for(cast.staff)
    r = c.post("/subsidies/lpr/", {"effective_from": "2026-06-22", "one_year": "2.90", "five_year": "3.40"})
    assert r.status_code == 302
    assert LprRate.objects.get(effective_from=date(2026, 6, 22)).one_year == Decimal("2.90")
    assert (
        c.post(
            "/subsidies/lpr/", {"effective_from": "2026-06-22", "one_year": "2.80", "five_year": "3.40"}
        ).status_code
        == 200
    )
    assert (
        client_for(cast.firm_a)
        .post("/subsidies/lpr/", {"effective_from": "2026-07-22", "one_year": "2.8", "five_year": "3.3"})
        .status_code
        == 403
    )


# ------------------------------------------------------------------------------------------
# Ledger, leverage, exports
# ------------------------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_leverage_is_credit_disbursed_under_supported_products_over_net_fiscal_money(cast, api_for):
    from django.utils import timezone

    claim = make_claim(institution=cast.bank_a)  # a credit loan of 3,000,000 from 2026-01-10
    f.claim_through_the_desks(claim, reviewer=cast.staff, approver=cast.finance, payer=cast.cashier)
    f.RewardPolicyFactory()
    product = f.ProductFactory(institution=cast.bank_a, is_exclusive=True)
    exclusive = f.ApplicationFactory(
        product=product,
        status="disbursed",
        credit_line=Decimal("120000000"),
        approved_at=timezone.make_aware(timezone.datetime(2026, 5, 1)),
    )
    f.LoanFactory(application=exclusive, principal=Decimal("50000000"), start_date=date(2026, 5, 10))
    unsupported = f.ProductFactory(institution=cast.bank_a, product_type="guarantee")
    f.LoanFactory(
        application=f.ApplicationFactory(product=unsupported, status="disbursed"),
        principal=Decimal("10000000"),
        start_date=date(2026, 5, 10),
    )
    reward = services.reward_claims_generate(year=2026)[0]
    f.claim_through_the_desks(reward, reviewer=cast.staff, approver=cast.finance, payer=cast.cashier)
    data = leverage_for_year(2026)
    # fiscal = 13,125.00 + 200,000.00 = 213,125.00 (paid in 2026, nothing recovered)
    # finance = loans of 2026 under supported products: 3,000,000 (credit: 贴息-eligible)
    #   + 50,000,000 (exclusive: counted for the reward); the guarantee loan is supported by none
    # ratio = 53,000,000 ÷ 213,125.00 = 248.68
    assert data["overall"]["fiscal"] == Decimal("213125.00")
    assert data["overall"]["finance"] == Decimal("53000000.00")
    assert data["overall"]["loans"] == 2
    assert data["overall"]["ratio"] == Decimal("248.68")
    assert {p["kind"] for p in data["policies"]} == {"interest", "reward"}
    assert leverage_for_year(2026, institution=cast.bank_b)["overall"]["fiscal"] == Decimal("0")
    body = api_for(cast.staff).get("/api/v1/subsidies/leverage/", {"year": 2026}).json()
    assert body["overall"]["ratio"] == "248.68" and body["definition"]
    assert (body["start"], body["end"]) == ("2026-01-01", "2026-12-31")
    bank = api_for(cast.manager_a).get("/api/v1/subsidies/leverage/", {"year": 2026}).json()
    assert bank["overall"]["fiscal"] == "213125.00"
    assert api_for(cast.staff).get("/api/v1/subsidies/leverage/", {"year": "20x6"}).status_code == 400


def test_the_ledger_page_shows_sums_of_entries(cast, client_for):
    policy = f.PolicyFactory(budget=Decimal("100000.00"))
    claim = make_claim(policy=policy)
    f.claim_through_the_desks(claim, reviewer=cast.staff, approver=cast.finance)
    page = client_for(cast.staff).get("/subsidies/ledger/", {"year": 2026}).content.decode()
    assert "10.00万元" in page  # budget
    assert "1.31万元" in page  # committed 13,125.00
    assert "8.69万元" in page  # remaining 86,875.00


def test_exports_have_chinese_headers_money_in_yuan_and_no_formulas(cast, client_for):
    evil = f.EnterpriseFactory(name='=HYPERLINK("http://x")公司')
    claim = make_claim(enterprise=evil)
    f.claim_through_the_desks(claim, reviewer=cast.staff, approver=cast.finance)
    c = client_for(cast.staff)
    wb = load_workbook(BytesIO(c.get("/subsidies/claims/export.xlsx").content))
    ws = wb.active
    headers = [cell.value for cell in ws[1]]
    assert headers[0] == "申领编号" and "核定金额（元）" in headers
    row = [cell for cell in ws[2]]
    amount = row[headers.index("核定金额（元）")]
    assert amount.value == 13125 and amount.number_format == "#,##0.00"
    assert row[headers.index("企业")].value.startswith("'=")
    wb = load_workbook(BytesIO(c.get("/subsidies/ledger/export.xlsx", {"year": 2026}).content))
    ws = wb.active
    assert ws["A1"].value == "分录编号" and ws["G1"].value == "金额（元）"
    assert ws["G2"].value == 13125 and ws["G2"].number_format == "#,##0.00"


# ------------------------------------------------------------------------------------------
# Query counts
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 50])
def test_the_claims_list_page_and_api_use_a_bounded_number_of_queries(
    cast, client_for, api_for, django_assert_max_num_queries, rows
):
    policy = f.PolicyFactory()
    for i in range(rows):
        make_claim(
            policy=policy,
            enterprise=cast.firm_a.enterprise if i % 2 else None,
            institution=cast.bank_a,
            period=(date(2026, 1, 1 + i % 28), date(2026, 3, 31)),
        )
    c = client_for(cast.staff)
    with django_assert_max_num_queries(12):
        assert c.get("/subsidies/claims/").status_code == 200
    api = api_for(cast.staff)
    with django_assert_max_num_queries(8):
        assert api.get("/api/v1/subsidies/claims/").status_code == 200
    firm = client_for(cast.firm_a)
    with django_assert_max_num_queries(14):
        assert firm.get("/subsidies/my-claims/").status_code == 200
    bank = client_for(cast.officer_a)
    with django_assert_max_num_queries(14):
        assert bank.get("/subsidies/bank/").status_code == 200
