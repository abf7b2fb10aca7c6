"""The working-day calendar (portal/workdays.py, domain.md §9): the package's official schedules,
staff rows for a year it does not cover, the weekends-only fallback and its warning, the calendar
API (any signed-in user reads, staff write) and the staff page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from rest_framework.test import APIClient

from enterprises import visits
from portal import workdays
from portal.models import AuditEvent, WorkdayOverride
from portal.services import NotAllowedError
from portal.workdays import (
    add_working_days,
    is_working_day,
    uncovered_years,
    working_days_between,
    year_source,
)

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKED_CASES = [
    ("2026-09-30T10:00:00+08:00", "2026-10-09T10:00:00+08:00"),  # 国庆
    ("2026-02-12T10:00:00+08:00", "2026-02-14T10:00:00+08:00"),  # 调休 Saturday 02-14
    ("2026-09-19T11:00:00+08:00", "2026-09-21T11:00:00+08:00"),  # 调休 Sunday 09-20
]


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def add_2027(staff):
    """A staff-entered 2027 (the package stops at 2026): 国庆 10-01 to 10-07 off, Saturday 10-09 worked."""
    for day in range(1, 8):
        workdays.workday_override_add(user=staff, day=date(2027, 10, day), kind="holiday", note="国庆节")
    workdays.workday_override_add(user=staff, day=date(2027, 10, 9), kind="workday", note="国庆调休上班")


# --- the functions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "due"), WORKED_CASES)
def test_the_worked_cases_of_domain_md_9(start, due):
    assert add_working_days(datetime.fromisoformat(start), 2) == datetime.fromisoformat(due)


def test_2026s_weekend_working_days_are_the_six_the_notice_lists():
    calendar = workdays.year_calendar(2026)
    assert calendar.source == "official" == year_source(2026)
    assert sorted(calendar.workdays) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert all(is_working_day(d) for d in calendar.workdays)


def test_spring_festival_2026_is_nine_days_off_and_counted_so():
    assert [is_working_day(date(2026, 2, d)) for d in range(13, 26)] == [
        True,  # Fri 02-13
        True,  # Sat 02-14, 调休
        *[False] * 9,  # 02-15 to 02-23
        True,  # Tue 02-24
        True,
    ]
    friday = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)
    assert add_working_days(friday, 2) == datetime(2026, 2, 24, 10, 0, tzinfo=SHANGHAI)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == -2


def test_the_clock_time_is_kept_in_beijing_whatever_the_offset_given():
    # 2026-09-29 22:00 UTC is 2026-09-30 06:00 in Beijing: two working days later is 10-09 06:00.
    moment = datetime(2026, 9, 29, 22, 0, tzinfo=ZoneInfo("UTC"))
    assert add_working_days(moment, 2) == datetime(2026, 10, 9, 6, 0, tzinfo=SHANGHAI)
    assert add_working_days(moment, 0) == moment
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 9, 30, 10, 0), 2)  # naive


def test_a_year_in_neither_source_counts_weekends_only():
    assert year_source(2030) == "weekends_only"
    assert uncovered_years([2026, 2030, 2029, 2030]) == [2029, 2030]
    # 2030-09-30 is a Monday; 10-01 (国庆 in any year) counts as a working day without a schedule.
    assert add_working_days(datetime(2030, 9, 30, 10, 0, tzinfo=SHANGHAI), 2) == datetime(
        2030, 10, 2, 10, 0, tzinfo=SHANGHAI
    )
    assert not is_working_day(date(2030, 10, 5))  # Saturday


def test_a_staff_year_is_computed_from_the_staff_rows(cast):
    assert year_source(2027) == "weekends_only"
    add_2027(cast.staff)
    assert year_source(2027) == "staff" and uncovered_years([2027]) == []
    thursday = datetime(2027, 9, 30, 10, 0, tzinfo=SHANGHAI)
    # 10-01 to 10-07 off, Friday 10-08 the first working day, Saturday 10-09 (调休) the second.
    assert add_working_days(thursday, 2) == datetime(2027, 10, 9, 10, 0, tzinfo=SHANGHAI)
    workdays.workday_override_delete(user=cast.staff, day=date(2027, 10, 9))
    assert add_working_days(thursday, 2) == datetime(2027, 10, 11, 10, 0, tzinfo=SHANGHAI)


def test_once_a_covered_year_has_staff_rows_they_alone_decide_it(cast):
    workdays.workday_override_add(user=cast.staff, day=date(2026, 12, 31), kind="holiday", note="试行")
    assert year_source(2026) == "staff"
    assert is_working_day(date(2026, 10, 1))  # the package's 国庆 no longer applies
    assert not is_working_day(date(2026, 10, 10))  # nor its 调休 Saturday
    assert not is_working_day(date(2026, 12, 31))
    workdays.workday_override_delete(user=cast.staff, day=date(2026, 12, 31))
    assert year_source(2026) == "official" and not is_working_day(date(2026, 10, 1))


def test_an_admin_edit_of_a_row_is_seen_at_once(cast):
    assert year_source(2028) == "weekends_only"
    row = WorkdayOverride.objects.create(date=date(2028, 1, 3), kind="holiday", note="元旦")
    assert year_source(2028) == "staff" and not is_working_day(date(2028, 1, 3))
    row.delete()
    assert year_source(2028) == "weekends_only"
    assert admin.site.is_registered(WorkdayOverride)


def test_only_staff_enter_days_and_bad_entries_are_refused_with_the_field(cast):
    with pytest.raises(NotAllowedError):
        workdays.workday_override_add(user=cast.manager_a, day=date(2027, 1, 1), kind="holiday")
    with pytest.raises(workdays.ServiceError) as weekday:
        workdays.workday_override_add(user=cast.staff, day=date(2027, 1, 4), kind="workday")
    assert weekday.value.field == "date" and "周一至周五" in weekday.value.message
    workdays.workday_override_add(user=cast.staff, day=date(2027, 1, 1), kind="holiday", note="元旦")
    with pytest.raises(workdays.ConflictError) as twice:
        workdays.workday_override_add(user=cast.staff, day=date(2027, 1, 1), kind="holiday")
    assert twice.value.field == "date"
    assert list(WorkdayOverride.objects.values_list("date", "kind", "note", "created_by")) == [
        (date(2027, 1, 1), "holiday", "元旦", cast.staff.pk)
    ]
    event = AuditEvent.objects.get(object_type="portal.workdayoverride")
    assert (event.object_id, event.to_state, event.user) == ("2027-01-01", "holiday", cast.staff)


# --- the API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "due"), WORKED_CASES)
def test_the_deadline_api_answers_the_worked_cases(cast, start, due):
    response = api(cast.officer_b).get("/api/v1/calendar/deadline/", {"start": start, "working_days": 2})
    assert response.status_code == 200
    assert response.json() == {"deadline": due}


def test_the_deadline_api_takes_an_unescaped_plus_and_any_offset(cast):
    unescaped = api(cast.firm_a).get(
        "/api/v1/calendar/deadline/?start=2026-09-30T10:00:00+08:00&working_days=2"
    )
    assert unescaped.json() == {"deadline": "2026-10-09T10:00:00+08:00"}
    utc = api(cast.firm_a).get(
        "/api/v1/calendar/deadline/", {"start": "2026-09-30T02:00:00Z", "working_days": 2}
    )
    assert utc.json() == {"deadline": "2026-10-09T10:00:00+08:00"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"working_days": 2}, "start"),
        ({"start": "2026-09-30T10:00:00", "working_days": 2}, "start"),  # no offset
        ({"start": "2026-09-31T10:00:00+08:00", "working_days": 2}, "start"),
        ({"start": "2026-09-30T10:00:00+08:00"}, "working_days"),
        ({"start": "2026-09-30T10:00:00+08:00", "working_days": "-1"}, "working_days"),
        ({"start": "2026-09-30T10:00:00+08:00", "working_days": "两"}, "working_days"),
    ],
)
def test_bad_deadline_parameters_are_a_400_naming_the_field_in_chinese(cast, params, field):
    response = api(cast.officer_a).get("/api/v1/calendar/deadline/", params)
    assert response.status_code == 400
    message = response.json()[field][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_the_calendar_api_gives_a_years_source_holidays_and_weekend_working_days(cast):
    body = api(cast.firm_a).get("/api/v1/calendar/", {"year": 2026}).json()
    assert body["year"] == 2026 and body["source"] == "official"
    assert body["workdays"] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    assert {f"2026-10-0{d}" for d in range(1, 8)} <= set(body["holidays"])
    assert "2026-10-08" not in body["holidays"]
    assert api(cast.firm_a).get("/api/v1/calendar/", {"year": 2031}).json() == {
        "year": 2031,
        "source": "weekends_only",
        "holidays": [],
        "workdays": [],
    }
    bad = api(cast.firm_a).get("/api/v1/calendar/", {"year": "二〇二七"})
    assert bad.status_code == 400 and "year" in bad.json()
    assert api().get("/api/v1/calendar/", {"year": 2026}).status_code in (401, 403)


def test_staff_enter_and_remove_days_through_the_api(cast):
    client = api(cast.staff)
    created = client.post(
        "/api/v1/calendar/days/", {"date": "2027-10-09", "kind": "workday", "note": "国庆调休"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["date"] == "2027-10-09" and created.json()["created_by"] == cast.staff.username
    client.post("/api/v1/calendar/days/", {"date": "2027-10-01", "kind": "holiday"}, format="json")
    body = client.get("/api/v1/calendar/", {"year": 2027}).json()
    assert (body["source"], body["holidays"], body["workdays"]) == ("staff", ["2027-10-01"], ["2027-10-09"])
    deadline = client.get(
        "/api/v1/calendar/deadline/", {"start": "2027-09-30T10:00:00+08:00", "working_days": 2}
    )
    # Thursday 09-30: 10-01 off, the weekend, then Monday 10-04 and Tuesday 10-05.
    assert deadline.json() == {"deadline": "2027-10-05T10:00:00+08:00"}

    assert client.delete("/api/v1/calendar/days/2027-10-01/").status_code == 204
    assert client.delete("/api/v1/calendar/days/2027-10-01/").status_code == 404
    assert client.get("/api/v1/calendar/", {"year": 2027}).json()["holidays"] == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"date": "2027-02-30", "kind": "holiday"}, "date"),
        ({"date": "2027-10-01", "kind": "day_off"}, "kind"),
        ({"date": "2027-10-04", "kind": "workday"}, "date"),  # a Monday is a working day anyway
        ({"kind": "holiday"}, "date"),
    ],
)
def test_a_bad_day_is_a_400_naming_the_field_and_nothing_is_stored(cast, payload, field):
    response = api(cast.staff).post("/api/v1/calendar/days/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not WorkdayOverride.objects.exists()


def test_a_day_entered_twice_is_a_409(cast):
    client = api(cast.staff)
    client.post("/api/v1/calendar/days/", {"date": "2027-10-01", "kind": "holiday"}, format="json")
    again = client.post(
        "/api/v1/calendar/days/", {"date": "2027-10-01", "kind": "holiday", "note": "x"}, format="json"
    )
    assert again.status_code == 409 and "date" in again.json()
    assert WorkdayOverride.objects.get().note == ""


def test_only_staff_write_the_calendar(cast):
    WorkdayOverride.objects.create(date=date(2027, 10, 1), kind="holiday", note="国庆节")
    for user in (cast.firm_a, cast.officer_a, cast.manager_a):
        posted = api(user).post(
            "/api/v1/calendar/days/", {"date": "2027-10-02", "kind": "holiday"}, format="json"
        )
        assert posted.status_code == 403
        assert api(user).delete("/api/v1/calendar/days/2027-10-01/").status_code == 403
    assert api().post("/api/v1/calendar/days/", {"date": "2027-10-02", "kind": "holiday"}).status_code in (
        401,
        403,
    )
    assert list(WorkdayOverride.objects.values_list("date", flat=True)) == [date(2027, 10, 1)]


# --- the staff page and the warning ---------------------------------------------------------------


def test_staff_add_and_delete_a_day_on_the_calendar_page(cast, client_for):
    client = client_for(cast.staff)
    page = client.get("/staff/calendar/?year=2027").content.decode()
    assert "2027 年工作日日历" in page and 'data-source="weekends_only"' in page
    added = client.post(
        "/staff/calendar/?year=2027", {"date": "2027-10-01", "kind": "holiday", "note": "国庆节"}
    )
    assert added.status_code == 302 and added["Location"] == "/staff/calendar/?year=2027"
    page = client.get("/staff/calendar/?year=2027").content.decode()
    assert "国庆节" in page and 'data-source="staff"' in page and "data-confirm" in page
    refused = client.post("/staff/calendar/", {"date": "2027-10-04", "kind": "workday"}).content.decode()
    assert "本来就是工作日" in refused
    deleted = client.post("/staff/calendar/2027-10-01/delete/")
    assert deleted.status_code == 302 and not WorkdayOverride.objects.exists()
    assert client_for(cast.firm_a).get("/staff/calendar/").status_code == 403
    assert client_for(cast.manager_a).post("/staff/calendar/2027-10-01/delete/").status_code == 403


def test_the_staff_workspace_and_dashboard_warn_about_a_year_in_use_without_a_schedule(cast, client_for):
    with time_machine.travel(datetime(2029, 3, 1, 10, 0, tzinfo=SHANGHAI), tick=False):
        workspace = client_for(cast.staff).get("/staff/").content.decode()
        dashboard = client_for(cast.staff).get("/dashboard/").content.decode()
        manager = client_for(cast.manager_a).get("/dashboard/").content.decode()
    for page in (workspace, dashboard, manager):
        assert "data-calendar-warning" in page
        assert "2029 年的法定节假日和调休安排尚未录入" in page and "2030 年" in page
    assert "/staff/calendar/?year=2029" in workspace and "/staff/calendar/" not in manager


def test_the_warning_goes_once_staff_enter_next_years_schedule(cast, client_for):
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        assert "2027 年的法定节假日" in client_for(cast.staff).get("/staff/").content.decode()
        add_2027(cast.staff)
        workspace = client_for(cast.staff).get("/staff/").content.decode()
    assert "data-calendar-warning" not in workspace


# --- the 7-working-day follow-up window -------------------------------------------------------------


def test_follow_ups_due_within_seven_working_days_span_the_national_day_holiday(cast):
    with time_machine.travel(datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        today = date(2026, 9, 30)
        fields = {
            "user": cast.staff,
            "enterprise": cast.firm_a.enterprise,
            "visited_on": today,
            "team": "省创新创业服务中心 王伟",
            "topics": ["financing_need"],
            "follow_up": "送培训材料",
        }
        # The 7th working day after 09-30: 10-08, 10-09, 10-10 (调休), 10-12, 10-13, 10-14, 10-15.
        inside = visits.visit_record(**fields, follow_up_due=date(2026, 10, 15))
        visits.visit_record(**fields, follow_up_due=date(2026, 10, 16))
        assert list(visits.follow_ups_due(user=cast.staff)) == [inside]
        assert list(visits.follow_ups_due(user=cast.staff, today=today - timedelta(days=1))) == []
