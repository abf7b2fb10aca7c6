"""Complaints: the 5-working-day reply deadline (across a holiday), the lifecycle through the one
transition table, reopening once, the auto-close 7 days after the reply, institution scoping and
each role's list."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from feedback.models import Complaint
from feedback.selectors import complaints_overdue
from feedback.services import complaints_autoclose
from portal.models import AuditEvent, Notification, Transition

pytestmark = pytest.mark.django_db

BJ = ZoneInfo("Asia/Shanghai")


def _file(api, **extra):
    payload = {"subject": "客户经理迟迟未联系", "body": "需求推送后一周无人联系。", **extra}
    response = api.post("/api/v1/complaints/", payload, format="json")
    assert response.status_code == 201, response.content
    return Complaint.objects.get(pk=response.json()["id"])


def _to(api, complaint, to, note=""):
    return api.post(f"/api/v1/complaints/{complaint.pk}/transition/", {"to": to, "note": note}, format="json")


def test_the_reply_deadline_is_five_working_days_and_moves_across_national_day(
    cast, ended, api_for, client_for
):
    # Filed Tuesday 2026-09-29 10:00. Working days after it: 09-30 (1); 10-01…10-07 National Day;
    # 10-08 Thu (2), 10-09 Fri (3), 10-10 Sat — a 调休 working day (4); 10-11 Sun off; 10-12 Mon (5).
    with time_machine.travel(datetime(2026, 9, 29, 10, 0, tzinfo=BJ), tick=False):
        complaint = _file(api_for(cast.firm_a), application=ended["withdrawn"].pk)
    assert complaint.response_due_at == datetime(2026, 10, 12, 10, 0, tzinfo=BJ)
    assert complaint.institution_id == cast.bank_a.pk
    with time_machine.travel(datetime(2026, 10, 12, 9, 59, tzinfo=BJ), tick=False):
        assert not complaints_overdue(cast.staff).filter(pk=complaint.pk).exists()
    with time_machine.travel(datetime(2026, 10, 12, 10, 1, tzinfo=BJ), tick=False):
        assert list(complaints_overdue(cast.staff)) == [complaint]
        page = client_for(cast.staff).get(reverse("portal:staff_workspace")).content.decode()
        assert f'data-complaint="{complaint.pk}"' in page
        queue = client_for(cast.staff).get(reverse("feedback:staff_complaint_list")).content.decode()
        assert "已超期" in queue
        assert api_for(cast.staff).get("/api/v1/complaints/?overdue=true").json()["count"] == 1


def test_the_deadline_across_the_2026_spring_festival_counts_the_adjusted_saturday(cast, api_for):
    # Filed Thursday 2026-02-12 10:00: 02-13 Fri (1), 02-14 Sat — a 调休 working day (2);
    # 02-15 … 02-23 Spring Festival; 02-24 Tue (3), 02-25 Wed (4), 02-26 Thu (5).
    with time_machine.travel(datetime(2026, 2, 12, 10, 0, tzinfo=BJ), tick=False):
        complaint = _file(api_for(cast.firm_a), institution=cast.bank_a.pk)
    assert complaint.response_due_at == datetime(2026, 2, 26, 10, 0, tzinfo=BJ)


def test_the_lifecycle_reopens_once_and_every_step_is_audited_and_notified(cast, ended, api_for):
    firm, staff, bank = api_for(cast.firm_a), api_for(cast.staff), api_for(cast.officer_a)
    with time_machine.travel(datetime(2026, 11, 2, 9, 0, tzinfo=BJ), tick=False):
        complaint = _file(firm, match=ended["declined"].pk)
        assert _to(staff, complaint, "handling").status_code == 200
        answer = bank.post(
            f"/api/v1/complaints/{complaint.pk}/transition/",
            {"action": "answer", "note": "已安排客户经理回访"},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        assert answer.json()["institution_answer"] == "已安排客户经理回访"
        assert answer.json()["status"] == "handling"
        no_note = _to(staff, complaint, "replied")
        assert no_note.status_code == 400
        replied = _to(staff, complaint, "replied", "已督促银行三日内联系企业")
        assert replied.status_code == 200 and replied.json()["status"] == "replied"
    with time_machine.travel(datetime(2026, 11, 4, 9, 0, tzinfo=BJ), tick=False):
        reopened = _to(firm, complaint, "handling", "仍未联系")
        assert reopened.status_code == 200
        body = reopened.json()
        assert body["status"] == "handling" and body["reopen_count"] == 1
        # a fresh deadline: 2026-11-04 (Wed) + 5 working days = 2026-11-11 (Wed)
        assert body["response_due_at"].startswith("2026-11-11T09:00:00")
        assert _to(staff, complaint, "replied", "银行已于今日联系").status_code == 200
        second = _to(firm, complaint, "handling", "还是不满意")
        assert second.status_code == 409
        assert "只能" in second.json()["detail"] or "不能再次" in second.json()["detail"]
        complaint.refresh_from_db()
        assert complaint.status == "replied" and complaint.reopen_count == 1
        closed = _to(firm, complaint, "closed")
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
    steps = list(
        Transition.objects.filter(object_id=complaint.pk, content_type__model="complaint").values_list(
            "from_state", "to_state"
        )
    )
    assert steps == [
        ("", "intake"),
        ("intake", "handling"),
        ("handling", "handling"),
        ("handling", "replied"),
        ("replied", "handling"),
        ("handling", "replied"),
        ("replied", "closed"),
    ]
    assert (
        AuditEvent.objects.filter(object_type="feedback.complaint", object_id=str(complaint.pk)).count() >= 7
    )
    firm_titles = list(Notification.objects.filter(user=cast.firm_a).values_list("title", flat=True))
    assert any("答复企业" in t for t in firm_titles) and any("机构说明" in t for t in firm_titles)
    assert Notification.objects.filter(user=cast.officer_a, title__contains="客户经理迟迟未联系").exists()
    detail = firm.get(f"/api/v1/complaints/{complaint.pk}/").json()
    assert [s["action"] for s in detail["timeline"]] == [
        "",
        "handle",
        "answer",
        "reply",
        "reopen",
        "reply",
        "confirm",
    ]


def test_an_illegal_transition_is_a_409_in_chinese_and_changes_nothing(cast, ended, api_for):
    complaint = _file(api_for(cast.firm_a), institution=cast.bank_a.pk)
    response = _to(api_for(cast.firm_a), complaint, "closed")
    assert response.status_code == 409
    assert "不能执行" in response.json()["detail"]
    staff_close = _to(api_for(cast.staff), complaint, "closed")
    assert staff_close.status_code == 409 and "不能转为“已办结”" in staff_close.json()["detail"]
    bank_reply = _to(api_for(cast.officer_a), complaint, "replied", "我们来答复")
    assert bank_reply.status_code == 409
    fresh = Complaint.objects.get(pk=complaint.pk)
    assert fresh.status == "intake" and fresh.reply == "" and fresh.closed_at is None
    assert Transition.objects.filter(object_id=complaint.pk, content_type__model="complaint").count() == 1


def test_a_replied_complaint_closes_by_itself_seven_days_after_the_reply(cast, api_for):
    with time_machine.travel(datetime(2026, 11, 2, 15, 0, tzinfo=BJ), tick=False):
        complaint = _file(api_for(cast.firm_a), institution=cast.bank_a.pk)
        assert _to(api_for(cast.staff), complaint, "replied", "已答复").status_code == 200
    with time_machine.travel(datetime(2026, 11, 9, 14, 59, tzinfo=BJ), tick=False):
        assert complaints_autoclose() == 0
    assert Complaint.objects.get(pk=complaint.pk).status == "replied"
    with time_machine.travel(datetime(2026, 11, 9, 15, 0, tzinfo=BJ), tick=False):
        assert complaints_autoclose() == 1
        assert complaints_autoclose() == 0  # a second run finds nothing
    closed = Complaint.objects.get(pk=complaint.pk)
    assert closed.status == "closed" and closed.closed_at == datetime(2026, 11, 9, 15, 0, tzinfo=BJ)
    last = Transition.objects.filter(object_id=complaint.pk, content_type__model="complaint").last()
    assert last.actor is None and last.data["action"] == "auto_close"


def test_the_institution_concerned_sees_and_answers_and_another_bank_gets_404(
    cast, ended, api_for, client_for
):
    complaint = _file(api_for(cast.firm_a), application=ended["rejected"].pk)
    assert api_for(cast.officer_a).get(f"/api/v1/complaints/{complaint.pk}/").status_code == 200
    assert (
        client_for(cast.officer_a)
        .get(reverse("feedback:bank_complaint_detail", args=[complaint.pk]))
        .status_code
        == 200
    )
    assert api_for(cast.officer_b).get(f"/api/v1/complaints/{complaint.pk}/").status_code == 404
    assert (
        client_for(cast.officer_b)
        .get(reverse("feedback:bank_complaint_detail", args=[complaint.pk]))
        .status_code
        == 404
    )
    hidden = api_for(cast.officer_b).post(
        f"/api/v1/complaints/{complaint.pk}/transition/",
        {"action": "answer", "note": "与我行无关"},
        format="json",
    )
    assert hidden.status_code == 404
    assert Complaint.objects.get(pk=complaint.pk).institution_answer == ""
    page = client_for(cast.officer_a)
    response = page.post(
        reverse("feedback:complaint_action", args=[complaint.pk, "answer"]), {"note": "已复核原因"}
    )
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).institution_answer == "已复核原因"


def test_each_role_lists_exactly_its_complaints(cast, ended, api_for, client_for):
    a = _file(api_for(cast.firm_a), application=ended["withdrawn"].pk)
    b = _file(api_for(cast.firm_b), match=ended["lead_b"].pk)
    assert b.institution_id == cast.bank_b.pk

    def ids(user):
        return {row["id"] for row in api_for(user).get("/api/v1/complaints/").json()["results"]}

    assert ids(cast.firm_a) == {a.pk}
    assert ids(cast.firm_b) == {b.pk}
    assert ids(cast.officer_a) == {a.pk}
    assert ids(cast.manager_a) == {a.pk}
    assert ids(cast.officer_b) == {b.pk}
    assert ids(cast.staff) == {a.pk, b.pk}
    firm_page = client_for(cast.firm_a).get(reverse("feedback:complaint_list")).content.decode()
    assert f'data-complaint="{a.pk}"' in firm_page and f'data-complaint="{b.pk}"' not in firm_page
    assert api_for(cast.firm_b).get(f"/api/v1/complaints/{a.pk}/").status_code == 404


def test_the_firm_files_from_the_form_and_sees_the_timeline(cast, ended, client_for):
    firm = client_for(cast.firm_a)
    empty = firm.post(reverse("feedback:complaint_create"), {"kind": "complaint", "subject": "", "body": ""})
    assert "请填写标题" in empty.content.decode()
    missing = firm.post(
        reverse("feedback:complaint_create"), {"kind": "complaint", "subject": "建议", "body": "内容"}
    )
    assert "请选择投诉涉及的机构" in missing.content.decode()
    response = firm.post(
        reverse("feedback:complaint_create"),
        {
            "kind": "suggestion",
            "case": f"a{ended['withdrawn'].pk}",
            "subject": "希望缩短审批",
            "body": "审批用时较长。",
        },
    )
    complaint = Complaint.objects.get(subject="希望缩短审批")
    assert response.status_code == 302 and complaint.institution_id == cast.bank_a.pk
    detail = firm.get(reverse("feedback:complaint_detail", args=[complaint.pk])).content.decode()
    assert 'id="timeline"' in detail and "希望缩短审批" in detail
    assert firm.get(reverse("feedback:complaint_create")).status_code == 200


def test_the_staff_queue_puts_overdue_complaints_first(cast, api_for, client_for):
    with time_machine.travel(datetime(2026, 11, 2, 9, 0, tzinfo=BJ), tick=False):
        old = _file(api_for(cast.firm_a), institution=cast.bank_a.pk, subject="旧投诉")
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=BJ), tick=False):
        new = _file(api_for(cast.firm_a), institution=cast.bank_b.pk, subject="新投诉")
        page = client_for(cast.staff).get(reverse("feedback:staff_complaint_list")).content.decode()
    assert page.index(f'data-complaint="{old.pk}"') < page.index(f'data-complaint="{new.pk}"')
