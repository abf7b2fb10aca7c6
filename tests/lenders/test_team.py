"""Team figures for the manager: per branch and per officer for a period."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from lenders.selectors import team_figures
from matching.services.leads import lead_claim, lead_contact
from matching.services.review import application_transition
from tests import factories as f
from tests.lenders.conftest import make_lead

pytestmark = pytest.mark.django_db


def test_figures_count_leads_responses_applications_credit_and_loans(cast, product_a):
    answered = make_lead(cast, product_a)
    make_lead(cast, product_a)
    lead_claim(user=cast.officer_a, match=answered)
    lead_contact(user=cast.officer_a, match=answered, channel="phone")
    app = f.ApplicationFactory(
        enterprise=answered.enterprise, product=product_a, match=answered, amount=Decimal("2000000")
    )
    for action, params in [
        ("accept", {}),
        ("approve", {"credit_line": "2000000", "annual_rate": "4.0", "term_months": 12}),
        ("sign", {}),
        (
            "disburse",
            {
                "principal": "1500000",
                "annual_rate": "4.0",
                "start_date": timezone.localdate(),
                "maturity_date": timezone.localdate() + timedelta(days=365),
            },
        ),
    ]:
        actor = cast.firm_a if action == "sign" else cast.officer_a
        app = application_transition(user=actor, application=app, action=action, **params)
    today = timezone.localdate()
    figures = team_figures(user=cast.manager_a, start=today - timedelta(days=30), end=today)
    branch = next(r for r in figures["branches"] if r["name"] == cast.officer_a.branch.name)
    assert branch["received"] == 2 and branch["claimed"] == 1 and branch["on_time"] == 1
    # one answered in time; the other is neither answered nor past its deadline: not yet decided
    assert branch["on_time"] == 1 and branch["lead_decided"] == 1
    assert branch["on_time_share"] == Decimal("1.0000")
    assert branch["median_hours"] is not None
    assert branch["applications"] == 1 and branch["approval_rate"] == Decimal("1.0000")
    assert branch["credit"] == Decimal("2000000.00") and branch["disbursed"] == Decimal("1500000.00")
    officer = next(r for r in figures["officers"] if r["name"] == cast.officer_a.display_name)
    assert officer["claimed"] == 1 and officer["disbursed"] == Decimal("1500000.00")
    assert figures["total"]["received"] == 2


def test_a_period_without_data_shows_zeros(cast, product_a):
    make_lead(cast, product_a)
    figures = team_figures(user=cast.manager_a, start=date(2020, 1, 1), end=date(2020, 12, 31))
    assert figures["total"]["received"] == 0


def test_the_team_page_is_for_managers(cast, client_for):
    assert client_for(cast.manager_a).get("/bank/team/?start=2026-01-01&end=2026-12-31").status_code == 200
    assert client_for(cast.officer_a).get("/bank/team/").status_code == 403
    bad = client_for(cast.manager_a).get("/bank/team/?start=2026-12-31&end=2026-01-01")
    assert "结束日期不能早于开始日期" in bad.content.decode()
