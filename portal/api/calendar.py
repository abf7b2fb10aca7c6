"""The working-day calendar API (portal/workdays.py), so banks' systems count the response deadline
exactly as the portal does: a year's schedule and a deadline for any signed-in user; staff enter and
remove the days of a year the package does not cover yet."""

from __future__ import annotations

from datetime import date

from django.urls import path, re_path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import workdays
from portal.models import WorkdayOverride

from .permissions import IsStaff

MAX_WORKING_DAYS = 365

CalendarSerializer = inline_serializer(
    "WorkingDayCalendar",
    {
        "year": serializers.IntegerField(),
        "source": serializers.ChoiceField(choices=workdays.SOURCES),
        "holidays": serializers.ListField(child=serializers.DateField(), help_text="法定节假日（休息）"),
        "workdays": serializers.ListField(child=serializers.DateField(), help_text="调休上班的周六、周日"),
    },
)
DeadlineSerializer = inline_serializer("WorkingDayDeadline", {"deadline": serializers.DateTimeField()})


class OverrideSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default="")

    class Meta:
        model = WorkdayOverride
        fields = ["date", "kind", "note", "created_by", "created_at"]
        read_only_fields = fields


def _year(raw) -> int:
    if raw in (None, ""):
        return timezone.localdate().year
    try:
        year = int(str(raw).strip())
    except ValueError:
        year = None
    if year is None or not workdays.FIRST_YEAR <= year <= workdays.LAST_YEAR:
        raise ValidationError(
            {
                "year": [
                    _("年份应为 %(a)s 到 %(b)s 之间的四位数字，如 2027。")
                    % {"a": workdays.FIRST_YEAR, "b": workdays.LAST_YEAR}
                ]
            }
        )
    return year


def _moment(raw):
    text = (raw or "").strip()
    # An unescaped "+" in a query string arrives as a space: 2026-09-30T10:00:00 08:00.
    if " " in text and "+" not in text and text.count(" ") == 1 and "T" in text:
        text = text.replace(" ", "+")
    try:
        moment = parse_datetime(text) if text else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValidationError({"start": [_("开始时间应为带时区的 ISO 时间，如 2026-09-30T10:00:00+08:00。")]})
    if not workdays.FIRST_YEAR <= moment.year <= workdays.LAST_YEAR:
        raise ValidationError(
            {
                "start": [
                    _("开始时间应在 %(a)s 年到 %(b)s 年之间。")
                    % {"a": workdays.FIRST_YEAR, "b": workdays.LAST_YEAR}
                ]
            }
        )
    return moment


def _count(raw) -> int:
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        n = None
    if n is None or not 0 <= n <= MAX_WORKING_DAYS:
        raise ValidationError(
            {"working_days": [_("工作日天数应为 0 到 %(m)s 之间的整数。") % {"m": MAX_WORKING_DAYS}]}
        )
    return n


def _day(raw, field: str = "date") -> date:
    day = None
    if isinstance(raw, str):
        try:
            day = parse_date(raw.strip())
        except ValueError:
            day = None
    if day is None:
        raise ValidationError({field: [_("日期格式应为 YYYY-MM-DD，如 2027-10-01。")]})
    return day


class CalendarYearView(APIView):
    """一年的工作日安排：来源（official 国务院安排 / staff 专班登记 / weekends_only 仅按周末）、
    法定节假日与调休上班的周末。某天是工作日 ⇔（周一至周五且不在 holidays）或在 workdays 中。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("year", int, description="年份，如 2026；默认今年")],
        responses=CalendarSerializer,
        summary="工作日日历",
    )
    def get(self, request):
        calendar = workdays.year_calendar(_year(request.query_params.get("year")))
        return Response(
            {
                "year": calendar.year,
                "source": calendar.source,
                "holidays": [d.isoformat() for d in sorted(calendar.holidays)],
                "workdays": [d.isoformat() for d in sorted(calendar.workdays)],
            }
        )


class CalendarDeadlineView(APIView):
    """期限计算：start 所在北京日期之后第 N 个工作日的同一北京时间（与平台的线索首次响应期限同一算法）。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start",
                OpenApiTypes.DATETIME,
                required=True,
                description="带时区的 ISO 时间，如 2026-09-30T10:00:00+08:00",
            ),
            OpenApiParameter("working_days", int, required=True, description="工作日天数 N（0–365）"),
        ],
        responses=DeadlineSerializer,
        summary="按工作日计算期限",
    )
    def get(self, request):
        start = _moment(request.query_params.get("start"))
        n = _count(request.query_params.get("working_days"))
        return Response({"deadline": workdays.add_working_days(start, n).isoformat()})


class CalendarDayListView(APIView):
    """专班登记一天的安排：{"date": "YYYY-MM-DD", "kind": "holiday" | "workday", "note"}。
    某年一旦有专班登记，该年完全按登记计算。"""

    permission_classes = [IsStaff]

    @extend_schema(
        request=inline_serializer(
            "WorkdayOverrideRequest",
            {
                "date": serializers.DateField(),
                "kind": serializers.ChoiceField(choices=WorkdayOverride.Kind.values),
                "note": serializers.CharField(required=False, allow_blank=True),
            },
        ),
        responses={201: OverrideSerializer},
        summary="登记节假日或调休工作日（专班）",
    )
    def post(self, request):
        data = request.data if hasattr(request.data, "get") else {}
        day = _day(data.get("date"))
        kind = data.get("kind")
        if kind not in WorkdayOverride.Kind.values:
            raise ValidationError({"kind": [_("类型应为 holiday（法定节假日）或 workday（调休工作日）。")]})
        note = data.get("note") or ""
        if not isinstance(note, str):
            raise ValidationError({"note": [_("说明应为文字。")]})
        row = workdays.workday_override_add(user=request.user, day=day, kind=kind, note=note)
        return Response(OverrideSerializer(row).data, status=status.HTTP_201_CREATED)


class CalendarDayDetailView(APIView):
    """删除专班登记的一天（专班）。"""

    permission_classes = [IsStaff]

    @extend_schema(responses={204: None}, summary="删除一天的登记（专班）")
    def delete(self, request, day: str):
        try:
            parsed = parse_date(day)
        except ValueError:
            parsed = None
        if parsed is None:
            raise NotFound(_("没有这一天的登记。"))
        workdays.workday_override_delete(user=request.user, day=parsed)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("calendar/", CalendarYearView.as_view(), name="calendar-year"),
    path("calendar/deadline/", CalendarDeadlineView.as_view(), name="calendar-deadline"),
    path("calendar/days/", CalendarDayListView.as_view(), name="calendar-day-list"),
    re_path(
        r"^calendar/days/(?P<day>\d{4}-\d{2}-\d{2})/$",
        CalendarDayDetailView.as_view(),
        name="calendar-day-detail",
    ),
]
