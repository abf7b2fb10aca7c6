"""The application lifecycle, table-driven: every bank action from every state, legal and illegal,
through POST /api/v1/applications/{id}/transition/. (The firm's one step, signing an offer, and
the offer's expiry are in tests/matching/test_offers.py.)"""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from matching.models import Application, Loan, Repayment
from matching.services.review import BANK, TRANSITIONS
from portal.models import Notification, Transition
from tests.lenders.conftest import make_application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    """Every test here runs on 2027-03-01 (Beijing): applications are approved that day, the loans
    ``make_application`` disburses started 2026-01-10, and no date below is in the future."""
    with time_machine.travel("2027-03-01 10:00 +08:00"):
        yield


VALID = {
    "accept": {"note": "材料齐全，予以受理"},
    "request_documents": {"note": "请补充近三年财务报表"},
    "approve": {"credit_line": "2500000.00", "annual_rate": "4.200", "term_months": 12},
    "reject": {"reason_code": "leverage", "note": "资产负债率偏高"},
    "disburse": {
        "principal": "2000000.00",
        "annual_rate": "4.200",
        "start_date": "2027-03-01",
        "maturity_date": "2028-03-01",
    },
    "repay": {"date": "2026-12-01", "principal": "1000000.00", "interest": "10000.00"},
    "default": {"date": "2026-12-15", "outstanding_principal": "2500000.00"},
}
LEGAL = {
    ("submitted", "accept"): "accepted",
    ("submitted", "reject"): "rejected",
    ("accepted", "request_documents"): "accepted",
    ("accepted", "approve"): "approved",
    ("accepted", "reject"): "rejected",
    ("signed", "disburse"): "disbursed",
    ("disbursed", "repay"): "disbursed",
    ("disbursed", "default"): "defaulted",
}
BANK_ACTIONS = [a for a, spec in TRANSITIONS.items() if spec.roles & BANK]
NOT_BANK = {("approved", "sign"): "signed", ("approved", "expire"): "expired"}  # the firm, the sweep
CASES = [(s, a) for s in Application.Status.values for a in BANK_ACTIONS]
#: refusals that say more than "state X cannot do Y"
SPECIFIC = {("approved", "disburse"): "企业尚未签约确认", ("expired", "disburse"): "已过期"}


def test_the_table_in_the_service_is_the_table_in_the_test():
    assert {
        (s, a) for s in Application.Status.values for a, spec in TRANSITIONS.items() if s in spec.sources
    } == set(LEGAL) | set(NOT_BANK)


