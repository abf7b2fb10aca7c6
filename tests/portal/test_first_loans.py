"""首贷户 and 首贷: the firm predicate, the KPIs worked out by hand against the dashboard page, the
summary API and its per-bank and per-city rows; the badge and the "仅首贷户" filter on leads (made by
a real match run), applications and the staff's firm list; the declaration on the profile.

Every loan is made through the real transitions (submit → accept → approve → sign → disburse) on a
frozen clock; the dashboard is read on 2026-04-25 (Beijing time)."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from dashboard import selectors as dashboard
from enterprises.models import FIRST_LOAN_FIRMS, Enterprise
from enterprises.selectors import consent_scope
from enterprises.services import consent_grant, need_create
from matching.models import Loan, Match
from matching.services.applications import application_submit
from matching.services.review import application_transition
from portal import kpi
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = "2026-04-25 10:00 +08:00"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def product_a(cast):
    return f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")


@pytest.fixture
def product_b(cast):
    return f.ProductFactory(institution=cast.bank_b, name="乙行科创贷")


def declare(user, had_bank_loan: bool) -> Enterprise:
    Enterprise.objects.filter(pk=user.enterprise_id).update(had_bank_loan=had_bank_loan)
    return Enterprise.objects.get(pk=user.enterprise_id)


def apply(firm_user, product, amount=Decimal("3000000"), on="2026-03-01"):
    with time_machine.travel(f"{on} 09:00 +08:00", tick=False):
        return application_submit(
            user=firm_user, product=product, amount=amount, term_months=12, purpose="rd", share_profile=True
        )


def lend(firm_user, officer, product, principal: str, start: date) -> Loan:
    """An application approved, signed and disbursed for ``principal`` yuan starting on ``start``."""
    app = apply(firm_user, product, Decimal(principal), on=(start.replace(day=1)).isoformat())
    with time_machine.travel(f"{start.replace(day=2).isoformat()} 10:00 +08:00", tick=False):
        app = application_transition(user=officer, application=app, action="accept")
        app = application_transition(
            user=officer,
            application=app,
            action="approve",
            credit_line=principal,
            annual_rate="4.000",
            term_months=12,
        )
    with time_machine.travel(f"{start.replace(day=3).isoformat()} 10:00 +08:00", tick=False):
        app = f.sign_offer(app, firm_user)
    with time_machine.travel(f"{start.isoformat()} 15:00 +08:00", tick=False):
        application_transition(
            user=officer,
            application=app,
            action="disburse",
            principal=principal,
            annual_rate="4.000",
            start_date=start,
            maturity_date=start.replace(year=start.year + 1),
        )
    return Loan.objects.get(application=app)


def first_loan_ids() -> set[int]:
    return set(Loan.objects.filter(kpi.first_loan(Loan.objects.all())).values_list("pk", flat=True))


# ------------------------------------------------------------------------------------------------
# The predicate: 首贷户 until the first disbursement, whose loan stays a 首贷
# ------------------------------------------------------------------------------------------------


def test_a_firm_that_declared_no_loan_is_a_first_loan_firm_until_its_first_disbursement(
    cast, product_a, product_b
):
    firm = declare(cast.firm_a, False)
    other = declare(cast.firm_b, True)
    assert firm.is_first_loan_firm and not other.is_first_loan_firm
    assert set(Enterprise.objects.filter(FIRST_LOAN_FIRMS).values_list("pk", flat=True)) == {firm.pk}

    first = lend(cast.firm_a, cast.officer_a, product_a, "2000000.00", date(2026, 3, 5))
    firm = Enterprise.objects.get(pk=firm.pk)
    assert not firm.is_first_loan_firm
    assert not Enterprise.objects.filter(FIRST_LOAN_FIRMS, pk=firm.pk).exists()
    # …but its loan is a 首贷, and stays one; a second loan (even on the same day: ties by id) is not.
    second = lend(cast.firm_a, cast.officer_b, product_b, "1000000.00", date(2026, 3, 5))
    assert first.pk < second.pk
    # A firm that declared an earlier bank loan never has a 首贷.
    lend(cast.firm_b, cast.officer_a, product_a, "1000000.00", date(2026, 3, 6))
    assert first_loan_ids() == {first.pk}


def test_the_earliest_start_date_is_the_first_loan_whatever_the_order_of_recording(
    cast, product_a, product_b
):
    declare(cast.firm_a, False)
    later = lend(cast.firm_a, cast.officer_a, product_a, "1000000.00", date(2026, 3, 20))
    earlier = lend(cast.firm_a, cast.officer_b, product_b, "1000000.00", date(2026, 3, 10))
    assert first_loan_ids() == {earlier.pk} and later.pk > 0


# ------------------------------------------------------------------------------------------------
# The KPIs by hand: the dashboard page, the summary API, per bank and per city
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def march(cast, product_a, product_b):
    """March 2026, three loans, two of them 首贷:
    A (太原, declared none) 200万 at bank A on 03-05 → 首贷;
    B (太原, declared a bank loan) 300万 at bank B on 03-06 → not;
    C (大同, declared none) 100万 at bank B on 03-10 → 首贷.
    April: A's second loan, 400万 at bank B on 04-08 → not a 首贷 (A had its first in March).
    March: 3 loans, 600万; 2 首贷, 300万; share 300 ÷ 600 = 0.5000."""
    firm_c = f.FirmUserFactory(
        username="firm_c", enterprise__city=f.region("140200"), enterprise__name="大同首贷"
    )
    declare(cast.firm_a, False)
    declare(cast.firm_b, True)
    declare(firm_c, False)
    loans = {
        "a": lend(cast.firm_a, cast.officer_a, product_a, "2000000.00", date(2026, 3, 5)),
        "b": lend(cast.firm_b, cast.officer_b, product_b, "3000000.00", date(2026, 3, 6)),
        "c": lend(firm_c, cast.officer_b, product_b, "1000000.00", date(2026, 3, 10)),
        "a2": lend(cast.firm_a, cast.officer_b, product_b, "4000000.00", date(2026, 4, 8)),
    }
    return loans


def march_filters(**kw):
    return dashboard.Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), **kw)


def test_the_first_loan_kpis_by_hand_in_the_summary_and_its_filters(cast, march):
    s = dashboard.summary(user=cast.staff, filters=march_filters())
    assert (s["loans_disbursed_count"], s["loans_disbursed_amount"]) == (3, "6000000.00")
    assert (s["first_loans"], s["first_loan_amount"], s["first_loan_share"]) == (2, "3000000.00", "0.5000")
    # April: A's second loan only — not a 首贷 (A stopped being a 首贷户 in March).
    april = dashboard.summary(
        user=cast.staff, filters=dashboard.Filters(start=date(2026, 4, 1), end=date(2026, 4, 30))
    )
    assert (april["loans_disbursed_count"], april["first_loans"], april["first_loan_share"]) == (
        1,
        0,
        "0.0000",
    )
    # The dashboard's filters: a city, an institution (and a manager is locked to his own).
    datong = dashboard.summary(user=cast.staff, filters=march_filters(city="140200"))
    assert (datong["first_loans"], datong["first_loan_amount"], datong["first_loan_share"]) == (
        1,
        "1000000.00",
        "1.0000",
    )
    bank_b = dashboard.summary(user=cast.staff, filters=march_filters(institution=cast.bank_b.pk))
    assert (bank_b["first_loans"], bank_b["first_loan_amount"], bank_b["first_loan_share"]) == (
        1,
        "1000000.00",
        "0.2500",
    )
    mine = dashboard.summary(user=cast.manager_a, filters=march_filters(institution=cast.bank_b.pk))
    assert (mine["first_loans"], mine["first_loan_amount"], mine["first_loan_share"]) == (
        1,
        "2000000.00",
        "1.0000",
    )
    # The industry and product-type dimensions narrow it as every loan figure.
    assert (
        dashboard.summary(user=cast.staff, filters=march_filters(product_type="ip_pledge"))["first_loans"]
        == 0
    )
    # A region desk sees its region's firms only (太原: A and B; A's is the 首贷).
    desk = f.RegionDeskFactory(username="desk_ty")
    ty = dashboard.summary(user=desk, filters=march_filters())
    assert (
        ty["loans_disbursed_amount"],
        ty["first_loans"],
        ty["first_loan_amount"],
        ty["first_loan_share"],
    ) == (
        "5000000.00",
        1,
        "2000000.00",
        "0.4000",
    )


BY_BANK = {
    # bank: (loans, amount, first loans, first amount, share)
    "a": (1, "2000000.00", 1, "2000000.00", "1.0000"),
    "b": (2, "4000000.00", 1, "1000000.00", "0.2500"),
}
BY_CITY = {
    "140100": (2, "5000000.00", 1, "2000000.00", "0.4000"),
    "140200": (1, "1000000.00", 1, "1000000.00", "1.0000"),
}
KEYS = (
    "loans_disbursed_count",
    "loans_disbursed_amount",
    "first_loans",
    "first_loan_amount",
    "first_loan_share",
)


def test_per_bank_and_per_city_rows_in_the_league_and_the_summary_api(cast, march, api_for):
    banks = {"a": cast.bank_a.pk, "b": cast.bank_b.pk}
    league = {
        r["institution_id"]: r for r in dashboard.league_table(user=cast.staff, filters=march_filters())
    }
    for key, expected in BY_BANK.items():
        assert tuple(league[banks[key]][k] for k in KEYS) == expected, key
    body = api_for(cast.staff).get("/api/v1/dashboard/summary/", MARCH).json()
    assert (body["first_loans"], body["first_loan_amount"], body["first_loan_share"]) == (
        2,
        "3000000.00",
        "0.5000",
    )
    api_banks = {r["institution_id"]: r for r in body["first_loans_by_institution"]}
    assert set(api_banks) == set(banks.values())
    for key, expected in BY_BANK.items():
        assert tuple(api_banks[banks[key]][k] for k in KEYS) == expected, key
    cities = {r["city"]: r for r in body["first_loans_by_city"]}
    for code, expected in BY_CITY.items():
        assert tuple(cities[code][k] for k in KEYS) == expected, code
    assert all(r["first_loans"] == 0 for code, r in cities.items() if code not in BY_CITY)
    # A manager's API: his institution only, everywhere.
    mine = api_for(cast.manager_a).get("/api/v1/dashboard/summary/", MARCH).json()
    assert [r["institution_id"] for r in mine["first_loans_by_institution"]] == [cast.bank_a.pk]
    assert (mine["first_loans"], mine["first_loan_share"]) == (1, "1.0000")
    # A region desk's API: its region's row only.
    desk = f.RegionDeskFactory(username="desk_ty")
    rows = api_for(desk).get("/api/v1/dashboard/summary/", MARCH).json()["first_loans_by_city"]
    assert [(r["city"], r["first_loans"], r["first_loan_amount"]) for r in rows] == [
        ("140100", 1, "2000000.00")
    ]


def _row(html: str, attr: str, value) -> str:
    found = re.search(rf'<tr data-{attr}="{value}">(.*?)</tr>', html, re.S)
    assert found, (attr, value)
    return found.group(1)


def test_the_dashboard_page_shows_the_tiles_and_the_per_bank_and_per_city_columns(cast, march, client_for):
    html = client_for(cast.staff).get("/dashboard/", {**MARCH, "period": "custom"}).content.decode()
    assert 'data-figure="first_loans" data-value="2"' in html
    assert 'data-figure="first_loan_amount" data-value="3000000.00"' in html
    assert 'data-figure="first_loan_share" data-value="0.5000"' in html
    assert "300.00万元" in html and "50.0%" in html
    for key, bank in (("a", cast.bank_a), ("b", cast.bank_b)):
        row = _row(html, "institution", bank.pk)
        _n, _amount, first, first_amount, share = BY_BANK[key]
        assert f'data-first-loans="{first}"' in row
        assert f'data-first-loan-amount="{first_amount}"' in row
        assert f'data-first-loan-share="{share}"' in row
    for code, (_n, _amount, first, first_amount, share) in BY_CITY.items():
        row = _row(html, "city", code)
        assert f'data-first-loans="{first}"' in row and f'data-first-loan-amount="{first_amount}"' in row
        assert f'data-first-loan-share="{share}"' in row
    assert "首贷占比" in html and "首贷笔数" in html


def test_the_first_loans_list_and_its_export_name_the_two_first_loans(cast, march, client_for):
    client = client_for(cast.staff)
    page = client.get("/dashboard/lists/first_loans/", MARCH).content.decode()
    assert page.count("大同首贷") == 1 and cast.firm_a.enterprise.name in page
    assert cast.firm_b.enterprise.name not in page
    export = client.get("/dashboard/lists/loans/", {**MARCH, "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    first_col = rows[0].index("首贷")
    marked = {r[0] for r in rows[1:] if r[first_col] == "是"}
    assert marked == {cast.firm_a.enterprise.name, "大同首贷"}
    chart = client.get("/dashboard/charts/institution/export/", {**MARCH, "metric": "first_loan_amount"})
    values = {r[0]: r[1] for r in load_workbook(io.BytesIO(chart.content)).active.iter_rows(values_only=True)}
    assert (
        values[cast.bank_a.short_name] == Decimal("2000000.00") or values[cast.bank_a.short_name] == 2000000
    )


# ------------------------------------------------------------------------------------------------
# Badge and filter: leads (a real match run), applications, the staff's firm list
# ------------------------------------------------------------------------------------------------


def strengthen(enterprise):
    """A verified firm with a valid 高企 and patents: it scores above the lead threshold."""
    f.QualificationFactory(enterprise=enterprise, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=enterprise)


@pytest.fixture
def leads(cast, product_a, django_capture_on_commit_callbacks):
    """A need of firm A (declared no bank loan) and of firm B (declared one), each matched by the
    real match run to bank A's product and routed to officer A's branch."""
    declare(cast.firm_a, False)
    declare(cast.firm_b, True)
    out = {}
    for key, user in (("a", cast.firm_a), ("b", cast.firm_b)):
        strengthen(user.enterprise)
        with django_capture_on_commit_callbacks(execute=True):
            need = need_create(
                user=user,
                enterprise=user.enterprise,
                amount=Decimal("2000000"),
                term_months=12,
                purpose="working_capital",
                guarantee_types=["credit"],
            )
        out[key] = Match.objects.get(need=need, product=product_a, is_lead=True)
    return out


def test_the_badge_and_the_filter_on_the_lead_inbox_detail_and_api(cast, leads, client_for, api_for):
    client = client_for(cast.officer_a)
    inbox = client.get("/bank/leads/").content.decode()
    assert "data-first-loan" in _row_lead(inbox, leads["a"].pk)
    assert "data-first-loan" not in _row_lead(inbox, leads["b"].pk)
    assert "data-first-loan" in client.get(f"/bank/leads/{leads['a'].pk}/").content.decode()
    assert "data-first-loan" not in client.get(f"/bank/leads/{leads['b'].pk}/").content.decode()
    only = client.get("/bank/leads/", {"first_loan": "true"}).content.decode()
    assert f'data-lead="{leads["a"].pk}"' in only and f'data-lead="{leads["b"].pk}"' not in only
    api = api_for(cast.officer_a)
    rows = api.get("/api/v1/matches/", {"first_loan": "true"}).json()["results"]
    assert [r["id"] for r in rows] == [leads["a"].pk] and rows[0]["first_loan_firm"] is True
    every = {r["id"]: r["first_loan_firm"] for r in api.get("/api/v1/matches/").json()["results"]}
    assert every[leads["a"].pk] is True and every[leads["b"].pk] is False
    others = [r["id"] for r in api.get("/api/v1/matches/", {"first_loan": "false"}).json()["results"]]
    assert leads["b"].pk in others and leads["a"].pk not in others
    export = client.get("/bank/leads/export/")
    rows = list(
        load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True)
    )
    column = rows[0].index("首贷户")
    assert {r[0]: r[column] for r in rows[1:]} == {leads["a"].pk: "是", leads["b"].pk: "否"}


def test_a_bank_without_the_firms_financials_consent_sees_no_badge_and_cannot_filter_for_it(
    cast, leads, product_a, client_for, api_for
):
    """首贷户 is the firm's declared loan history, part of its 财务数据: a bank whose consent from the
    firm leaves out ``financials`` learns it from no badge, filter, API field or export column
    (the rule of the one bank view: enterprises.selectors.first_loan_firm_for)."""
    firm = cast.firm_a.enterprise
    for institution in (None, cast.bank_a):  # the firm narrows what it shares, leads stay open
        consent_grant(user=cast.firm_a, enterprise=firm, institution=institution, scope=["basic", "ip"])
    assert consent_scope(enterprise=firm, institution_id=cast.bank_a.pk) == {"basic", "ip"}
    assert Match.objects.get(pk=leads["a"].pk).status != "withdrawn"
    client = client_for(cast.officer_a)
    inbox = client.get("/bank/leads/").content.decode()
    assert "data-first-loan" not in _row_lead(inbox, leads["a"].pk)
    assert "data-first-loan" not in client.get(f"/bank/leads/{leads['a'].pk}/").content.decode()
    only = client.get("/bank/leads/", {"first_loan": "true"}).content.decode()
    assert f'data-lead="{leads["a"].pk}"' not in only
    api = api_for(cast.officer_a)
    assert api.get("/api/v1/matches/", {"first_loan": "true"}).json()["results"] == []
    every = {r["id"]: r["first_loan_firm"] for r in api.get("/api/v1/matches/").json()["results"]}
    assert every[leads["a"].pk] is False
    export = client.get("/bank/leads/export/")
    rows = list(
        load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True)
    )
    column = rows[0].index("首贷户")
    assert {r[0]: r[column] for r in rows[1:]}[leads["a"].pk] == "否"
    # The firm is still a 首贷户 by the rule the province's figures count.
    assert Enterprise.objects.filter(FIRST_LOAN_FIRMS, pk=firm.pk).exists()
    # Consent to the financials again: the badge comes back.
    consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, scope=["basic", "financials"])
    assert "data-first-loan" in _row_lead(client.get("/bank/leads/").content.decode(), leads["a"].pk)


def _row_lead(html, pk) -> str:
    found = re.search(rf'<tr data-lead="{pk}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, pk
    return found.group(1)


def _row_app(html, pk) -> str:
    found = re.search(rf'<tr data-application="{pk}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, pk
    return found.group(1)


def test_the_badge_and_the_filter_on_applications_until_the_first_disbursement(
    cast, product_a, product_b, client_for, api_for
):
    declare(cast.firm_a, False)
    declare(cast.firm_b, True)
    app_a = apply(cast.firm_a, product_a)
    app_b = apply(cast.firm_b, product_a)
    bank = client_for(cast.officer_a)
    queue = bank.get("/bank/applications/").content.decode()
    assert "data-first-loan" in _row_app(queue, app_a.pk)
    assert "data-first-loan" not in _row_app(queue, app_b.pk)
    assert "data-first-loan" in bank.get(f"/bank/applications/{app_a.pk}/").content.decode()
    assert "data-first-loan" not in bank.get(f"/bank/applications/{app_b.pk}/").content.decode()
    only = bank.get("/bank/applications/", {"first_loan": "true"}).content.decode()
    assert f'data-application="{app_a.pk}"' in only and f'data-application="{app_b.pk}"' not in only
    rows = api_for(cast.officer_a).get("/api/v1/applications/", {"first_loan": "true"}).json()["results"]
    assert [(r["id"], r["first_loan_firm"]) for r in rows] == [(app_a.pk, True)]
    export = bank.get("/bank/applications/export/")
    table = list(
        load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True)
    )
    column = table[0].index("首贷户")
    assert {r[0]: r[column] for r in table[1:]} == {app_a.pk: "是", app_b.pk: "否"}
    # The firm's own list and detail; the staff's record.
    firm = client_for(cast.firm_a)
    assert "data-first-loan" in _row_app(firm.get("/firm/applications/").content.decode(), app_a.pk)
    assert "data-first-loan" in firm.get(f"/firm/applications/{app_a.pk}/").content.decode()
    assert (
        "data-first-loan"
        not in client_for(cast.firm_b).get(f"/firm/applications/{app_b.pk}/").content.decode()
    )
    staff = client_for(cast.staff)
    assert "data-first-loan" in staff.get(f"/dashboard/applications/{app_a.pk}/").content.decode()
    assert "data-first-loan" not in staff.get(f"/dashboard/applications/{app_b.pk}/").content.decode()
    # After firm A's first disbursement it is no longer a 首贷户: no badge, out of the filter.
    lend(cast.firm_a, cast.officer_b, product_b, "1000000.00", date(2026, 4, 10))
    queue = bank.get("/bank/applications/").content.decode()
    assert "data-first-loan" not in _row_app(queue, app_a.pk)
    assert (
        api_for(cast.officer_a).get("/api/v1/applications/", {"first_loan": "true"}).json()["results"] == []
    )


def test_the_staff_firm_list_filters_first_loan_firms(cast, client_for):
    declare(cast.firm_a, False)
    declare(cast.firm_b, True)
    Enterprise.objects.filter(pk__in=[cast.firm_a.enterprise_id, cast.firm_b.enterprise_id]).update(
        created_at=timezone.now()
    )
    client = client_for(cast.staff)
    params = {"from": "2026-04-01", "to": "2026-04-30"}
    every = client.get("/dashboard/lists/firms_registered/", params).content.decode()
    assert cast.firm_a.enterprise.name in every and cast.firm_b.enterprise.name in every
    only = client.get("/dashboard/lists/firms_registered/", {**params, "first_loan": "true"}).content.decode()
    assert cast.firm_a.enterprise.name in only and cast.firm_b.enterprise.name not in only


# ------------------------------------------------------------------------------------------------
# The declaration on the profile (page and API)
# ------------------------------------------------------------------------------------------------


def test_the_firm_declares_an_earlier_bank_loan_on_the_profile_form_and_the_api(cast, client_for, api_for):
    page = client_for(cast.firm_a).get("/firm/profile/").content.decode()
    assert 'name="had_bank_loan"' in page and "首贷户" in page
    api = api_for(cast.firm_a)
    before = api.get("/api/v1/enterprises/me/").json()
    assert (before["had_bank_loan"], before["is_first_loan_firm"]) == (False, True)
    response = api.patch("/api/v1/enterprises/me/", {"had_bank_loan": True}, format="json")
    assert response.status_code == 200, response.content
    assert Enterprise.objects.get(pk=cast.firm_a.enterprise_id).had_bank_loan is True
    after = api.get("/api/v1/enterprises/me/").json()
    assert (after["had_bank_loan"], after["is_first_loan_firm"]) == (True, False)
