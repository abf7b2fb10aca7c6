"""信息直通车 figures against a small hand-counted data set, for each filter and a manager's scope;
permissions of the page and its API; constant query counts; lists and .xlsx exports."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import selectors as dashboard
from subsidies.models import Claim, LedgerEntry, Policy
from tests import factories as f

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2026-02-01", "to": "2026-03-31"}


def at(*args) -> datetime:
    """A Beijing-time moment."""
    return timezone.make_aware(datetime(*args))


class World:
    pass


@pytest.fixture
def world(cast):
    """Hand-counted: 4 firms registered in Feb–Mar 2026 (2 verified), 3 needs, 5 matches (3 leads,
    1 near miss), 3 applications (1 approved + disbursed, 1 rejected, 1 stalled), 1 loan, 1 payment."""
    w = World()
    w.cast = cast
    w.pa = f.ProductFactory(institution=cast.bank_a, product_type="credit", name="甲科创贷")
    w.pb = f.ProductFactory(institution=cast.bank_b, product_type="ip_pledge", name="乙知识产权贷")
    w.f1 = f.EnterpriseFactory(
        name="太原一号",
        industry="next_gen_it",
        created_at=at(2026, 2, 1, 10),
        verified_at=at(2026, 2, 10, 10),
    )
    w.f2 = f.EnterpriseFactory(name="太原生物", industry="biotech", created_at=at(2026, 2, 2, 10))
    w.f3 = f.EnterpriseFactory(
        name="大同三号",
        industry="next_gen_it",
        city=f.region("140200"),
        verification_status="pending",
        created_at=at(2026, 2, 3, 10),
    )
    # Beijing-time period edges: 23:30 on the last day is inside, 00:10 the day after is not.
    f.EnterpriseFactory(
        name="边界内", industry="other", verification_status="pending", created_at=at(2026, 3, 31, 23, 30)
    )
    f.EnterpriseFactory(
        name="边界外", industry="other", verification_status="pending", created_at=at(2026, 4, 1, 0, 10)
    )
    f.EnterpriseFactory(name="去年", created_at=at(2025, 6, 1, 10))

    posted = at(2026, 2, 15, 10)
    w.n1 = f.NeedFactory(enterprise=w.f1, amount=Decimal("5000000"), created_at=posted)
    w.n2 = f.NeedFactory(enterprise=w.f2, amount=Decimal("2000000"), created_at=posted)
    w.n3 = f.NeedFactory(enterprise=w.f3, amount=Decimal("1000000"), status="withdrawn", created_at=posted)

    routed, deadline = at(2026, 2, 16, 9), at(2026, 2, 18, 9)
    lead = {"is_lead": True, "routed_at": routed, "response_deadline": deadline, "created_at": routed}
    w.m1 = f.MatchFactory(
        need=w.n1, product=w.pa, status="contacted", first_response_at=at(2026, 2, 16, 13), **lead
    )  # 4 h, in time
    w.m2 = f.MatchFactory(
        need=w.n1, product=w.pb, status="claimed", first_response_at=at(2026, 2, 19, 9), **lead
    )  # 72 h, late
    w.m3 = f.MatchFactory(need=w.n2, product=w.pa, status="suggested", **lead)  # never answered: overdue
    f.MatchFactory(need=w.n3, product=w.pb, is_lead=False, is_near_miss=True, created_at=routed)
    f.MatchFactory(need=w.n2, product=w.pb, is_lead=False, created_at=routed)

    submitted = at(2026, 3, 1, 10)
    w.a1 = f.ApplicationFactory(
        enterprise=w.f1,
        product=w.pa,
        need=w.n1,
        match=w.m1,
        status="disbursed",
        credit_line=Decimal("4000000"),
        approved_at=at(2026, 3, 5, 10),
        created_at=submitted,
        status_changed_at=at(2026, 3, 10, 10),
    )
    w.a2 = f.ApplicationFactory(
        enterprise=w.f2,
        product=w.pa,
        need=w.n2,
        status="rejected",
        created_at=submitted,
        status_changed_at=submitted,
    )
    w.a3 = f.ApplicationFactory(
        enterprise=w.f1,
        product=w.pb,
        need=w.n1,
        status="submitted",
        created_at=submitted,
        status_changed_at=submitted,
    )
    w.loan = f.LoanFactory(application=w.a1, principal=Decimal("4000000"), start_date=date(2026, 3, 10))

    policy = Policy.objects.create(
        series="tiexi",
        kind="interest",
        name="贷款贴息",
        effective_from=date(2026, 1, 1),
        budget=Decimal("10000000"),
        parameters={"eligible_product_types": ["credit"]},
    )
    claim = Claim.objects.create(
        policy=policy,
        kind="interest",
        loan=w.loan,
        enterprise=w.f1,
        year=2026,
        period_start=date(2026, 3, 10),
        period_end=date(2026, 3, 20),
        amount=Decimal("20000"),
        status="paid",
    )
    LedgerEntry.objects.create(
        policy=policy, claim=claim, kind="pay", amount=Decimal("20000"), year=2026, at=at(2026, 3, 20, 10)
    )
    return w


def figures(user, **params):
    filters = dashboard.Filters(start=date(2026, 2, 1), end=date(2026, 3, 31), **params)
    return dashboard.summary(user=user, filters=filters)


def funnel(result):
    return [step["count"] for step in result["funnel"]]


def test_every_headline_figure_and_funnel_step_of_the_whole_province(world):
    result = figures(world.cast.staff)
    expected = {
        "firms_registered": 4,
        "firms_verified": 2,
        "needs_open": 2,
        "needs_open_amount": "7000000.00",
        "matches": 4,
        "near_misses": 1,
        "leads": 3,
        "leads_answered_in_time_share": "0.3333",
        "median_response_hours": "38.0",
        "applications": 3,
        "approval_rate": "0.5000",
        "credit_granted": "4000000.00",
        "loans_disbursed_count": 1,
        "loans_disbursed_amount": "4000000.00",
        # 太原一号 declared no bank loan (the factory's default) and this is its first on the portal
        "first_loans": 1,
        "first_loan_amount": "4000000.00",
        "first_loan_share": "1.0000",
        "subsidy_paid": "20000.00",
        "leverage": "200.00",
        "needs": 3,
        "leverage_finance": "4000000.00",
        "leverage_fiscal": "20000.00",
        # the world's loan (2026-03) matures long after 2026-03-31 + 60 days; no renewal requested
        "renewals_due": 0,
        "renewals_requested": 0,
        "renewals_granted": 0,
    }
    assert {key: result[key] for key in dashboard.SUMMARY_KEYS} == expected
    # One cohort (the 3 needs posted in the period), each counted as far as it got: 太原生物's need
    # applied without a contact, so it counts as contacted too; no step converts above 100%.
    assert funnel(result) == [3, 2, 2, 2, 1, 1]
    assert [s["conversion"] for s in result["funnel"]] == [
        None,
        "0.6667",
        "1.0000",
        "1.0000",
        "0.5000",
        "1.0000",
    ]


def test_the_city_filter_counts_only_that_citys_firms(world):
    result = figures(world.cast.staff, city="140200")
    assert result["firms_registered"] == 1
    assert result["firms_verified"] == 0
    assert (result["needs_open"], result["needs_open_amount"]) == (0, "0.00")
    assert (result["matches"], result["near_misses"], result["leads"]) == (0, 1, 0)
    assert result["leads_answered_in_time_share"] is None
    assert (result["applications"], result["loans_disbursed_count"], result["subsidy_paid"]) == (0, 0, "0.00")
    assert result["leverage"] is None
    assert funnel(result) == [1, 0, 0, 0, 0, 0]


def test_the_industry_filter(world):
    result = figures(world.cast.staff, industry="biotech")
    assert (result["firms_registered"], result["firms_verified"]) == (1, 1)
    assert (result["needs_open"], result["needs_open_amount"]) == (1, "2000000.00")
    assert (result["matches"], result["near_misses"], result["leads"]) == (2, 0, 1)
    assert result["leads_answered_in_time_share"] == "0.0000"
    assert result["median_response_hours"] is None
    assert (result["applications"], result["approval_rate"], result["credit_granted"]) == (
        1,
        "0.0000",
        "0.00",
    )
    assert funnel(result) == [1, 1, 1, 1, 0, 0]


def test_the_institution_filter_counts_the_firms_and_needs_that_bank_reached(world):
    result = figures(world.cast.staff, institution=world.cast.bank_a.pk)
    assert (result["firms_registered"], result["firms_verified"]) == (2, 2)
    assert (result["needs_open"], result["needs_open_amount"]) == (2, "7000000.00")
    assert (result["matches"], result["near_misses"], result["leads"]) == (2, 0, 2)
    assert result["leads_answered_in_time_share"] == "0.5000"
    assert result["median_response_hours"] == "4.0"
    assert (result["applications"], result["approval_rate"], result["credit_granted"]) == (
        2,
        "0.5000",
        "4000000.00",
    )
    assert (result["loans_disbursed_count"], result["loans_disbursed_amount"]) == (1, "4000000.00")
    assert (result["subsidy_paid"], result["leverage"]) == ("20000.00", "200.00")
    assert funnel(result) == [2, 2, 2, 2, 1, 1]


def test_the_product_type_filter(world):
    result = figures(world.cast.staff, product_type="ip_pledge")
    assert result["firms_registered"] == 1  # f1 got the ip-pledge lead
    assert (result["matches"], result["near_misses"], result["leads"]) == (2, 1, 1)
    assert result["leads_answered_in_time_share"] == "0.0000"
    assert result["median_response_hours"] == "72.0"
    assert (result["applications"], result["approval_rate"]) == (1, None)
    assert (result["loans_disbursed_count"], result["subsidy_paid"]) == (0, "0.00")
    assert funnel(result) == [1, 1, 1, 1, 0, 0]


def test_a_manager_sees_only_his_institution_whatever_he_asks_for(world):
    mine = figures(world.cast.manager_a)
    asked_for_b = figures(world.cast.manager_a, institution=world.cast.bank_b.pk)
    assert mine == asked_for_b == figures(world.cast.staff, institution=world.cast.bank_a.pk)


def test_a_period_boundary_is_a_beijing_time_date(world):
    march = dashboard.summary(
        user=world.cast.staff, filters=dashboard.Filters(start=date(2026, 3, 31), end=date(2026, 3, 31))
    )
    april = dashboard.summary(
        user=world.cast.staff, filters=dashboard.Filters(start=date(2026, 4, 1), end=date(2026, 4, 1))
    )
    assert march["firms_registered"] == 1
    assert april["firms_registered"] == 1


def test_the_series_cover_every_city_industry_and_month_with_zeros(world):
    staff = world.cast.staff
    flt = dashboard.Filters(start=date(2026, 2, 1), end=date(2026, 3, 31))
    by_city = dashboard.series(user=staff, filters=flt, metric="firms_registered", group_by="city")
    assert len(by_city["points"]) == 12
    assert {p["label"]: p["value"] for p in by_city["points"]}["综改区"] == 0
    assert {p["key"]: p["value"] for p in by_city["points"]}["140100"] == 3
    by_month = dashboard.series(user=staff, filters=flt, metric="loans_disbursed_amount", group_by="month")
    assert [(p["key"], p["value"]) for p in by_month["points"]] == [
        ("2026-02", "0.00"),
        ("2026-03", "4000000.00"),
    ]
    by_type = dashboard.series(user=staff, filters=flt, metric="leads", group_by="product_type")
    assert {p["key"]: p["value"] for p in by_type["points"]}["credit"] == 2
    by_inst = dashboard.series(user=staff, filters=flt, metric="credit_granted", group_by="institution")
    assert {p["key"]: p["value"] for p in by_inst["points"]}[world.cast.bank_a.pk] == "4000000.00"


def test_the_league_table_ranks_banks_by_answering_in_time(world):
    flt = dashboard.Filters(start=date(2026, 2, 1), end=date(2026, 3, 31))
    table = dashboard.league_table(user=world.cast.staff, filters=flt)
    assert [
        (r["institution_id"], r["leads"], r["answered_in_time"], r["median_response_hours"]) for r in table
    ] == [
        (world.cast.bank_a.pk, 2, 1, "4.0"),
        (world.cast.bank_b.pk, 1, 0, "72.0"),
    ]
    assert table[0]["approvals"] == 1 and table[0]["credit_granted"] == "4000000.00"


def test_overdue_leads_and_stalled_applications(world):
    flt = dashboard.Filters(start=date(2026, 2, 1), end=date(2026, 3, 31))
    assert list(dashboard.overdue_leads(user=world.cast.staff, filters=flt)) == [world.m3]
    assert list(dashboard.stalled_applications(user=world.cast.staff, filters=flt)) == [world.a3]
    assert list(dashboard.stalled_applications(user=world.cast.manager_a, filters=flt)) == []


# ------------------------------------------------------------------------------------------------
# API
# ------------------------------------------------------------------------------------------------


def test_the_summary_api_returns_exactly_the_contract_keys(world, api_for):
    response = api_for(world.cast.staff).get("/api/v1/dashboard/summary/", PERIOD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        *dashboard.SUMMARY_KEYS,
        "funnel",
        "first_loans_by_institution",
        "first_loans_by_city",
    }
    assert body["loans_disbursed_amount"] == "4000000.00"
    assert [(s["stage"], s["count"], s["conversion"]) for s in body["funnel"]] == [
        ("need", 3, None),
        ("lead", 2, "0.6667"),
        ("contacted", 2, "1.0000"),
        ("applied", 2, "1.0000"),
        ("approved", 1, "0.5000"),
        ("disbursed", 1, "1.0000"),
    ]
    city = api_for(world.cast.staff).get("/api/v1/dashboard/summary/", {**PERIOD, "city": "140200"}).json()
    assert city["firms_registered"] == 1


def test_the_summary_api_scopes_a_manager_to_his_institution(world, api_for):
    body = (
        api_for(world.cast.manager_a)
        .get("/api/v1/dashboard/summary/", {**PERIOD, "institution": world.cast.bank_b.pk})
        .json()
    )
    assert (body["leads"], body["applications"], body["credit_granted"]) == (2, 2, "4000000.00")


def test_the_series_api(world, api_for):
    response = api_for(world.cast.staff).get(
        "/api/v1/dashboard/series/", {**PERIOD, "metric": "applications", "group_by": "industry"}
    )
    assert response.status_code == 200
    points = {p["key"]: p["value"] for p in response.json()["points"]}
    assert points["next_gen_it"] == 2 and points["biotech"] == 1 and points["other"] == 0
    bad = api_for(world.cast.staff).get(
        "/api/v1/dashboard/series/", {"metric": "firms_registered", "group_by": "institution"}
    )
    assert bad.status_code == 400


def test_a_bad_period_is_refused_with_a_chinese_message(cast, api_for):
    response = api_for(cast.staff).get(
        "/api/v1/dashboard/summary/", {"from": "2026-03-01", "to": "2026-02-01"}
    )
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in str(response.json())


@pytest.mark.parametrize("who", ["firm_a", "officer_a"])
@pytest.mark.parametrize("url", ["/api/v1/dashboard/summary/", "/api/v1/dashboard/series/?group_by=city"])
def test_a_firm_user_and_an_officer_get_403_on_the_api(cast, api_for, who, url):
    assert api_for(getattr(cast, who)).get(url).status_code == 403


def test_anonymous_gets_no_figures(api_for):
    assert api_for(None).get("/api/v1/dashboard/summary/").status_code in (401, 403)


# ------------------------------------------------------------------------------------------------
# Pages
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["firm_a", "officer_a"])
@pytest.mark.parametrize(
    "url", ["/dashboard/", "/dashboard/lists/leads/", "/dashboard/lists/leads/?export=xlsx"]
)
def test_a_firm_user_and_an_officer_get_403_on_the_dashboard(cast, client_for, who, url):
    assert client_for(getattr(cast, who)).get(url).status_code == 403


def test_the_dashboard_page_shows_the_figures_funnel_charts_and_lists(world, client_for):
    response = client_for(world.cast.staff).get("/dashboard/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="loans_disbursed_count" data-value="1"' in html
    assert 'data-stage="lead" data-count="2"' in html
    assert 'id="dashboard-data"' in html and 'data-chart="city"' in html
    assert "/dashboard/lists/loans/?" in html
    assert f"/dashboard/leads/{world.m3.pk}/" in html  # the overdue lead links to its record
    assert f"/dashboard/applications/{world.a3.pk}/" in html  # the stalled application too
    assert 'href="/matching/runs/"' in html
    assert "<script>" not in html.replace('<script type="application/json"', "")


def test_an_htmx_filter_request_gets_only_the_partial(world, client_for):
    response = client_for(world.cast.staff).get(
        "/dashboard/", {**PERIOD, "city": "140200"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-figure="firms_registered" data-value="1"' in html


def test_a_managers_dashboard_links_records_to_the_bank_pages(world, client_for):
    html = client_for(world.cast.manager_a).get("/dashboard/", PERIOD).content.decode()
    assert f"/bank/leads/{world.m3.pk}/" in html
    assert 'name="institution"' not in html


def test_each_figure_lists_its_records_and_exports_them(world, client_for):
    client = client_for(world.cast.staff)
    page = client.get("/dashboard/lists/leads/", PERIOD)
    assert page.status_code == 200
    assert page.content.decode().count("/dashboard/leads/") == 3
    export = client.get("/dashboard/lists/leads/", {**PERIOD, "export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "企业" and len(rows) == 4


def test_the_export_never_writes_a_formula(world, client_for):
    world.f1.name = '=HYPERLINK("http://evil","x")'
    world.f1.save()
    export = client_for(world.cast.staff).get(
        "/dashboard/lists/firms_registered/", {**PERIOD, "export": "xlsx"}
    )
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(export.content)).active
    values = [c.value for c in ws["A"]]
    assert '\'=HYPERLINK("http://evil","x")' in values
    assert all(c.data_type != "f" for c in ws["A"])


def test_the_funnel_steps_link_to_their_needs(world, client_for):
    page = client_for(world.cast.staff).get("/dashboard/lists/funnel_approved/", PERIOD)
    assert page.status_code == 200
    assert "太原一号" in page.content.decode() and "太原生物" not in page.content.decode()


def test_the_staff_record_pages_and_their_scope(world, client_for):
    assert client_for(world.cast.staff).get(f"/dashboard/leads/{world.m1.pk}/").status_code == 200
    assert client_for(world.cast.staff).get(f"/dashboard/applications/{world.a1.pk}/").status_code == 200
    assert client_for(world.cast.manager_a).get(f"/dashboard/leads/{world.m1.pk}/").status_code == 403


# ------------------------------------------------------------------------------------------------
# Query counts do not grow with rows
# ------------------------------------------------------------------------------------------------


def _grow(cast, n):
    product = f.ProductFactory(institution=cast.bank_a)
    for _ in range(n):
        need = f.NeedFactory()
        match = f.MatchFactory(need=need, product=product, first_response_at=timezone.now())
        app = f.ApplicationFactory(enterprise=need.enterprise, product=product, need=need, match=match)
        f.LoanFactory(application=app, start_date=timezone.localdate())
        app.status = "disbursed"
        app.approved_at = timezone.now()
        app.credit_line = Decimal("1000000")
        app.save()


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url", ["/dashboard/", "/api/v1/dashboard/summary/", "/dashboard/lists/loans/", "/dashboard/lists/leads/"]
)
def test_query_counts_do_not_grow_with_rows(cast, client_for, url):
    client = client_for(cast.staff)
    _grow(cast, 5)
    client.get(url)  # the first read of a year's holiday schedule is cached (portal/workdays.py)
    small = _count(client, url)
    _grow(cast, 45)
    assert _count(client, url) == small


def test_the_summary_takes_a_fixed_eleven_queries(world, django_assert_num_queries):
    from django.db import connection

    # firms, needs, matches, leads, applications, loans, payments, the funnel's cohort, and the
    # leverage's policies, ledger and supported loans; SQLite (the embedded default) has no GROUP BY
    # ROLLUP: each of the two rollups is two statements there.
    with django_assert_num_queries(11 if connection.vendor == "postgresql" else 13):
        figures(world.cast.staff)


def test_each_chart_table_exports_to_xlsx(world, client_for):
    from openpyxl import load_workbook

    response = client_for(world.cast.staff).get(
        "/dashboard/charts/city/export/", {**PERIOD, "metric": "loans_disbursed_amount"}
    )
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("按城市", "放款金额（元）")
    assert ("太原", 4000000) in rows and len(rows) == 13
    assert client_for(world.cast.firm_a).get("/dashboard/charts/city/export/").status_code == 403