@pytest.mark.parametrize(("state", "action"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_every_action_from_every_state(cast, product_a, api_for, reauthed, state, action):
    app = make_application(cast, product_a, status=state)
    before = Transition.objects.count()
    response = reauthed(api_for(cast.officer_a)).post(
        f"/api/v1/applications/{app.pk}/transition/", {"action": action, **VALID[action]}, format="json"
    )
    app.refresh_from_db()
    if (state, action) in LEGAL:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == LEGAL[(state, action)] == app.status
        assert Transition.objects.count() == before + 1
        assert Notification.objects.filter(user=cast.firm_a).exists()
    else:
        assert response.status_code == 409, response.content
        assert SPECIFIC.get((state, action), "不能执行") in response.json()["detail"]
        assert app.status == state
        assert Transition.objects.count() == before


@pytest.mark.parametrize("who", ["firm_a", "staff"])
def test_firms_and_staff_get_403_on_every_action(cast, product_a, api_for, who):
    app = make_application(cast, product_a, status="submitted")
    for action in BANK_ACTIONS:
        response = api_for(getattr(cast, who)).post(
            f"/api/v1/applications/{app.pk}/transition/", {"action": action, **VALID[action]}, format="json"
        )
        assert response.status_code == 403, (action, response.content)
    assert Application.objects.get(pk=app.pk).status == "submitted"


def test_another_bank_gets_404_on_the_application(cast, product_a, api_for, client_for):
    app = make_application(cast, product_a)
    response = api_for(cast.officer_b).post(
        f"/api/v1/applications/{app.pk}/transition/", {"action": "accept"}, format="json"
    )
    assert response.status_code == 404
    assert client_for(cast.officer_b).get(f"/bank/applications/{app.pk}/").status_code == 404
    assert client_for(cast.staff).get(f"/bank/applications/{app.pk}/").status_code == 200


def post(api, app, **body):
    return api.post(f"/api/v1/applications/{app.pk}/transition/", body, format="json")


def test_approval_above_the_amount_applied_for_needs_confirmation(cast, product_a, api_for, reauthed):
    app = make_application(cast, product_a, status="accepted")
    api = reauthed(api_for(cast.officer_a))
    over = post(api, app, action="approve", credit_line="3500000.00", annual_rate="4.0", term_months=12)
    assert over.status_code == 400 and "credit_line" in over.json()
    ok = post(
        api,
        app,
        action="approve",
        credit_line="3500000.00",
        annual_rate="4.0",
        term_months=12,
        confirm_over_request=True,
    )
    assert ok.status_code == 200 and ok.json()["credit_line"] == "3500000.00"


def test_the_rate_must_lie_within_the_product_range(cast, product_a, api_for, reauthed):
    app = make_application(cast, product_a, status="accepted")
    response = post(
        reauthed(api_for(cast.officer_a)),
        app,
        action="approve",
        credit_line="1000000",
        annual_rate="7.5",
        term_months=12,
    )
    assert response.status_code == 400 and "利率" in response.json()["detail"]


def test_disbursement_cannot_exceed_the_credit_line_and_maturity_follows_start(cast, product_a, api_for):
    app = make_application(cast, product_a, status="signed")
    api = api_for(cast.officer_a)
    too_much = post(api, app, **{**VALID["disburse"], "action": "disburse", "principal": "3000000.01"})
    assert too_much.status_code == 400
    backwards = post(api, app, **{**VALID["disburse"], "action": "disburse", "maturity_date": "2026-10-01"})
    assert backwards.status_code == 400
    assert not Loan.objects.filter(application=app).exists()


def test_repayments_until_fully_repaid_close_the_loan_and_a_late_one_is_not_on_time(cast, product_a, api_for):
    app = make_application(cast, product_a, status="disbursed")
    api = api_for(cast.officer_a)
    first = post(api, app, action="repay", date="2026-06-10", principal="1000000.00", interest="60000.00")
    assert first.status_code == 200 and first.json()["status"] == "disbursed"
    last = post(api, app, action="repay", date="2027-02-01", principal="2000000.00", interest="70000.00")
    assert last.status_code == 200, last.content
    assert last.json()["status"] == "repaid" and last.json()["loan"]["status"] == "repaid"
    loan = Loan.objects.get(application=app)
    assert loan.repaid_on == date(2027, 2, 1)
    assert list(
        Repayment.objects.filter(loan=loan).values_list("on_time", flat=True).order_by("paid_on")
    ) == [True, False]
    again = post(api, app, action="repay", date="2027-02-02", principal="1.00")
    assert again.status_code == 409


def test_repaying_more_than_is_outstanding_is_refused(cast, product_a, api_for):
    app = make_application(cast, product_a, status="disbursed")
    response = post(api_for(cast.officer_a), app, action="repay", date="2026-06-10", principal="3000000.01")
    assert response.status_code == 400


def test_a_default_records_date_and_outstanding_principal(cast, product_a, api_for):
    app = make_application(cast, product_a, status="disbursed")
    response = post(
        api_for(cast.manager_a), app, action="default", date="2026-09-30", outstanding_principal="2800000.00"
    )
    assert response.status_code == 200
    loan = Loan.objects.get(application=app)
    assert loan.status == "defaulted" and loan.defaulted_on == date(2026, 9, 30)
    assert loan.outstanding_at_default == Decimal("2800000.00")


def test_an_unknown_action_is_400(cast, product_a, api_for):
    app = make_application(cast, product_a)
    assert post(api_for(cast.officer_a), app, action="teleport").status_code == 400


def test_the_review_page_shows_documents_and_timeline_and_runs_actions_in_wan(
    cast, product_a, client_for, reauthed
):
    app = make_application(cast, product_a, status="accepted")
    c = reauthed(client_for(cast.officer_a))
    page = c.get(f"/bank/applications/{app.pk}/")
    assert page.status_code == 200 and 'data-action-panel="approve"' in page.content.decode()
    response = c.post(
        f"/bank/applications/{app.pk}/transition/",
        {"action": "approve", "credit_line": "250", "annual_rate": "4.1", "term_months": "12"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == "approved" and app.credit_line == Decimal("2500000.00")


def test_a_bad_form_on_the_review_page_saves_nothing_and_shows_a_chinese_error(
    cast, product_a, client_for, reauthed
):
    app = make_application(cast, product_a, status="accepted")
    response = reauthed(client_for(cast.officer_a)).post(
        f"/bank/applications/{app.pk}/transition/",
        {"action": "approve", "credit_line": "900", "annual_rate": "4.1", "term_months": "12"},
    )
    assert response.status_code == 400
    assert "勾选确认" in response.content.decode()
    assert Application.objects.get(pk=app.pk).status == "accepted"


def test_the_application_list_api_shows_an_officer_its_institutions_applications_only(
    cast, product_a, product_b, api_for
):
    mine = make_application(cast, product_a)
    theirs = make_application(cast, product_b)
    ids = {a["id"] for a in api_for(cast.officer_a).get("/api/v1/applications/").json()["results"]}
    assert mine.pk in ids and theirs.pk not in ids
    assert api_for(cast.officer_a).get(f"/api/v1/applications/{theirs.pk}/").status_code == 404


def test_a_withdrawn_application_stays_readable_with_the_basic_profile(cast, product_a, client_for):
    app = make_application(cast, product_a, status="withdrawn")
    page = client_for(cast.officer_a).get(f"/bank/applications/{app.pk}/")
    assert page.status_code == 200 and 'data-profile="restricted"' in page.content.decode()
