"""Separation of duties for fiscal money (issue 20 item 2): the science desk (省级专班) authors
policies and reviews claims; the finance desk (财政专班) approves and pays; the maker of a step is
never its checker.

The flow is submitted (待初审) → reviewed (已初审) → approved | rejected → paid. Conflicts are
people who hold the duty but made an earlier step of the same money: a science-desk author or
reviewer who later moves to the finance desk, a bank officer seconded to the finance bureau who
recorded the loan, the approver paying. Every refusal is a 403 with its Chinese reason on the page
and in the API, and the claim is read back unchanged."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from portal.models import Role, Transition
from portal.services import NotAllowedError
from subsidies import services
from subsidies.models import Claim, LedgerEntry, Policy
from tests import factories as f
from tests.matching.test_loans import disbursed, repay

pytestmark = pytest.mark.django_db

POLICY_PARAMS = {
    "ratio": "0.50",
    "principal_cap_rate": "0.03",
    "firm_year_cap": "200000",
    "basis": 360,
    "eligible_product_types": ["credit"],
    "auto_claim": True,
    "require_on_time": True,
    "claim_period": "quarter",
}


def claim_on(loan, policy, *, amount="13125.00", period=(date(2026, 4, 1), date(2026, 6, 30))) -> Claim:
    """A submitted interest claim on ``loan`` under ``policy`` (as the firm's confirmation leaves it)."""
    return Claim.objects.create(
        policy=policy,
        kind="interest",
        loan=loan,
        enterprise=loan.application.enterprise,
        institution=loan.application.product.institution,
        year=period[0].year,
        period_start=period[0],
        period_end=period[1],
        amount=Decimal(amount),
        status=Claim.Status.SUBMITTED,
        explanation=["说明"],
    )


def a_loan(enterprise=None):
    fields = {"enterprise": enterprise} if enterprise else {}
    return f.LoanFactory(application=f.ApplicationFactory(status="disbursed", **fields))


def authored_policy(author) -> Policy:
    return services.policy_create(
        user=author,
        series="interest-2026",
        kind="interest",
        name="科技贷款贴息",
        parameters=POLICY_PARAMS,
        effective_from=date(2026, 1, 1),
        budget=Decimal("1000000.00"),
    )


def moves_to_finance(user):
    """The person is transferred to the finance desk (same account, new role)."""
    user.role = Role.FINANCE
    user.save(update_fields=["role"])
    return user


def unchanged(claim, status=Claim.Status.REVIEWED):
    """Read the refused claim back: still in ``status``, nobody recorded for the refused step, no
    ledger row beyond what ``status`` already holds."""
    claim.refresh_from_db()
    assert claim.status == status
    if status == Claim.Status.REVIEWED:
        assert claim.approved_by_id is None and claim.approved_at is None
    assert claim.paid_by_id is None and claim.paid_at is None
    kinds = {Claim.Status.REVIEWED: [], Claim.Status.APPROVED: ["commit"]}[status]
    assert list(LedgerEntry.objects.filter(claim=claim).values_list("kind", flat=True)) == kinds


# ------------------------------------------------------------------------------------------------
# Who wrote the policy version, or recorded the loan, cannot approve
# ------------------------------------------------------------------------------------------------


def test_the_policys_author_cannot_approve_its_claim_403_with_the_reason_and_the_claim_unchanged(
    cast, client_for, api_for, reauthed
):
    author = f.StaffFactory(username="author", first_name="马丽")
    policy = authored_policy(author)
    claim = services.claim_review(user=cast.staff, claim=claim_on(a_loan(), policy))
    moves_to_finance(author)

    page = reauthed(client_for(author)).post(f"/subsidies/claims/{claim.pk}/approve/")
    assert page.status_code == 403
    text = page.content.decode()
    assert "您创建或最后修改了本申领所依据的政策版本（科技贷款贴息 第 1 版），不能批准其下的申领" in text
    unchanged(claim)

    api = reauthed(api_for(author)).post(f"/api/v1/subsidies/claims/{claim.pk}/approve/")
    assert api.status_code == 403
    assert "不能批准其下的申领" in api.json()["detail"]
    unchanged(claim)

    # the detail page says so before they try, and offers no 批准 button
    detail = client_for(author).get(f"/subsidies/claims/{claim.pk}/").content.decode()
    assert "不能批准其下的申领" in detail and f"/subsidies/claims/{claim.pk}/approve/" not in detail

    # another finance user may
    services.claim_approve(user=cast.finance, claim=claim)
    claim.refresh_from_db()
    assert (claim.status, claim.approved_by) == (Claim.Status.APPROVED, cast.finance)


def test_the_last_editor_of_a_version_cannot_approve_claims_under_it(cast):
    policy = authored_policy(cast.staff)
    editor = f.StaffFactory(username="editor", first_name="王强")
    services.policy_new_version(
        user=editor,
        policy=policy,
        name="科技贷款贴息（修订）",
        parameters=POLICY_PARAMS,
        effective_from=date(2026, 7, 1),
        budget=Decimal("1000000.00"),
    )
    policy.refresh_from_db()
    # the new version cut the old one's period short: the editor is its last editor
    assert (policy.effective_to, policy.updated_by, policy.created_by) == (
        date(2026, 6, 30),
        editor,
        cast.staff,
    )
    claim = services.claim_review(user=cast.staff, claim=claim_on(a_loan(), policy))
    moves_to_finance(editor)
    with pytest.raises(
        NotAllowedError, match="您创建或最后修改了本申领所依据的政策版本（科技贷款贴息 第 1 版）"
    ):
        services.claim_approve(user=editor, claim=claim)
    unchanged(claim)


def test_who_recorded_the_loan_event_cannot_approve_a_claim_on_it(cast, client_for, reauthed):
    product = f.ProductFactory(institution=cast.bank_a)
    loan = disbursed(cast.firm_a, cast.officer_a, product)  # real transitions, by officer_a
    repay(loan, cast.officer_a2, on="2026-06-21", principal="0", interest="30000")
    assert services.loan_event_recorders(
        claim_on(loan, f.PolicyFactory(), period=(date(2026, 1, 1), date(2026, 3, 31)))
    ) == {
        cast.officer_a.pk: "放款登记",
        cast.officer_a2.pk: "还款登记",
    }
    claim = services.claim_review(user=cast.staff, claim=claim_on(loan, f.PolicyFactory()))
    moves_to_finance(cast.officer_a)  # seconded to the finance bureau
    response = reauthed(client_for(cast.officer_a)).post(f"/subsidies/claims/{claim.pk}/approve/")
    assert response.status_code == 403
    assert "您登记了本申领所依据的贷款事项（放款登记），不能批准该申领" in response.content.decode()
    unchanged(claim)
    moves_to_finance(cast.officer_a2)
    with pytest.raises(NotAllowedError, match="贷款事项（还款登记）"):
        services.claim_approve(user=cast.officer_a2, claim=claim)
    unchanged(claim)


def test_the_reviewer_cannot_also_approve(cast):
    reviewer = f.StaffFactory(username="reviewer")
    claim = services.claim_review(user=reviewer, claim=claim_on(a_loan(), f.PolicyFactory()))
    moves_to_finance(reviewer)
    with pytest.raises(NotAllowedError, match="初审与批准须由两名不同人员办理"):
        services.claim_approve(user=reviewer, claim=claim)
    unchanged(claim)


# ------------------------------------------------------------------------------------------------
# Approve and pay: two different finance users
# ------------------------------------------------------------------------------------------------


def test_approve_and_pay_by_the_same_user_is_refused(cast, client_for, api_for, reauthed):
    claim = f.claim_through_the_desks(
        claim_on(a_loan(), f.PolicyFactory()), reviewer=cast.staff, approver=cast.finance
    )
    page = reauthed(client_for(cast.finance)).post(f"/subsidies/claims/{claim.pk}/pay/")
    assert page.status_code == 403
    assert (
        "批准与拨付须由两名不同人员办理：您已批准本申领，请由另一名财政专班人员标记拨付。"
        in page.content.decode()
    )
    unchanged(claim, Claim.Status.APPROVED)
    api = api_for(cast.finance).post(f"/api/v1/subsidies/claims/{claim.pk}/pay/")
    assert api.status_code == 403 and "批准与拨付须由两名不同人员办理" in api.json()["detail"]
    unchanged(claim, Claim.Status.APPROVED)


def test_two_finance_users_pay_and_the_ledger_page_and_export_show_maker_and_checker(
    cast, client_for, reauthed
):
    cast.staff.first_name = "刘芳"
    cast.staff.save(update_fields=["first_name"])
    claim = claim_on(a_loan(), f.PolicyFactory(budget=Decimal("100000.00")))
    c = reauthed(client_for(cast.staff))
    assert c.post(f"/subsidies/claims/{claim.pk}/review/").status_code == 302
    assert (
        reauthed(client_for(cast.finance)).post(f"/subsidies/claims/{claim.pk}/approve/").status_code == 302
    )
    assert reauthed(client_for(cast.cashier)).post(f"/subsidies/claims/{claim.pk}/pay/").status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.reviewed_by, claim.approved_by, claim.paid_by) == (
        Claim.Status.PAID,
        cast.staff,
        cast.finance,
        cast.cashier,
    )
    rows = list(
        LedgerEntry.objects.filter(claim=claim)
        .order_by("id")
        .values_list("kind", "amount", "maker__first_name", "checker__first_name")
    )
    assert rows == [
        ("commit", Decimal("13125.00"), "刘芳", "郭建华"),
        ("pay", Decimal("13125.00"), "郭建华", "韩雪"),
    ]

    for viewer in (cast.staff, cast.finance):
        page = client_for(viewer).get("/subsidies/ledger/", {"year": 2026}).content.decode()
        assert "制单人" in page and "复核人" in page
        assert '<td class="small" data-maker>郭建华</td><td class="small" data-checker>韩雪</td>' in page
        assert '<td class="small" data-maker>刘芳</td><td class="small" data-checker>郭建华</td>' in page

    ws = load_workbook(BytesIO(c.get("/subsidies/ledger/export.xlsx", {"year": 2026}).content)).active
    headers = [cell.value for cell in ws[1]]
    exported = {
        (row[headers.index("类型")], row[headers.index("制单人")], row[headers.index("复核人")])
        for row in ws.iter_rows(min_row=2, values_only=True)
    }
    assert exported == {("预算占用", "刘芳", "郭建华"), ("拨付", "郭建华", "韩雪")}

    ws = load_workbook(BytesIO(c.get("/subsidies/claims/export.xlsx").content)).active
    headers = [cell.value for cell in ws[1]]
    row = next(ws.iter_rows(min_row=2, values_only=True))
    assert (row[headers.index("初审人")], row[headers.index("审批人")], row[headers.index("拨付人")]) == (
        "刘芳",
        "郭建华",
        "韩雪",
    )

    detail = client_for(cast.finance).get(f"/subsidies/claims/{claim.pk}/").content.decode()
    assert "刘芳" in detail and "郭建华" in detail and "韩雪" in detail


