"""年度经营数据: the firm's figures per financial year (AnnualFigures) are the one home of its revenue,
R&D spend, staff and the score's other inputs — the migration's copy of the old profile fields, the
service's rules, the profile page, the API (with the old single-year names as aliases), the
completeness meter and the bank view (scope ``financials``)."""

import importlib
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from enterprises.models import AnnualFigures, Enterprise
from enterprises.selectors import enterprise_profile_for_bank, profile_completeness
from enterprises.services import annual_figures_save, consent_grant
from matching.models import Match
from matching.services.dispatch import start_full_run
from portal.models import Transition
from portal.services import NotAllowedError, ServiceError
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = "2026-06-15 10:00 +08:00"  # financial years 2025 (上年), 2024, 2023
LAST, MIDDLE, FIRST = 2025, 2024, 2023


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW):
        yield


def row(firm, year) -> AnnualFigures:
    return AnnualFigures.objects.get(enterprise=firm, year=year)


# ------------------------------------------------------------------------------------------------
# The migration: the old profile fields become last year's row
# ------------------------------------------------------------------------------------------------


def test_the_migration_copies_the_profile_figures_into_last_financial_years_row(cast):
    migration = importlib.import_module(
        "enterprises.migrations.0013_annual_figures_innovation_score_first_loan"
    )
    firm = f.EnterpriseFactory(revenue_last_year=None, rd_spend_last_year=None, employees=None, rd_staff=None)
    assert not firm.annual_figures.exists()
    old = SimpleNamespace(
        pk=firm.pk,
        revenue_last_year=Decimal("12345678.90"),
        rd_spend_last_year=Decimal("1000000.00"),
        employees=88,
        rd_staff=21,
    )
    models = {
        "Enterprise": SimpleNamespace(
            objects=SimpleNamespace(all=lambda: SimpleNamespace(iterator=lambda: [old]))
        ),
        "AnnualFigures": AnnualFigures,
    }
    migration.copy_profile_figures(SimpleNamespace(get_model=lambda app, name: models[name]), None)
    copied = row(firm, LAST)
    assert (copied.revenue, copied.rd_spend, copied.employees, copied.st_staff) == (
        Decimal("12345678.90"),
        Decimal("1000000.00"),
        88,
        21,
    )
    assert copied.hitech_revenue is None and copied.invention_applications is None
    assert not {"revenue_last_year", "rd_spend_last_year", "employees", "rd_staff"} & {
        field.name for field in Enterprise._meta.get_fields()
    }  # 0014 removed the old fields


# ------------------------------------------------------------------------------------------------
# The service: rules, upsert, audit, score
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "year, data, field, message",
    [
        (2026, {"revenue": Decimal("1")}, "year", "只能填报最近三个财务年度（2023—2025 年）的经营数据。"),
        (2022, {"revenue": Decimal("1")}, "year", "只能填报最近三个财务年度（2023—2025 年）的经营数据。"),
        (LAST, {"revenue": Decimal("-1")}, "revenue", "营业收入不能为负数。"),
        (LAST, {"invention_applications": -2}, "invention_applications", "发明专利申请数不能为负数。"),
        (LAST, {"employees": 10, "st_staff": 11}, "st_staff", "科技人员不能多于职工人数。"),
        (
            LAST,
            {"employees": 10, "st_staff": 5, "master_staff": 11},
            "master_staff",
            "硕士及以上学历人员不能多于职工人数。",
        ),
        (
            LAST,
            {"revenue": Decimal("100"), "hitech_revenue": Decimal("100.01")},
            "hitech_revenue",
            "高新技术产品（服务）收入不能高于营业收入。",
        ),
        (LAST, {"st_staff": 121}, "st_staff", "科技人员不能多于职工人数。"),  # the row has 120 employees
        (LAST, {"employees": 2.5}, "employees", "职工人数应为整数。"),
        (LAST, {"revenue": "十万"}, "revenue", "营业收入应为金额（元）。"),
    ],
)
def test_a_refused_figure_names_its_field_in_chinese_and_saves_nothing(cast, year, data, field, message):
    firm = cast.firm_a.enterprise
    before = list(AnnualFigures.objects.filter(enterprise=firm).values())
    with pytest.raises(ServiceError) as refused:
        annual_figures_save(enterprise=firm, year=year, data=data, by=cast.firm_a)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert list(AnnualFigures.objects.filter(enterprise=firm).values()) == before


