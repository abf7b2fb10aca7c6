"""One set of figures: every KPI has one definition (portal.kpi), and for the same period and scope
the dashboard API, the bank team page, the home page and the leverage page / API show the same
number — checked on a small world whose figures are counted by hand below."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from dashboard.home import HOME_FIGURES_KEY
from portal import kpi
from subsidies.models import Claim, LedgerEntry, Policy
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12)
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}


def at(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def world(cast):
    """Year 2026, Beijing time, "now" 2026-06-30 12:00.

    Products: 甲信用贷 (bank A, credit: 贴息-eligible), 甲担保贷 (bank A, guarantee: no policy
    supports it), 乙专属贷 (bank B, exclusive: in the risk pool).
    Leads (all 2026): m1 n1→甲信用贷 answered after 4 h (in time); m2 n2→甲信用贷 answered after
    72 h (late); m3 n1→乙专属贷 never answered, deadline passed (late); m4 n2→甲担保贷 routed this
    morning, deadline not yet reached (undecided).
      bank A: 3 leads, 1 in time of 2 decided → 0.5000; median of 4 h and 72 h = 38.0
      province: 4 leads, 1 in time of 3 decided → 0.3333; median 38.0
    Applications: a1 (m1) approved 400万, loan 400万; a2 (m2) rejected; a3 (m3) approved 1,000万,
    loan 1,000万; a4 (m4) approved 100万, loan 100万.
      bank A: 3 applications, 2 approved / (2 + 1 rejected) → 0.6667; credit 500万, loans 500万
      province: 4 applications, 3 / 4 → 0.7500; credit 1,500万, loans 1,500万
    Fiscal money: 贴息 2万 paid on a1's loan; 风险补偿 30万 paid to bank B, 10万 recovered.
      leverage, bank A: 400万 (甲信用贷 only) ÷ 2万 = 200.00
      leverage, province: 1,400万 (甲信用贷 + 乙专属贷) ÷ (32万 − 10万 = 22万) = 63.64
    """
    pa = f.ProductFactory(institution=cast.bank_a, product_type="credit", name="甲信用贷")
    pc = f.ProductFactory(institution=cast.bank_a, product_type="guarantee", name="甲担保贷")
    pb = f.ProductFactory(
        institution=cast.bank_b, product_type="ip_pledge", is_exclusive=True, name="乙专属贷"
    )
    f1 = f.EnterpriseFactory(name="太原一号", created_at=at(2026, 2, 1, 10))
    f2 = f.EnterpriseFactory(name="太原二号", created_at=at(2026, 2, 2, 10))
    n1 = f.NeedFactory(enterprise=f1, created_at=at(2026, 2, 15, 10))
    n2 = f.NeedFactory(enterprise=f2, created_at=at(2026, 2, 15, 10))
    routed = {"is_lead": True, "routed_at": at(2026, 2, 16, 9), "response_deadline": at(2026, 2, 18, 9)}
    m1 = f.MatchFactory(
        need=n1, product=pa, status="contacted", first_response_at=at(2026, 2, 16, 13), **routed
    )
    m2 = f.MatchFactory(need=n2, product=pa, status="claimed", first_response_at=at(2026, 2, 19, 9), **routed)
    m3 = f.MatchFactory(need=n1, product=pb, status="suggested", **routed)
    m4 = f.MatchFactory(
        need=n2,
        product=pc,
        status="suggested",
        is_lead=True,
        routed_at=at(2026, 6, 30, 9),
        response_deadline=at(2026, 7, 2, 9),
    )

    def application(match, **kw):
        return f.ApplicationFactory(
            enterprise=match.enterprise,
            product=match.product,
            need=match.need,
            match=match,
            created_at=at(2026, 3, 1, 10),
            status_changed_at=at(2026, 3, 1, 10),
            **kw,
        )

    a1 = application(m1, status="disbursed", credit_line=Decimal("4000000"), approved_at=at(2026, 3, 5, 10))
    application(m2, status="rejected")
    a3 = application(m3, status="disbursed", credit_line=Decimal("10000000"), approved_at=at(2026, 4, 1, 10))
    a4 = application(m4, status="disbursed", credit_line=Decimal("1000000"), approved_at=at(2026, 6, 1, 10))
    loan1 = f.LoanFactory(application=a1, principal=Decimal("4000000"), start_date=date(2026, 3, 10))
    loan3 = f.LoanFactory(application=a3, principal=Decimal("10000000"), start_date=date(2026, 4, 10))
    f.LoanFactory(application=a4, principal=Decimal("1000000"), start_date=date(2026, 6, 5))

    interest = Policy.objects.create(
        series="tiexi",
        kind="interest",
        name="贷款贴息",
        effective_from=date(2026, 1, 1),
        budget=Decimal("10000000"),
        parameters={"eligible_product_types": ["credit"]},
    )
    risk = Policy.objects.create(
        series="fengxian",
        kind="risk",
        name="风险补偿",
        effective_from=date(2026, 1, 1),
        budget=Decimal("20000000"),
    )
    c1 = Claim.objects.create(
        policy=interest,
        kind="interest",
        loan=loan1,
        enterprise=f1,
        year=2026,
        period_start=date(2026, 3, 10),
        period_end=date(2026, 3, 31),
        amount=Decimal("20000"),
        status="paid",
    )
    c2 = Claim.objects.create(
        policy=risk,
        kind="risk",
        loan=loan3,
        institution=cast.bank_b,
        year=2026,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        amount=Decimal("300000"),
        status="paid",
    )
    LedgerEntry.objects.create(
        policy=interest, claim=c1, kind="pay", amount=Decimal("20000"), year=2026, at=at(2026, 4, 1, 10)
    )
    LedgerEntry.objects.create(
        policy=risk, claim=c2, kind="pay", amount=Decimal("300000"), year=2026, at=at(2026, 5, 1, 10)
    )
    LedgerEntry.objects.create(
        policy=risk, claim=c2, kind="recovery", amount=Decimal("100000"), year=2026, at=at(2026, 6, 10, 10)
    )
    cache.delete(HOME_FIGURES_KEY)
    with time_machine.travel(timezone.make_aware(NOW), tick=False):
        yield cast
    cache.delete(HOME_FIGURES_KEY)


def data_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)"[^>]*?data-value="([^"]*)"', html))


BANK_A = {
    "leads": "3",
    "leads_answered_in_time_share": "0.5000",
    "median_response_hours": "38.0",
    "applications": "3",
    "approval_rate": "0.6667",
    "credit_granted": "5000000.00",
    "loans_disbursed_amount": "5000000.00",
}


def test_the_dashboard_api_gives_the_hand_counted_figures(world, api_for):
    province = api_for(world.staff).get("/api/v1/dashboard/summary/", YEAR).json()
    assert {k: str(province[k]) for k in BANK_A} == {
        "leads": "4",
        "leads_answered_in_time_share": "0.3333",
        "median_response_hours": "38.0",
        "applications": "4",
        "approval_rate": "0.7500",
        "credit_granted": "15000000.00",
        "loans_disbursed_amount": "15000000.00",
    }
    assert (province["leverage_finance"], province["leverage_fiscal"], province["leverage"]) == (
        "14000000.00",
        "220000.00",
        "63.64",
    )
    assert province["subsidy_paid"] == "320000.00"


def test_a_bank_s_figures_agree_on_the_dashboard_the_team_page_and_the_leverage_api(
    world, api_for, client_for
):
    dash = api_for(world.manager_a).get("/api/v1/dashboard/summary/", YEAR).json()
    assert {k: str(dash[k]) for k in BANK_A} == BANK_A
    team = client_for(world.manager_a).get("/bank/team/", {"start": "2026-01-01", "end": "2026-12-31"})
    on_team_page = data_values(team.content.decode())
    assert {k: on_team_page[k] for k in BANK_A} == BANK_A
    lev = api_for(world.manager_a).get("/api/v1/subsidies/leverage/", {"year": 2026}).json()["overall"]
    assert (
        (lev["finance"], lev["fiscal"], lev["ratio"])
        == (
            dash["leverage_finance"],
            dash["leverage_fiscal"],
            dash["leverage"],
        )
        == ("4000000.00", "20000.00", "200.00")
    )


def test_the_province_s_leverage_agrees_on_the_dashboard_the_home_page_and_the_leverage_page(
    world, api_for, client_for, client
):
    dash = api_for(world.staff).get("/api/v1/dashboard/summary/", YEAR).json()
    lev = api_for(world.staff).get("/api/v1/subsidies/leverage/", {"year": 2026}).json()
    home = data_values(client.get("/").content.decode())
    page = client_for(world.staff).get("/subsidies/leverage/", {"year": 2026}).content.decode()
    assert (
        (dash["leverage_finance"], dash["leverage_fiscal"], dash["leverage"])
        == (lev["overall"]["finance"], lev["overall"]["fiscal"], lev["overall"]["ratio"])
        == (home["leverage_finance"], home["leverage_fiscal"], home["leverage"])
        == ("14000000.00", "220000.00", "63.64")
    )
    assert 'id="lev-ratio" data-value="63.64"' in page and "63.64×" in page
    assert lev["definition"] == kpi.definition("leverage")
    # both figures beside the ratio, with the definition on each page
    for html in (page, client.get("/").content.decode()):
        assert "1,400.00万元" in html or "0.14亿元" in html
        assert "22.00万元" in html
        assert kpi.definition("leverage") in html


def test_the_dashboard_page_shows_the_same_numbers_with_their_definitions(world, client_for):
    html = client_for(world.manager_a).get("/dashboard/", {"period": "custom", **YEAR}).content.decode()
    values = data_values(html)
    assert {k: values[k] for k in BANK_A} == BANK_A
    assert values["leverage"] == "200.00"
    assert "口径说明" in html
    for code in BANK_A:
        assert kpi.definition(code) in html


def test_no_funnel_step_converts_above_100_percent(world, api_for):
    funnel = api_for(world.staff).get("/api/v1/dashboard/summary/", YEAR).json()["funnel"]
    assert [s["count"] for s in funnel] == [2, 2, 2, 2, 2, 2]
    assert all(s["conversion"] is None or Decimal(s["conversion"]) <= 1 for s in funnel)


def test_the_definitions_api_lists_every_kpi_once_in_chinese(api_for, client):
    body = client.get("/api/v1/dashboard/definitions/").json()
    assert [d["code"] for d in body] == list(kpi.KPIS)
    assert set(body[0]) == {"code", "label", "definition"}
    lev = next(d for d in body if d["code"] == "leverage")
    assert lev["label"] == "财政资金撬动倍数" and "÷" in lev["definition"]
    assert all(re.search(r"[\u4e00-\u9fff]", d["definition"]) for d in body)