def test_every_step_is_in_the_audit_log_with_both_names(cast):
    from portal.models import AuditEvent

    cast.staff.first_name = "刘芳"
    cast.staff.save(update_fields=["first_name"])
    firm = cast.firm_a
    claim = claim_on(a_loan(firm.enterprise), f.PolicyFactory())
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.AWAITING_CONFIRMATION)
    services.claim_confirm(
        user=firm, claim=claim, payee_name="甲", payee_bank="中行", payee_account="6216000011112222"
    )
    f.claim_through_the_desks(claim, reviewer=cast.staff, approver=cast.finance, payer=cast.cashier)
    steps = {
        t.to_state: (t.actor.first_name, t.data.get("maker"), t.data.get("checker"), t.note)
        for t in Transition.objects.filter(content_type__model="claim", object_id=claim.pk)
        if t.to_state in ("reviewed", "approved", "paid")
    }
    assert steps == {
        "reviewed": ("刘芳", firm.display_name, "刘芳", f"提交人：{firm.display_name}；初审人：刘芳"),
        "approved": ("郭建华", "刘芳", "郭建华", "初审人：刘芳；批准人：郭建华"),
        "paid": ("韩雪", "郭建华", "韩雪", "批准人：郭建华；拨付人：韩雪"),
    }
    audited = {
        e.to_state: (e.username, e.detail["data"]["maker"], e.detail["data"]["checker"])
        for e in AuditEvent.objects.filter(object_type="subsidies.claim", object_id=str(claim.pk))
        if e.to_state in ("reviewed", "approved", "paid")
    }
    assert audited == {
        "reviewed": ("staff", firm.display_name, "刘芳"),
        "approved": ("finance", "刘芳", "郭建华"),
        "paid": ("cashier", "郭建华", "韩雪"),
    }