def test_more_grants_than_applications_and_a_loss_are_fine(cast):
    firm = cast.firm_a.enterprise
    saved = annual_figures_save(
        enterprise=firm,
        year=MIDDLE,
        data={"invention_applications": 1, "invention_grants": 4, "net_profit": Decimal("-250000.00")},
        by=cast.firm_a,
    )
    assert (saved.invention_grants, saved.net_profit) == (4, Decimal("-250000.00"))


def test_only_the_firms_own_users_write_its_figures(cast):
    firm = cast.firm_a.enterprise
    for user in (cast.firm_b, cast.officer_a, cast.staff):
        with pytest.raises(NotAllowedError):
            annual_figures_save(enterprise=firm, year=LAST, data={"revenue": Decimal("1")}, by=user)
    assert row(firm, LAST).revenue == Decimal("50000000.00")


def test_saving_a_year_twice_updates_its_one_row_records_the_change_and_rescores_after_commit(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    firm = cast.firm_a.enterprise
    rescored = []
    monkeypatch.setattr("enterprises.scoring.score_recompute_later", rescored.append)
    with django_capture_on_commit_callbacks(execute=True):
        annual_figures_save(
            enterprise=firm,
            year=MIDDLE,
            data={"revenue": Decimal("30000000.00"), "pct_applications": 2},
            by=cast.firm_a,
        )
        assert rescored == []  # not before the commit
    assert rescored == [firm]
    with django_capture_on_commit_callbacks(execute=True):
        annual_figures_save(enterprise=firm, year=MIDDLE, data={"pct_applications": 3}, by=cast.firm_a)
    middle = row(firm, MIDDLE)
    assert AnnualFigures.objects.filter(enterprise=firm, year=MIDDLE).count() == 1
    assert (middle.revenue, middle.pct_applications) == (Decimal("30000000.00"), 3)  # the rest is kept
    trail = list(Transition.objects.filter(object_id=firm.pk, to_state="figures_recorded").order_by("id"))
    assert [t.data["year"] for t in trail] == [MIDDLE, MIDDLE]
    assert trail[0].from_state == "" and trail[1].from_state == "figures_recorded"
    assert trail[1].data["changes"] == {"pct_applications": {"old": 2, "new": 3}}
    assert "PCT 专利申请数" in trail[1].note and trail[1].actor == cast.firm_a
    assert firm.latest_figures.year == LAST  # the older year does not become the latest


# ------------------------------------------------------------------------------------------------
# The profile page: three years in one form, money in 万元
# ------------------------------------------------------------------------------------------------


def figures_post(**over) -> dict:
    data = {}
    for year, revenue in ((LAST, "3000"), (MIDDLE, "2500.5"), (FIRST, "")):
        data.update(
            {
                f"y{year}-revenue": revenue,
                f"y{year}-rd_spend": "240" if revenue else "",
                f"y{year}-employees": "80" if revenue else "",
                f"y{year}-st_staff": "20" if revenue else "",
                f"y{year}-hitech_revenue": "1200" if revenue else "",
                f"y{year}-net_profit": "-35.5" if revenue else "",
                f"y{year}-tech_contract_turnover": "1234.56" if year == LAST else "",
                f"y{year}-invention_applications": "3" if revenue else "",
            }
        )
    data.update(over)
    return data


def test_the_profile_page_saves_three_years_in_wan_and_shows_them_again(cast, client_for):
    firm = f.FirmUserFactory(
        username="fresh_firm",
        enterprise=f.EnterpriseFactory(
            revenue_last_year=None, rd_spend_last_year=None, employees=None, rd_staff=None
        ),
    )
    c = client_for(firm)
    page = c.get("/firm/profile/").content.decode()
    assert "年度经营数据" in page
    assert [f'data-figures-year="{y}"' in page for y in (LAST, MIDDLE, FIRST)] == [True, True, True]
    r = c.post("/firm/profile/figures/", figures_post(**{f"y{FIRST}-st_awards": "1"}))
    assert r.status_code == 302 and r["Location"].endswith("/firm/profile/#figures")
    last, middle, first = (row(firm.enterprise, y) for y in (LAST, MIDDLE, FIRST))
    assert (last.revenue, last.rd_spend, last.employees, last.st_staff) == (
        Decimal("30000000.00"),
        Decimal("2400000.00"),
        80,
        20,
    )
    assert last.net_profit == Decimal("-355000.00") and last.tech_contract_turnover == Decimal("12345600.00")
    assert middle.revenue == Decimal("25005000.00") and middle.tech_contract_turnover is None
    assert first.st_awards == 1 and first.revenue is None
    page = c.get("/firm/profile/").content.decode()
    for value in ('value="3000.00"', 'value="2500.50"', 'value="1234.56"', 'value="-35.50"'):
        assert value in page


def test_a_year_left_blank_gets_no_row(cast, client_for):
    firm = f.FirmUserFactory(
        username="fresh_firm",
        enterprise=f.EnterpriseFactory(
            revenue_last_year=None, rd_spend_last_year=None, employees=None, rd_staff=None
        ),
    )
    assert client_for(firm).post("/firm/profile/figures/", figures_post()).status_code == 302
    assert sorted(firm.enterprise.annual_figures.values_list("year", flat=True)) == [MIDDLE, LAST]


@pytest.mark.parametrize(
    "over, message",
    [
        ({f"y{MIDDLE}-st_staff": "81"}, "科技人员不能多于职工人数。"),  # the service's rule
        ({f"y{MIDDLE}-revenue": "-5"}, "营业收入不能为负数。"),  # the form's
        ({f"y{MIDDLE}-employees": "很多"}, "请填写整数。"),
        ({f"y{LAST}-hitech_revenue": "3000.01"}, "高新技术产品（服务）收入不能高于营业收入。"),
    ],
)
def test_a_bad_year_is_shown_on_its_field_and_no_year_is_saved(cast, client_for, over, message):
    firm = cast.firm_a.enterprise
    before = list(AnnualFigures.objects.filter(enterprise=firm).values())
    r = client_for(cast.firm_a).post("/firm/profile/figures/", figures_post(**over))
    assert r.status_code == 200
    assert message in r.content.decode() and "is-invalid" in r.content.decode()
    assert list(AnnualFigures.objects.filter(enterprise=firm).values()) == before


def test_the_figures_page_is_the_firms_only(cast, client_for):
    assert client_for(cast.officer_a).post("/firm/profile/figures/", figures_post()).status_code == 403
    r = client_for(cast.firm_a).get("/firm/profile/figures/")
    assert r.status_code == 302 and r["Location"].endswith("/firm/profile/#figures")


# ------------------------------------------------------------------------------------------------
# The API: the single-year names as aliases, the list of years, one year by PUT
# ------------------------------------------------------------------------------------------------


def test_the_api_aliases_read_and_write_the_latest_year(cast, api_for):
    firm = cast.firm_a.enterprise
    api = api_for(cast.firm_a)
    body = api.get("/api/v1/enterprises/me/").json()
    assert (body["revenue_last_year"], body["rd_spend_last_year"], body["employees"], body["rd_staff"]) == (
        "50000000.00",
        "4000000.00",
        120,
        30,
    )
    assert [y["year"] for y in body["annual_figures"]] == [LAST]
    r = api.patch(
        "/api/v1/enterprises/me/",
        {"revenue_last_year": "60000000.00", "rd_staff": 40, "employees": 150},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["revenue_last_year"], r.json()["rd_staff"], r.json()["employees"]) == (
        "60000000.00",
        40,
        150,
    )
    last = row(firm, LAST)
    assert (last.revenue, last.st_staff, last.employees, last.rd_spend) == (
        Decimal("60000000.00"),
        40,
        150,
        Decimal("4000000.00"),
    )
    r = api.patch("/api/v1/enterprises/me/", {"rd_staff": 151}, format="json")
    assert r.status_code == 400 and r.json()["rd_staff"] == ["科技人员不能多于职工人数。"]
    assert row(firm, LAST).st_staff == 40


def test_an_alias_write_of_a_firm_without_figures_makes_last_years_row(cast, api_for):
    user = f.FirmUserFactory(
        username="fresh_firm",
        enterprise=f.EnterpriseFactory(
            revenue_last_year=None, rd_spend_last_year=None, employees=None, rd_staff=None
        ),
    )
    api = api_for(user)
    body = api.get("/api/v1/enterprises/me/").json()
    assert body["revenue_last_year"] is None and body["annual_figures"] == []
    assert (
        api.patch("/api/v1/enterprises/me/", {"rd_spend_last_year": "900000.00"}, format="json").status_code
        == 200
    )
    assert list(user.enterprise.annual_figures.values_list("year", "rd_spend")) == [
        (LAST, Decimal("900000.00"))
    ]


def test_put_one_year_replaces_its_row_and_the_me_endpoint_lists_the_years(cast, api_for):
    firm = cast.firm_a.enterprise
    api = api_for(cast.firm_a)
    r = api.put(
        f"/api/v1/enterprises/me/figures/{MIDDLE}/",
        {"revenue": "20000000.00", "tech_contract_turnover": "2000000.00", "pct_applications": 1},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["year"] == MIDDLE and r.json()["pct_applications"] == 1 and r.json()["employees"] is None
    assert (
        api.get(f"/api/v1/enterprises/me/figures/{MIDDLE}/").json()["tech_contract_turnover"] == "2000000.00"
    )
    r = api.put(f"/api/v1/enterprises/me/figures/{MIDDLE}/", {"revenue": "21000000.00"}, format="json")
    assert r.json()["tech_contract_turnover"] is None  # PUT replaces the year
    years = api.get("/api/v1/enterprises/me/").json()["annual_figures"]
    assert [(y["year"], y["revenue"]) for y in years] == [(LAST, "50000000.00"), (MIDDLE, "21000000.00")]
    r = api.put("/api/v1/enterprises/me/figures/2020/", {"revenue": "1.00"}, format="json")
    assert r.status_code == 400 and "最近三个财务年度" in r.json()["detail"]
    r = api.put(f"/api/v1/enterprises/me/figures/{FIRST}/", {"employees": 5, "st_staff": 6}, format="json")
    assert r.status_code == 400 and r.json()["st_staff"] == ["科技人员不能多于职工人数。"]
    assert api.get(f"/api/v1/enterprises/me/figures/{FIRST}/").status_code == 404
    other = api_for(cast.firm_b).get("/api/v1/enterprises/me/").json()["annual_figures"]
    assert [y["revenue"] for y in other] == ["50000000.00"] and not AnnualFigures.objects.filter(
        enterprise=cast.firm_b.enterprise, year=MIDDLE
    ).exists()  # firm B's own rows only
    assert firm.annual_figures.count() == 2


# ------------------------------------------------------------------------------------------------
# Completeness
# ------------------------------------------------------------------------------------------------


def missing(firm) -> set[str]:
    return {m["code"] for m in profile_completeness(Enterprise.objects.get(pk=firm.pk))["missing"]}


def test_completeness_counts_the_latest_years_four_figures_and_one_other(cast):
    bare = f.EnterpriseFactory(revenue_last_year=None, rd_spend_last_year=None, employees=None, rd_staff=None)
    assert {"employees", "st_staff", "revenue", "rd_spend", "other_figures"} <= missing(bare)
    firm = cast.firm_a.enterprise  # last year: revenue, R&D spend, employees and S&T staff only
    assert not {"employees", "st_staff", "revenue", "rd_spend"} & missing(firm)
    assert "other_figures" in missing(firm)
    before = profile_completeness(firm)["percent"]
    annual_figures_save(enterprise=firm, year=LAST, data={"invention_applications": 0}, by=cast.firm_a)
    assert "other_figures" not in missing(firm)  # a reported 0 is an answer
    assert profile_completeness(Enterprise.objects.get(pk=firm.pk))["percent"] > before
    annual_figures_save(enterprise=firm, year=LAST, data={"revenue": None}, by=cast.firm_a)
    assert "revenue" in missing(firm)


def test_an_older_year_does_not_fill_the_latest_years_gaps(cast):
    firm = cast.firm_a.enterprise
    annual_figures_save(enterprise=firm, year=MIDDLE, data={"st_awards": 2}, by=cast.firm_a)
    assert "other_figures" in missing(firm)


# ------------------------------------------------------------------------------------------------
# The bank view: the figures belong to the scope ``financials``
# ------------------------------------------------------------------------------------------------

TURNOVER = Decimal("12345600.00")  # 1,234.56万元


@pytest.fixture
def lead(cast, django_capture_on_commit_callbacks):
    """Firm A (sharing nothing) with three years of figures; a full matching run makes bank A's lead."""
    firm = cast.firm_a.enterprise
    Enterprise.objects.filter(pk=firm.pk).update(shares_profile=False)
    annual_figures_save(
        enterprise=firm,
        year=LAST,
        data={"tech_contract_turnover": TURNOVER, "pct_applications": 3, "rd_platforms": 2},
        by=cast.firm_a,
    )
    annual_figures_save(
        enterprise=firm, year=MIDDLE, data={"revenue": Decimal("40000000.00")}, by=cast.firm_a
    )
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official", issued_on=date(2025, 1, 1))
    for _ in range(5):
        f.IPAssetFactory(enterprise=firm)
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    f.NeedFactory(enterprise=firm)
    with django_capture_on_commit_callbacks(execute=True):
        start_full_run(trigger="manual", user=cast.staff)
    return Match.objects.get(enterprise=firm, product=product, is_lead=True)


def bank_sees(cast, client_for, api_for, lead) -> tuple[str, dict]:
    page = client_for(cast.officer_a).get(f"/bank/leads/{lead.pk}/")
    assert page.status_code == 200
    api = api_for(cast.officer_a).get(f"/api/v1/matches/{lead.pk}/")
    assert api.status_code == 200
    return page.content.decode(), api.json()["enterprise_profile"]


def test_a_bank_sees_the_latest_years_figures_only_with_the_financials_scope(cast, client_for, api_for, lead):
    firm = cast.firm_a.enterprise
    figure_keys = {
        "figures",
        "figures_year",
        "revenue_last_year",
        "employees",
        "rd_staff",
        "rd_spend_last_year",
    }

    page, profile = bank_sees(cast, client_for, api_for, lead)
    assert "1,234.56" not in page and "技术合同成交额" not in page and "年度经营数据" not in page
    assert not figure_keys & set(profile)

    consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, scope=["basic", "ip"])
    page, profile = bank_sees(cast, client_for, api_for, lead)
    assert firm.uscc in page  # the basic group is shown …
    assert (
        "1,234.56" not in page and "年度经营数据" not in page and not figure_keys & set(profile)
    )  # … not these

    consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, scope=["financials"])
    page, profile = bank_sees(cast, client_for, api_for, lead)
    assert f"{LAST} 年度经营数据" in page and "1,234.56万元" in page and "5,000.00万元" in page
    assert profile["figures_year"] == LAST
    assert Decimal(str(profile["figures"]["tech_contract_turnover"])) == TURNOVER
    assert profile["figures"]["rd_platforms"] == 2 and Decimal(str(profile["revenue_last_year"])) == Decimal(
        "50000000.00"
    )
    staff = enterprise_profile_for_bank(user=cast.staff, enterprise=firm, purpose="lead")
    assert staff["figures"]["pct_applications"] == 3


