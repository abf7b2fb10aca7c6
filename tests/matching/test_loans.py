"""Loans that cannot be impossible, and their state visible to everyone concerned.

Every loan here is built through the real transitions (submit → accept → approve → disburse, then
repay / default) on a frozen clock: approved 2026-03-02, disbursed 300万元 from 2026-03-05 to
2026-09-05. A refused action is checked on the rows (Loan, Repayment, the application's status, its
timeline), not only on the status code."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from matching.models import Application, Loan, Repayment
from matching.services.applications import application_submit
from matching.services.review import application_transition
from portal.models import Transition
from tests import factories as f

pytestmark = pytest.mark.django_db

APPROVED_AT = "2026-03-02 10:00 +08:00"
START, MATURITY = date(2026, 3, 5), date(2026, 9, 5)


@pytest.fixture
def product_a(cast):
    return f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")


@pytest.fixture
def product_b(cast):
    return f.ProductFactory(institution=cast.bank_b, name="乙行科创贷")


def approved(firm_user, officer, product) -> Application:
    """An application of ``firm_user`` approved by ``officer`` on 2026-03-02 for 300万元, 12 months."""
    with time_machine.travel(APPROVED_AT):
        app = application_submit(
            user=firm_user,
            product=product,
            amount=Decimal("3000000"),
            term_months=12,
            purpose="rd",
            share_profile=True,
        )
        app = application_transition(user=officer, application=app, action="accept")
        return application_transition(
            user=officer,
            application=app,
            action="approve",
            credit_line="3000000.00",
            annual_rate="4.000",
            term_months=12,
        )


def signed(firm_user, officer, product) -> Application:
    """``approved``, then accepted by the firm (签约确认) on 2026-03-04."""
    app = approved(firm_user, officer, product)
    with time_machine.travel("2026-03-04 10:00 +08:00"):
        return f.sign_offer(app, firm_user)


def disbursed(firm_user, officer, product) -> Loan:
    app = signed(firm_user, officer, product)
    with time_machine.travel("2026-03-05 15:00 +08:00"):
        application_transition(
            user=officer,
            application=app,
            action="disburse",
            principal="3000000.00",
            annual_rate="4.000",
            start_date=START,
            maturity_date=MATURITY,
        )
    return Loan.objects.get(application=app)


def repay(loan, officer, *, on: str, principal: str, interest: str = "0"):
    with time_machine.travel(f"{on} 16:00 +08:00"):
        return application_transition(
            user=officer,
            application=loan.application,
            action="repay",
            date=date.fromisoformat(on),
            principal=principal,
            interest=interest,
        )


@pytest.fixture
def loan_a(cast, product_a) -> Loan:
    return disbursed(cast.firm_a, cast.officer_a, product_a)


def transition_api(api, app, **body):
    return api.post(f"/api/v1/applications/{app.pk}/transition/", body, format="json")


def bank_page_action(client, app, **form):
    return client.post(f"/bank/applications/{app.pk}/transition/", form)


# ---------------------------------------------------------------------------------------------------
# Disbursement: start between the approval date and today, maturity after the start
# ---------------------------------------------------------------------------------------------------

DISBURSE = {
    "action": "disburse",
    "principal": "3000000.00",
    "annual_rate": "4.000",
    "start_date": "2026-03-05",
    "maturity_date": "2026-09-05",
}
IMPOSSIBLE_DISBURSEMENTS = [
    # (what is wrong, the fields sent, the field refused, words of the message)
    (
        "before the application existed",
        {"start_date": "2024-01-01"},
        "start_date",
        "不能早于授信日期（2026-03-02）",
    ),
    ("a day before the approval", {"start_date": "2026-03-01"}, "start_date", "不能早于授信日期"),
    ("in the future", {"start_date": "2026-03-11"}, "start_date", "不能晚于今天（2026-03-10）"),
    ("maturity on the start", {"maturity_date": "2026-03-05"}, "maturity_date", "必须晚于起息日"),
    ("maturity before the start", {"maturity_date": "2026-03-04"}, "maturity_date", "必须晚于起息日"),
]


def assert_not_disbursed(app, status=Application.Status.SIGNED):
    app.refresh_from_db()
    assert app.status == status
    assert not Loan.objects.filter(application=app).exists()
    assert not Transition.objects.filter(object_id=app.pk, to_state="disbursed").exists()


@pytest.mark.parametrize(
    ("case", "change", "field", "words"),
    IMPOSSIBLE_DISBURSEMENTS,
    ids=[c[0] for c in IMPOSSIBLE_DISBURSEMENTS],
)
def test_an_impossible_disbursement_is_refused_through_the_api_and_nothing_is_saved(
    cast, product_a, api_for, case, change, field, words
):
    app = signed(cast.firm_a, cast.officer_a, product_a)
    with time_machine.travel("2026-03-10 10:00 +08:00"):
        response = transition_api(api_for(cast.officer_a), app, **{**DISBURSE, **change})
    assert response.status_code == 400, response.content
    assert words in response.json()[field][0]
    assert_not_disbursed(app)


@pytest.mark.parametrize(
    ("case", "change", "field", "words"),
    IMPOSSIBLE_DISBURSEMENTS,
    ids=[c[0] for c in IMPOSSIBLE_DISBURSEMENTS],
)
def test_an_impossible_disbursement_is_refused_on_the_bank_page_under_its_field(
    cast, product_a, client_for, case, change, field, words
):
    app = signed(cast.firm_a, cast.officer_a, product_a)
    with time_machine.travel("2026-03-10 10:00 +08:00"):
        response = bank_page_action(
            client_for(cast.officer_a), app, **{**DISBURSE, "principal": "300", **change}
        )
    assert response.status_code == 400
    form = response.context["open_action"], response.context["actions"]
    disburse_form = next(f for name, _label, f in form[1] if name == "disburse")
    assert form[0] == "disburse" and words in disburse_form.errors[field][0]
    assert words in response.content.decode()
    assert_not_disbursed(app)


def test_a_disbursement_above_the_credit_line_quotes_the_amounts_in_the_unit_of_the_form(
    cast, product_a, api_for, client_for
):
    app = signed(cast.firm_a, cast.officer_a, product_a)
    with time_machine.travel("2026-03-10 10:00 +08:00"):
        api = transition_api(api_for(cast.officer_a), app, **{**DISBURSE, "principal": "3500000.00"})
        page = bank_page_action(client_for(cast.officer_a), app, **{**DISBURSE, "principal": "350"})
    assert api.status_code == 400
    assert api.json()["principal"] == ["放款本金（3,500,000.00元）不能超过授信额度（3,000,000.00元）。"]
    assert page.status_code == 400
    assert "放款本金（350.00万元）不能超过授信额度（300.00万元）。" in page.content.decode()
    assert_not_disbursed(app)


def test_a_disbursement_on_the_approval_day_and_one_today_are_both_possible(cast, product_a, api_for):
    first = approved(cast.firm_a, cast.officer_a, product_a)
    with time_machine.travel("2026-03-02 16:00 +08:00"):
        f.sign_offer(first, cast.firm_a)  # signed the day it was approved
    with time_machine.travel("2026-03-02 17:00 +08:00"):
        response = transition_api(api_for(cast.officer_a), first, **{**DISBURSE, "start_date": "2026-03-02"})
    assert response.status_code == 200, response.content
    assert Loan.objects.get(application=first).start_date == date(2026, 3, 2)


# ---------------------------------------------------------------------------------------------------
# Repayments and defaults: dated between the start and today, never more than is outstanding
# ---------------------------------------------------------------------------------------------------

IMPOSSIBLE_REPAYMENTS = [
    ("dated in the future", {"date": "2027-06-01"}, "date", "不能晚于今天（2026-06-10）"),
    ("dated tomorrow", {"date": "2026-06-11"}, "date", "不能晚于今天"),
    ("dated before the start", {"date": "2026-03-04"}, "date", "不能早于起息日（2026-03-05）"),
]


def assert_repayments_unchanged(loan, *, count: int, status="active"):
    loan.refresh_from_db()
    assert Repayment.objects.filter(loan=loan).count() == count
    assert loan.status == status
    assert loan.application.status == "disbursed"


@pytest.mark.parametrize(
    ("case", "change", "field", "words"), IMPOSSIBLE_REPAYMENTS, ids=[c[0] for c in IMPOSSIBLE_REPAYMENTS]
)
def test_an_impossible_repayment_date_is_refused_through_the_api_and_the_page(
    cast, loan_a, api_for, client_for, case, change, field, words
):
    body = {"action": "repay", "date": "2026-06-05", "principal": "500000.00", "interest": "30000.00"}
    with time_machine.travel("2026-06-10 10:00 +08:00"):
        api = transition_api(api_for(cast.officer_a), loan_a.application, **{**body, **change})
        page = bank_page_action(
            client_for(cast.officer_a),
            loan_a.application,
            **{**body, "principal": "50", "interest": "3", **change},
        )
    assert api.status_code == 400 and words in api.json()[field][0]
    assert page.status_code == 400 and words in page.content.decode()
    repay_form = next(f for name, _label, f in page.context["actions"] if name == "repay")
    assert words in repay_form.errors[field][0]
    assert_repayments_unchanged(loan_a, count=0)


def test_repaying_more_than_is_outstanding_is_refused_quoting_the_outstanding_in_the_forms_unit(
    cast, loan_a, api_for, client_for
):
    repay(loan_a, cast.officer_a, on="2026-06-05", principal="500000.00", interest="30000.00")
    body = {"action": "repay", "date": "2026-06-08", "principal": "2600000.00"}
    with time_machine.travel("2026-06-10 10:00 +08:00"):
        api = transition_api(api_for(cast.officer_a), loan_a.application, **body)
        page = bank_page_action(
            client_for(cast.officer_a), loan_a.application, **{**body, "principal": "260", "interest": "0"}
        )
    assert api.status_code == 400
    assert api.json()["principal"] == ["归还本金（2,600,000.00元）超过未偿本金（2,500,000.00元）。"]
    assert page.status_code == 400
    html = page.content.decode()
    assert "归还本金（260.00万元）超过未偿本金（250.00万元）。" in html
    assert "元）" not in html.replace("万元）", "")  # no yuan under a field labelled 万元
    assert_repayments_unchanged(loan_a, count=1)
    assert Loan.objects.get(pk=loan_a.pk).outstanding_principal == Decimal("2500000.00")


def test_a_default_dated_in_the_future_or_before_the_start_is_refused(cast, loan_a, api_for):
    api = api_for(cast.manager_a)
    with time_machine.travel("2026-06-10 10:00 +08:00"):
        future = transition_api(
            api, loan_a.application, action="default", date="2026-07-01", outstanding_principal="3000000"
        )
        early = transition_api(
            api, loan_a.application, action="default", date="2026-03-01", outstanding_principal="3000000"
        )
    assert future.status_code == 400 and "不能晚于今天" in future.json()["date"][0]
    assert early.status_code == 400 and "不能早于起息日" in early.json()["date"][0]
    loan_a.refresh_from_db()
    assert loan_a.status == "active" and loan_a.defaulted_on is None


# ---------------------------------------------------------------------------------------------------
# Overdue (逾期): computed from the clock, shown on both pages and in the API
# ---------------------------------------------------------------------------------------------------


def test_a_loan_past_maturity_with_principal_outstanding_reads_overdue_everywhere(
    cast, loan_a, api_for, client_for
):
    repay(loan_a, cast.officer_a, on="2026-06-05", principal="500000.00", interest="30000.00")
    with time_machine.travel("2026-09-05 18:00 +08:00"):  # the maturity day itself: still due, not late
        assert api_for(cast.firm_a).get(f"/api/v1/loans/{loan_a.pk}/").json()["status"] == "normal"
    with time_machine.travel("2026-09-10 10:00 +08:00"):
        body = api_for(cast.firm_a).get(f"/api/v1/loans/{loan_a.pk}/").json()
        firm_page = client_for(cast.firm_a).get(f"/firm/applications/{loan_a.application_id}/")
        bank_page = client_for(cast.officer_a).get(f"/bank/applications/{loan_a.application_id}/")
        overdue_ids = [
            row["id"] for row in api_for(cast.staff).get("/api/v1/loans/?status=overdue").json()["results"]
        ]
        normal_ids = [
            row["id"] for row in api_for(cast.staff).get("/api/v1/loans/?status=normal").json()["results"]
        ]
    assert body["status"] == "overdue"
    assert (body["outstanding_principal"], body["repaid_principal"]) == ("2500000.00", "500000.00")
    for page in (firm_page, bank_page):
        html = page.content.decode()
        assert page.status_code == 200
        assert 'data-loan-status="overdue">逾期<' in html
        assert "已逾期：贷款于 2026-09-05 到期，尚有未偿本金 250.00万元" in html
        assert "data-loan-outstanding>250.00万元<" in html
    assert overdue_ids == [loan_a.pk] and normal_ids == []
    assert Loan.objects.get(pk=loan_a.pk).status == "active"  # overdue is read, never stored


def test_an_overdue_loan_repaid_in_full_is_repaid_and_one_in_default_is_defaulted(
    cast, product_a, loan_a, api_for
):
    repay(loan_a, cast.officer_a, on="2026-09-12", principal="3000000.00", interest="61000.00")
    other = disbursed(cast.firm_a, cast.officer_a, f.ProductFactory(institution=cast.bank_a))
    with time_machine.travel("2026-10-01 10:00 +08:00"):
        application_transition(
            user=cast.manager_a,
            application=other.application,
            action="default",
            date=date(2026, 9, 30),
            outstanding_principal="3000000.00",
        )
        rows = {r["id"]: r for r in api_for(cast.firm_a).get("/api/v1/loans/").json()["results"]}
    assert rows[loan_a.pk]["status"] == "repaid" and rows[loan_a.pk]["outstanding_principal"] == "0.00"
    assert rows[other.pk]["status"] == "defaulted"


def test_the_loan_api_gives_the_contract_fields_with_the_repayments(cast, loan_a, api_for):
    repay(loan_a, cast.officer_a, on="2026-06-05", principal="500000.00", interest="30000.00")
    repay(loan_a, cast.officer_a, on="2026-06-20", principal="0", interest="4000.00")
    with time_machine.travel("2026-07-01 10:00 +08:00"):
        body = api_for(cast.officer_a).get(f"/api/v1/loans/{loan_a.pk}/").json()
    assert body == {
        "id": loan_a.pk,
        "application": loan_a.application_id,
        "product": loan_a.application.product_id,
        "principal": "3000000.00",
        "annual_rate": "4.000",
        "start_date": "2026-03-05",
        "maturity_date": "2026-09-05",
        "repaid_principal": "500000.00",
        "outstanding_principal": "2500000.00",
        "interest_paid": "34000.00",
        "status": "normal",
        "next_due": "2026-09-05",
        "renewal_need": None,
        "repayments": [
            {"date": "2026-06-05", "principal": "500000.00", "interest": "30000.00"},
            {"date": "2026-06-20", "principal": "0.00", "interest": "4000.00"},
        ],
    }


# ---------------------------------------------------------------------------------------------------
# Who sees which loan
# ---------------------------------------------------------------------------------------------------


def test_the_loans_api_shows_each_role_its_own_loans_and_hides_the_rest(
    cast, product_a, product_b, loan_a, api_for
):
    loan_b = disbursed(cast.firm_b, cast.officer_b, product_b)

    def ids(user):
        body = api_for(user).get("/api/v1/loans/").json()
        assert body["count"] == len(body["results"])  # paginated like every list
        return {row["id"] for row in body["results"]}

    assert ids(cast.firm_a) == {loan_a.pk}
    assert ids(cast.firm_b) == {loan_b.pk}
    assert ids(cast.officer_a) == ids(cast.manager_a) == {loan_a.pk}
    assert ids(cast.officer_b) == {loan_b.pk}
    assert ids(cast.staff) == {loan_a.pk, loan_b.pk}
    assert api_for(cast.officer_b).get(f"/api/v1/loans/{loan_a.pk}/").status_code == 404
    assert api_for(cast.firm_b).get(f"/api/v1/loans/{loan_a.pk}/").status_code == 404
    assert api_for(cast.officer_a).get(f"/api/v1/loans/{loan_b.pk}/").status_code == 404
    assert api_for(cast.staff).get(f"/api/v1/loans/{loan_a.pk}/").status_code == 200
    assert api_for(None).get("/api/v1/loans/").status_code in (401, 403)


# ---------------------------------------------------------------------------------------------------
# The timeline: each repayment its own entry
# ---------------------------------------------------------------------------------------------------


def test_each_repayment_is_its_own_timeline_entry_with_the_principal_left(cast, loan_a, client_for, api_for):
    repay(loan_a, cast.officer_a, on="2026-06-05", principal="500000.00", interest="30000.00")
    repay(loan_a, cast.officer_a, on="2026-06-20", principal="0", interest="4000.00")
    repay(loan_a, cast.officer_a, on="2026-07-01", principal="1000000.00")
    with time_machine.travel("2026-07-02 10:00 +08:00"):
        firm = client_for(cast.firm_a).get(f"/firm/applications/{loan_a.application_id}/").content.decode()
        bank = client_for(cast.officer_a).get(f"/bank/applications/{loan_a.application_id}/").content.decode()
        staff = client_for(cast.staff).get(f"/dashboard/applications/{loan_a.application_id}/")
    for html in (firm, bank):
        first = html.index("还款 50.00万元，剩余本金 250.00万元")
        second = html.index("付息 0.40万元，剩余本金 250.00万元")
        third = html.index("还款 100.00万元，剩余本金 150.00万元")
        assert first < second < third
        assert "已放款 → 已放款" not in html
    assert staff.status_code == 200 and "还款 100.00万元，剩余本金 150.00万元" in staff.content.decode()


@pytest.mark.parametrize("rows", [3, 12])
def test_the_loans_list_keeps_a_constant_number_of_queries(
    cast, api_for, django_assert_max_num_queries, rows
):
    """Query counts only: these loans come from the factories (the transitions are tested above)."""
    for _ in range(rows):
        loan = f.LoanFactory(
            application=f.ApplicationFactory(
                enterprise=cast.firm_a.enterprise,
                product=f.ProductFactory(institution=cast.bank_a),
                status="disbursed",
            )
        )
        f.RepaymentFactory(loan=loan)
    api = api_for(cast.officer_a)
    with django_assert_max_num_queries(6):
        body = api.get("/api/v1/loans/").json()
    assert body["count"] == rows and all(len(r["repayments"]) == 1 for r in body["results"])