# ------------------------------------------------------------------------------------------------
# The duties themselves: staff cannot approve or pay; finance cannot author policies or review
# ------------------------------------------------------------------------------------------------


def test_staff_cannot_approve_or_pay(cast, client_for, api_for, reauthed):
    claim = services.claim_review(user=cast.staff, claim=claim_on(a_loan(), f.PolicyFactory()))
    c = reauthed(client_for(cast.staff))
    response = c.post(f"/subsidies/claims/{claim.pk}/approve/")
    assert response.status_code == 403
    assert "只有财政专班可以批准或退回已初审的申领" in response.content.decode()
    unchanged(claim)
    api = reauthed(api_for(cast.staff)).post(f"/api/v1/subsidies/claims/{claim.pk}/approve/")
    assert api.status_code == 403 and api.json()["detail"] == "只有财政专班可以批准或退回已初审的申领"
    unchanged(claim)
    services.claim_approve(user=cast.finance, claim=claim)
    response = c.post(f"/subsidies/claims/{claim.pk}/pay/")
    assert response.status_code == 403 and "只有财政专班可以标记拨付" in response.content.decode()
    unchanged(claim, Claim.Status.APPROVED)


def test_finance_cannot_author_policies_nor_review_claims(cast, client_for, api_for, reauthed):
    policy = f.PolicyFactory()
    fin = reauthed(client_for(cast.finance))
    assert fin.get("/subsidies/policies/new/").status_code == 403
    assert fin.post("/subsidies/policies/new/", {"series": "x", "name": "x"}).status_code == 403
    assert fin.get(f"/subsidies/policies/{policy.pk}/edit/").status_code == 403
    # they may read the policies (to check a claim against its version), without edit buttons
    detail = fin.get(f"/subsidies/policies/{policy.pk}/").content.decode()
    assert policy.name in detail and f"/subsidies/policies/{policy.pk}/edit/" not in detail
    assert "/subsidies/policies/new/" not in fin.get("/subsidies/policies/").content.decode()
    with pytest.raises(NotAllowedError, match="只有省级专班（科技口）可以编写和修改补贴政策"):
        authored_policy(cast.finance)
    with pytest.raises(NotAllowedError, match="只有省级专班（科技口）可以编写和修改补贴政策"):
        services.policy_new_version(
            user=cast.finance,
            policy=policy,
            name="改",
            parameters=POLICY_PARAMS,
            effective_from=date(2026, 7, 1),
            budget=Decimal("1"),
        )
    assert list(Policy.objects.values_list("pk", "is_active", "version")) == [(policy.pk, True, 1)]

    claim = claim_on(a_loan(), policy)
    response = fin.post(f"/subsidies/claims/{claim.pk}/review/")
    assert response.status_code == 403 and "只有省级专班（科技口）可以初审申领" in response.content.decode()
    # nor approve a claim nobody reviewed
    api = reauthed(api_for(cast.finance)).post(f"/api/v1/subsidies/claims/{claim.pk}/approve/")
    assert api.status_code == 409 and "尚未初审" in api.json()["detail"]
    claim.refresh_from_db()
    assert (claim.status, claim.reviewed_by_id) == (Claim.Status.SUBMITTED, None)