def test_the_matching_facts_are_the_latest_years_figures_read_without_a_query_per_firm(
    cast, django_assert_num_queries
):
    from enterprises.models import FinancingNeed
    from matching.facts import firm_facts, firm_facts_prefetch

    annual_figures_save(
        enterprise=cast.firm_a.enterprise, year=MIDDLE, data={"revenue": Decimal("1.00")}, by=cast.firm_a
    )
    for n in range(4):
        firm = f.EnterpriseFactory(revenue_last_year=Decimal(n), rd_staff=n, employees=10)
        f.NeedFactory(enterprise=firm)
    f.NeedFactory(enterprise=cast.firm_a.enterprise)
    f.NeedFactory(
        enterprise=f.EnterpriseFactory(
            revenue_last_year=None, rd_spend_last_year=None, employees=None, rd_staff=None
        )
    )
    needs = FinancingNeed.objects.select_related("enterprise__city").prefetch_related(
        *firm_facts_prefetch("enterprise__")
    )
    with django_assert_num_queries(5):  # needs, qualifications, IP assets, annual figures, current score
        facts = {need.enterprise_id: firm_facts(need.enterprise) for need in needs}
    a = facts[cast.firm_a.enterprise_id]
    assert (a.revenue, a.rd_spend, a.employees, a.rd_staff) == (
        Decimal("50000000.00"),
        Decimal("4000000.00"),
        120,
        30,
    )
    assert sorted(x.rd_staff for x in facts.values()) == [0, 0, 1, 2, 3, 30]  # none recorded: 0
