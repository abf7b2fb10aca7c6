"""Service visits 一对一精准服务: record, list per firm and in total, follow-ups due on the dashboard,
a need posted on the firm's behalf, and who may do what."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enterprises import visits
from enterprises.models import FinancingNeed, ServiceVisit
from portal.models import Notification
from portal.services import NotAllowedError, ServiceError
from tests import factories as f

pytestmark = pytest.mark.django_db


def record(cast, **overrides):
    fields = {
        "user": cast.staff,
        "enterprise": cast.firm_a.enterprise,
        "visited_on": timezone.localdate(),
        "team": "省创新创业服务中心 王伟；甲银行 赵敏",
        "topics": ["hitech_application", "financing_need"],
        "institution": cast.bank_a,
        "findings": "研发费用归集不规范",
        "follow_up": "协助整理研发台账",
        "follow_up_due": timezone.localdate() + timedelta(days=3),
    }
    fields.update(overrides)
    return visits.visit_record(**fields)


def test_staff_record_a_visit_through_the_page(cast, client_for):
    today = timezone.localdate()
    response = client_for(cast.staff).post(
        "/staff/visits/new/",
        {
            "uscc": cast.firm_a.enterprise.uscc,
            "visited_on": today.isoformat(),
            "team": "中心 王伟；甲银行 赵敏",
            "institution": cast.bank_a.pk,
            "topics": ["rd_expense", "other"],
            "findings": "需要研发投入归集辅导",
            "follow_up": "下周送培训材料",
            "follow_up_due": (today + timedelta(days=5)).isoformat(),
        },
    )
    visit = ServiceVisit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/visits/{visit.pk}/"
    assert visit.topics == ["rd_expense", "other"] and visit.recorded_by == cast.staff
    detail = client_for(cast.staff).get(response["Location"]).content.decode()
    assert "研发投入归集" in detail


def test_bad_input_saves_nothing_and_says_why_in_chinese(cast, client_for):
    response = client_for(cast.staff).post(
        "/staff/visits/new/",
        {"uscc": "911000001000013428", "visited_on": "2026-01-01", "team": "x", "topics": ["other"]},
    )
    assert response.status_code == 200
    assert "平台上没有这个统一社会信用代码的企业" in response.content.decode()
    assert not ServiceVisit.objects.exists()
    with pytest.raises(ServiceError, match="跟进事项"):
        record(cast, follow_up="")


def test_visits_are_listed_in_total_and_per_firm_with_pagination(cast, client_for):
    for _ in range(22):
        record(cast)
    record(cast, enterprise=cast.firm_b.enterprise)
    client = client_for(cast.staff)
    total = client.get("/staff/visits/").content.decode()
    assert "第 1 / 2 页" in total
    per_firm = client.get(f"/staff/visits/firms/{cast.firm_b.enterprise_id}/").content.decode()
    assert per_firm.count("/staff/visits/firms/") == 1


def test_follow_ups_due_show_on_the_dashboard_until_done(cast, client_for):
    visit = record(cast)
    record(cast, follow_up_due=timezone.localdate() + timedelta(days=30))
    assert list(visits.follow_ups_due(user=cast.staff)) == [visit]
    assert f"/staff/visits/{visit.pk}/" in client_for(cast.staff).get("/dashboard/").content.decode()
    client_for(cast.staff).post(f"/staff/visits/{visit.pk}/done/")
    visit.refresh_from_db()
    assert visit.follow_up_done
    assert list(visits.follow_ups_due(user=cast.staff)) == []


def test_a_managers_dashboard_shows_the_follow_ups_of_visits_with_his_bank(cast):
    mine = record(cast)
    record(cast, institution=cast.bank_b)
    assert list(visits.follow_ups_due(user=cast.manager_a)) == [mine]


def test_a_need_found_on_a_visit_is_posted_on_the_firms_behalf_and_the_firm_asked_to_confirm(cast):
    from decimal import Decimal

    record(
        cast,
        need={
            "amount": Decimal("3000000"),
            "term_months": 12,
            "purpose": "rd",
            "guarantee_types": ["credit"],
        },
    )
    need = FinancingNeed.objects.get(enterprise=cast.firm_a.enterprise)
    assert need.on_behalf and not need.confirmed_by_firm and need.posted_by == cast.staff
    note = Notification.objects.get(user=cast.firm_a)
    assert "请确认" in note.title and note.url == f"/staff/visits/needs/{need.pk}/confirm/"


def test_the_firm_confirms_the_need_posted_on_its_behalf(cast, client_for, monkeypatch):
    from decimal import Decimal

    enqueued = []
    monkeypatch.setattr("matching.services.dispatch.enqueue_need_match", enqueued.append)
    record(cast, need={"amount": Decimal("1000000"), "term_months": 6})
    need = FinancingNeed.objects.get()
    url = f"/staff/visits/needs/{need.pk}/confirm/"
    assert client_for(cast.firm_b).get(url).status_code == 404
    assert client_for(cast.officer_a).get(url).status_code == 403
    client = client_for(cast.firm_a)
    assert "100.00万元" in client.get(url).content.decode()
    client.post(url, {"action": "confirm"})
    need.refresh_from_db()
    assert need.confirmed_by_firm and enqueued == [need]


@pytest.mark.parametrize("who", ["firm_a", "officer_a", "manager_a"])
def test_only_staff_use_the_visit_pages(cast, client_for, who):
    for url in ("/staff/visits/", "/staff/visits/new/"):
        assert client_for(getattr(cast, who)).get(url).status_code == 403
    with pytest.raises(NotAllowedError):
        record(cast, user=getattr(cast, who))


def test_the_visit_list_takes_the_same_queries_for_5_and_50_rows(
    cast, client_for, django_assert_max_num_queries
):
    client = client_for(cast.staff)
    for _ in range(5):
        record(cast, enterprise=f.EnterpriseFactory())
    with django_assert_max_num_queries(12):
        client.get("/staff/visits/")
    for _ in range(45):
        record(cast, enterprise=f.EnterpriseFactory())
    with django_assert_max_num_queries(12):
        client.get("/staff/visits/")