def test_the_finance_desk_rejects_a_reviewed_claim_and_the_science_desk_cannot(cast, api_for, reauthed):
    claim = services.claim_review(user=cast.staff, claim=claim_on(a_loan(), f.PolicyFactory()))
    staff = reauthed(api_for(cast.staff)).post(
        f"/api/v1/subsidies/claims/{claim.pk}/reject/", {"reason": "x"}
    )
    assert staff.status_code == 403 and "只有财政专班" in staff.json()["detail"]
    unchanged(claim)
    r = reauthed(api_for(cast.finance)).post(
        f"/api/v1/subsidies/claims/{claim.pk}/reject/", {"reason": "材料不符"}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    claim.refresh_from_db()
    assert (claim.reviewed_by, claim.approved_by, claim.reject_reason) == (
        cast.staff,
        cast.finance,
        "材料不符",
    )
    assert not LedgerEntry.objects.filter(claim=claim).exists()


def test_the_role_table_grants_djangos_permissions(cast):
    assert cast.staff.has_perm("subsidies.author_policy") and cast.staff.has_perm("subsidies.review_claim")
    assert not cast.staff.has_perm("subsidies.approve_claim") and not cast.staff.has_perm(
        "subsidies.pay_claim"
    )
    assert cast.finance.has_perm("subsidies.approve_claim") and cast.finance.has_perm("subsidies.pay_claim")
    assert not cast.finance.has_perm("subsidies.author_policy")
    assert not cast.officer_a.has_perm("subsidies.review_claim")


def test_reviewing_tells_the_finance_desk(cast):
    from portal.models import Notification

    claim = services.claim_review(user=cast.staff, claim=claim_on(a_loan(), f.PolicyFactory()))
    titles = set(Notification.objects.filter(user=cast.cashier).values_list("title", flat=True))
    assert titles == {f"申领 #{claim.pk} 已初审，待批准：13,125.00元"}


def test_each_desk_sees_the_claims_waiting_for_its_step(cast, client_for):
    policy = f.PolicyFactory()
    claim_on(a_loan(), policy)  # 待初审
    services.claim_review(
        user=cast.staff, claim=claim_on(a_loan(), policy, period=(date(2026, 1, 1), date(2026, 3, 31)))
    )

    def todo(user):
        page = client_for(user).get("/subsidies/claims/").content.decode()
        start = page.index("data-desk-todo")
        return page[start : page.index("</p>", start)]

    assert "待初审 1 笔" in todo(cast.staff) and "待批准" not in todo(cast.staff)
    assert "已初审（待批准） 1 笔" in todo(cast.finance) and "已批准 0 笔" in todo(cast.finance)
    assert "待初审" not in todo(cast.finance)
