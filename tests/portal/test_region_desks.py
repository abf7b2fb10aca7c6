"""Region desks (区域专班, issue 20 items 1 and 4): a city's or the 综改区's desk sees and acts only
within its region — verification, identity reviews, service visits, the dashboard (its city filter
locked) and its exports; it does not do subsidies, matching runs or the calendar; the workspace
shows its region's work in hand first, the province's beside it.

The dashboard world is the hand-counted one of ``test_dashboard`` (太原: 一号, 生物, 边界内/外, 去年
and every lead, application and loan; 大同: 三号 and its withdrawn need)."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from dashboard import selectors as dashboard
from enterprises import visits
from enterprises.models import Enterprise, IdentityChange, ServiceVisit
from enterprises.services import enterprise_verify
from portal.models import Role, User
from portal.services import ServiceError
from tests import factories as f
from tests.portal.test_dashboard import PERIOD, world  # noqa: F401  (the hand-counted world)

pytestmark = pytest.mark.django_db

TAIYUAN, DATONG, ZONGGAI = "140100", "140200", "140171"


@pytest.fixture
def desks(db):
    ns = type("Desks", (), {})()
    ns.taiyuan = f.RegionDeskFactory(username="desk_taiyuan", region=f.region(TAIYUAN))
    ns.datong = f.RegionDeskFactory(username="desk_datong", region=f.region(DATONG))
    return ns


# --- the role ----------------------------------------------------------------------------------------


def test_a_region_desk_without_a_region_is_refused_with_a_chinese_message_on_the_field():
    user = User(username="desk", role=Role.REGION)
    user.set_unusable_password()
    with pytest.raises(ValidationError) as refused:
        user.full_clean()
    assert "区域专班账号必须选择所属区域" in " ".join(refused.value.message_dict["region"])


def test_the_admins_user_form_shows_the_message_before_the_constraint(admin_client):
    response = admin_client.post(
        "/admin/portal/user/add/",
        {
            "username": "desk_new",
            "password1": "Kj-desk-2026!x",
            "password2": "Kj-desk-2026!x",
            "role": "region",
        },
    )
    assert response.status_code == 200
    assert "区域专班账号必须选择所属区域" in response.content.decode()
    assert not User.objects.filter(username="desk_new").exists()


def test_a_region_desk_is_a_government_desk_but_not_the_province(desks):
    assert desks.taiyuan.is_government and desks.taiyuan.is_region_desk
    assert not desks.taiyuan.is_provincial


# --- the dashboard: locked to its region -------------------------------------------------------------


def test_a_region_desks_summary_equals_the_provinces_summary_filtered_to_that_region(world, desks, api_for):  # noqa: F811
    staff = api_for(world.cast.staff)
    for desk, city in ((desks.taiyuan, TAIYUAN), (desks.datong, DATONG)):
        province = staff.get("/api/v1/dashboard/summary/", {**PERIOD, "city": city})
        own = api_for(desk).get("/api/v1/dashboard/summary/", PERIOD)
        assert province.status_code == own.status_code == 200
        assert own.json() == province.json()
    # by hand: 太原 has 3 firms registered in the period (一号, 生物, 边界内), all 3 leads, 1 loan of
    # 400 万元; 大同 1 firm (三号), no lead and no loan.
    taiyuan = api_for(desks.taiyuan).get("/api/v1/dashboard/summary/", PERIOD).json()
    assert (taiyuan["firms_registered"], taiyuan["leads"], taiyuan["loans_disbursed_amount"]) == (
        3,
        3,
        "4000000.00",
    )
    datong = api_for(desks.datong).get("/api/v1/dashboard/summary/", PERIOD).json()
    assert (datong["firms_registered"], datong["leads"], datong["loans_disbursed_count"]) == (1, 0, 0)
    everything = staff.get("/api/v1/dashboard/summary/", PERIOD).json()
    assert everything["firms_registered"] == 4 != taiyuan["firms_registered"]


def test_the_region_filter_is_locked_asking_for_another_region_is_404(world, desks, api_for, client_for):  # noqa: F811
    assert (
        api_for(desks.taiyuan).get("/api/v1/dashboard/summary/", {**PERIOD, "city": DATONG}).status_code
        == 404
    )
    assert (
        api_for(desks.taiyuan)
        .get("/api/v1/dashboard/series/", {**PERIOD, "city": DATONG, "group_by": "month"})
        .status_code
        == 404
    )
    page = client_for(desks.taiyuan)
    assert page.get("/dashboard/", {**PERIOD, "city": DATONG}).status_code == 404
    # another region's export, of a list and of a chart → 404; its own region's downloads
    export = {**PERIOD, "period": "custom", "export": "xlsx"}
    assert page.get("/dashboard/lists/leads/", {**export, "city": DATONG}).status_code == 404
    assert page.get("/dashboard/charts/city/export/", {**export, "city": DATONG}).status_code == 404
    own = page.get("/dashboard/lists/leads/", {**export, "city": TAIYUAN})
    assert own.status_code == 200 and own["Content-Type"].startswith("application/vnd.openxmlformats")
    # the page offers no city to choose and names its region
    html = page.get("/dashboard/", PERIOD).content.decode()
    assert 'name="city"' not in html and "太原市" in html


def test_a_region_desks_export_holds_only_its_regions_rows(world, desks, client_for):  # noqa: F811
    import io

    from openpyxl import load_workbook

    params = {**PERIOD, "period": "custom", "export": "xlsx"}
    datong = client_for(desks.datong).get("/dashboard/lists/firms_registered/", params)
    rows = list(load_workbook(io.BytesIO(datong.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["大同三号"]
    taiyuan = client_for(desks.taiyuan).get("/dashboard/lists/firms_registered/", params)
    names = {
        r[0] for r in list(load_workbook(io.BytesIO(taiyuan.content)).active.iter_rows(values_only=True))[1:]
    }
    assert names == {"太原一号", "太原生物", "边界内"}


def test_overdue_leads_and_stalled_applications_are_its_firms_only(world, desks):  # noqa: F811
    filters = dashboard.Filters(start=date(2026, 2, 1), end=date(2026, 3, 31))
    with time_machine.travel(date(2026, 4, 1), tick=False):
        assert list(dashboard.overdue_leads(user=desks.taiyuan, filters=filters)) == [world.m3]
        assert list(dashboard.overdue_leads(user=desks.datong, filters=filters)) == []
        assert list(dashboard.stalled_applications(user=desks.taiyuan, filters=filters)) == [world.a3]
        assert list(dashboard.stalled_applications(user=desks.datong, filters=filters)) == []


def test_another_regions_lead_and_application_record_is_404(world, desks, client_for):  # noqa: F811
    assert client_for(desks.taiyuan).get(f"/dashboard/leads/{world.m3.pk}/").status_code == 200
    assert client_for(desks.datong).get(f"/dashboard/leads/{world.m3.pk}/").status_code == 404
    assert client_for(desks.datong).get(f"/dashboard/applications/{world.a3.pk}/").status_code == 404


# --- verification and identity reviews ------------------------------------------------------------------


def test_its_verify_list_holds_only_its_regions_firms(desks, client_for, cast):
    taiyuan_firm = f.EnterpriseFactory(name="太原待审", verification_status="pending")
    datong_firm = f.EnterpriseFactory(name="大同待审", verification_status="pending", city=f.region(DATONG))
    zone_firm = f.EnterpriseFactory(name="综改待审", verification_status="pending", city=f.region(ZONGGAI))
    change = IdentityChange.objects.create(
        enterprise=f.EnterpriseFactory(city=f.region(DATONG)), changes={"name": {"old": "甲", "new": "乙"}}
    )
    page = client_for(desks.taiyuan).get("/firm/verify/").content.decode()
    assert f'data-firm="{taiyuan_firm.pk}"' in page
    assert f'data-firm="{datong_firm.pk}"' not in page and f'data-firm="{zone_firm.pk}"' not in page
    assert f'data-identity-change="{change.pk}"' not in page
    datong = client_for(desks.datong).get("/firm/verify/").content.decode()
    assert f'data-firm="{datong_firm.pk}"' in datong and f'data-identity-change="{change.pk}"' in datong
    assert f'data-firm="{taiyuan_firm.pk}"' not in datong
    province = client_for(cast.staff).get("/firm/verify/").content.decode()
    assert all(f'data-firm="{e.pk}"' in province for e in (taiyuan_firm, datong_firm, zone_firm))


def test_a_region_desk_verifies_its_firm_and_gets_404_on_another_regions(desks, client_for):
    own = f.EnterpriseFactory(verification_status="pending")
    other = f.EnterpriseFactory(verification_status="pending", city=f.region(DATONG))
    client = client_for(desks.taiyuan)
    assert client.post(f"/firm/verify/{own.pk}/", {"action": "verify"}).status_code == 302
    assert client.post(f"/firm/verify/{other.pk}/", {"action": "verify"}).status_code == 404
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.verification_status == "verified" and own.verified_by == desks.taiyuan
    assert other.verification_status == "pending" and other.verified_by is None
    with pytest.raises(ServiceError) as refused:
        enterprise_verify(user=desks.taiyuan, enterprise=other, approve=True)
    assert refused.value.status == 404
    assert Enterprise.objects.get(pk=other.pk).verification_status == "pending"


def test_another_regions_identity_change_is_404_and_stays_pending(desks, client_for):
    change = IdentityChange.objects.create(
        enterprise=f.EnterpriseFactory(city=f.region(DATONG)), changes={"name": {"old": "甲", "new": "乙"}}
    )
    assert (
        client_for(desks.taiyuan)
        .post(f"/firm/verify/changes/{change.pk}/", {"action": "approve"})
        .status_code
        == 404
    )
    change.refresh_from_db()
    assert change.status == IdentityChange.Status.PENDING
    assert (
        client_for(desks.datong).post(f"/firm/verify/changes/{change.pk}/", {"action": "approve"}).status_code
        == 302
    )
    change.refresh_from_db()
    assert change.status == IdentityChange.Status.APPROVED and change.reviewed_by == desks.datong


def test_a_new_firm_is_announced_to_the_province_and_its_regions_desk_only(desks, cast):
    from enterprises.services import desks_for

    firm = f.EnterpriseFactory(city=f.region(DATONG))
    assert set(desks_for(firm)) == {cast.staff, desks.datong}


# --- service visits ---------------------------------------------------------------------------------------


def test_a_region_desk_records_visits_at_its_firms_only(desks, cast, client_for):
    today = timezone.localdate()
    own = cast.firm_a.enterprise  # 太原
    visit = visits.visit_record(
        user=desks.taiyuan, enterprise=own, visited_on=today, team="太原市财政局 郭宁", topics=["other"]
    )
    assert visit.recorded_by == desks.taiyuan
    with pytest.raises(ServiceError) as refused:
        visits.visit_record(
            user=desks.datong, enterprise=own, visited_on=today, team="大同市财政局", topics=["other"]
        )
    assert refused.value.status == 404
    assert ServiceVisit.objects.filter(enterprise=own).count() == 1
    # through the page: another region's USCC is not found (its existence is not told)
    response = client_for(desks.datong).post(
        "/staff/visits/new/",
        {"uscc": own.uscc, "visited_on": today.isoformat(), "team": "大同市财政局", "topics": ["other"]},
    )
    assert response.status_code == 200
    assert "本区域没有这个统一社会信用代码的企业" in " ".join(response.context["form"].errors["uscc"])
    assert ServiceVisit.objects.filter(enterprise=own).count() == 1


def test_another_regions_visit_and_firm_visits_are_404_and_its_follow_up_stays_open(desks, cast, client_for):
    today = timezone.localdate()
    visit = visits.visit_record(
        user=cast.staff,
        enterprise=cast.firm_a.enterprise,
        visited_on=today,
        team="省中心 王伟",
        topics=["other"],
        follow_up="补充材料",
        follow_up_due=today + timedelta(days=2),
    )
    datong = client_for(desks.datong)
    assert datong.get(f"/staff/visits/{visit.pk}/").status_code == 404
    assert datong.get(f"/staff/visits/firms/{cast.firm_a.enterprise.pk}/").status_code == 404
    assert datong.post(f"/staff/visits/{visit.pk}/done/").status_code == 404
    visit.refresh_from_db()
    assert not visit.follow_up_done
    assert f"/staff/visits/{visit.pk}/" not in datong.get("/staff/visits/").content.decode()
    taiyuan = client_for(desks.taiyuan)
    assert f"/staff/visits/{visit.pk}/" in taiyuan.get("/staff/visits/").content.decode()
    assert taiyuan.post(f"/staff/visits/{visit.pk}/done/").status_code == 302
    visit.refresh_from_db()
    assert visit.follow_up_done


# --- what a region desk does not do ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/subsidies/policies/",
        "/subsidies/policies/new/",
        "/subsidies/claims/",
        "/subsidies/ledger/",
        "/subsidies/lpr/",
        "/matching/runs/",
        "/staff/calendar/",
        "/staff/audit/",
        "/staff/official-lists/",
        "/bank/leads/",
    ],
)
def test_a_region_desk_is_refused_subsidies_runs_calendar_and_audit(desks, client_for, url):
    assert client_for(desks.taiyuan).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/api/v1/subsidies/ledger/", "/api/v1/match-runs/", "/api/v1/audit/"])
def test_a_region_desk_is_refused_the_provinces_apis(desks, api_for, url):
    assert api_for(desks.taiyuan).get(url).status_code == 403


# --- the workspace: its region first, the province beside it ---------------------------------------------------


def _figures(page: str, code: str) -> str:
    start = page.index(f'data-figure="{code}"')
    return page[start : start + 800]


def test_the_workspace_shows_its_regions_figures_first_and_the_provinces_for_comparison(
    desks, cast, client_for, settings
):
    today = timezone.localdate()
    f.EnterpriseFactory(verification_status="pending")  # 太原
    f.EnterpriseFactory(verification_status="pending")  # 太原
    f.EnterpriseFactory(verification_status="pending", city=f.region(DATONG))
    for firm in (cast.firm_a.enterprise, f.EnterpriseFactory(city=f.region(DATONG))):
        visits.visit_record(
            user=cast.staff,
            enterprise=firm,
            visited_on=today,
            team="省中心",
            topics=["other"],
            follow_up="回访",
            follow_up_due=today + timedelta(days=1),
        )
    settings.REGION_DESK_SEES_PROVINCE = True
    response = client_for(desks.datong).get("/staff/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-workspace="region"' in page and "大同市区域专班工作台" in page
    pending = _figures(page, "firms_pending_verification")
    assert 'data-value="1"' in pending and 'data-province="3"' in pending
    due = _figures(page, "follow_ups_due")
    assert 'data-value="1"' in due and 'data-province="2"' in due
    assert "/matching/" not in page and "/staff/calendar/" not in page
    settings.REGION_DESK_SEES_PROVINCE = False
    page = client_for(desks.datong).get("/staff/").content.decode()
    assert 'data-value="1"' in _figures(page, "firms_pending_verification") and "data-province" not in page


def test_the_desk_figures_count_overdue_leads_of_its_firms(world, desks):  # noqa: F811
    with time_machine.travel(date(2026, 4, 1), tick=False):
        assert dashboard.desk_figures(user=desks.taiyuan)["leads_overdue"] == 1  # m3, 太原生物
        assert dashboard.desk_figures(user=desks.datong)["leads_overdue"] == 0
        assert dashboard.desk_figures(user=desks.datong, province=True)["leads_overdue"] == 1


def test_a_region_desk_lands_on_its_workspace(desks, client_for):
    assert client_for(desks.taiyuan).get("/accounts/landing/")["Location"] == "/staff/"
