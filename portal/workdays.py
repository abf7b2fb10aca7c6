"""China's working days 工作日 (domain.md §9): the one place the portal counts them.

A day is a working day when it is Monday–Friday and not a statutory holiday, or when it is a
weekend day the State Council's yearly notice makes a working day (调休). Each year's schedule
comes from one source, :func:`year_source`:

- ``"staff"``: provincial staff entered the year's days (:class:`~portal.models.WorkdayOverride`);
  as soon as a year has one such row, those rows alone decide it (the package is not consulted);
- ``"official"``: else the ``chinesecalendar`` package, for the years it covers (through 2026 in
  version 1.11; each next year's notice comes out around November);
- ``"weekends_only"``: neither — Saturdays and Sundays off, nothing else; the staff workspace and
  the dashboard warn about such a year (:func:`uncovered_years`).

"N working days after" a moment is the same Beijing clock time on the N-th working day after the
moment's Beijing date (:func:`add_working_days`): 2026-09-30 10:00 + 2 → 2026-10-09 10:00.

Each year's schedule is kept in the cache (:func:`year_calendar`) and dropped whenever a staff row
changes — through the services below, the API, the page or the admin (model signals). Imports no
app but ``portal``: every app may call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from .audit import audit_record
from .models import AuditEvent, Role, User, WorkdayOverride
from .services import ConflictError, NotAllowedError, ServiceError

SHANGHAI = ZoneInfo("Asia/Shanghai")

OFFICIAL, STAFF, WEEKENDS_ONLY = "official", "staff", "weekends_only"
SOURCES = (OFFICIAL, STAFF, WEEKENDS_ONLY)

#: The years the calendar answers for (the API and the staff page refuse others).
FIRST_YEAR, LAST_YEAR = 2000, 2100

_CACHE_KEY = "workdays:year:{}"
_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class YearCalendar:
    """One year's schedule as its source states it: ``holidays`` are the statutory holiday dates
    (a holiday period's weekend days included, as the notice lists them), ``workdays`` the weekend
    days that are working days."""

    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


# ------------------------------------------------------------------------------------------------
# Reading the calendar
# ------------------------------------------------------------------------------------------------


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:  # "no available data for year …"
        return False
    return True


def _build(year: int) -> YearCalendar:
    rows = list(
        WorkdayOverride.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)).values_list(
            "date", "kind"
        )
    )
    if rows:
        holidays = frozenset(d for d, kind in rows if kind == WorkdayOverride.Kind.HOLIDAY)
        workdays = frozenset(d for d, kind in rows if kind == WorkdayOverride.Kind.WORKDAY)
        return YearCalendar(year, STAFF, holidays, workdays)
    if _package_covers(year):
        holidays = frozenset(d for d in chinese_calendar.holidays if d.year == year)
        workdays = frozenset(d for d in chinese_calendar.workdays if d.year == year)
        return YearCalendar(year, OFFICIAL, holidays, workdays)
    return YearCalendar(year, WEEKENDS_ONLY, frozenset(), frozenset())


def year_calendar(year: int) -> YearCalendar:
    """The year's schedule and its source, from the cache when it is there."""
    key = _CACHE_KEY.format(year)
    found = cache.get(key)
    if found is not None:
        source, holidays, workdays = found
        return YearCalendar(year, source, frozenset(holidays), frozenset(workdays))
    calendar = _build(year)
    cache.set(key, (calendar.source, tuple(calendar.holidays), tuple(calendar.workdays)), _CACHE_SECONDS)
    return calendar


def calendar_cache_clear() -> None:
    """Drop every cached year: after a staff row changes (and in tests, whose rows roll back)."""
    cache.delete_many([_CACHE_KEY.format(y) for y in range(FIRST_YEAR, LAST_YEAR + 1)])


class _Years(dict):
    """Year → schedule, read once per call of the functions below."""

    def __missing__(self, year: int) -> YearCalendar:
        self[year] = year_calendar(year)
        return self[year]


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in China (see the module docstring)."""
    return year_calendar(day.year).is_working_day(day)


def add_working_days(moment: datetime, n: int) -> datetime:
    """The same Beijing clock time on the ``n``-th working day after ``moment``'s Beijing date
    (``n`` = 0: ``moment`` itself). ``moment`` must be aware; the answer is in Asia/Shanghai.
    2026-02-12 10:00 + 2 → 2026-02-14 10:00 (a 调休 Saturday)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("add_working_days needs an aware datetime")
    if n < 0:
        raise ValueError("add_working_days counts forward only (n >= 0)")
    local = moment.astimezone(SHANGHAI)
    day = local.date()
    years = _Years()
    while n > 0:
        day += timedelta(days=1)
        if years[day.year].is_working_day(day):
            n -= 1
    return datetime.combine(day, local.time(), tzinfo=SHANGHAI)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (negative when
    ``end`` is before ``start``), so that the ``working_days_between(d, e)``-th working day after
    ``d`` is ``e`` whenever ``e`` is a working day."""
    if end < start:
        return -working_days_between(end, start)
    years = _Years()
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if years[day.year].is_working_day(day):
            count += 1
    return count


def year_source(year: int) -> str:
    """Where the year's schedule comes from: ``"official"``, ``"staff"`` or ``"weekends_only"``."""
    return year_calendar(year).source


def uncovered_years(years) -> list[int]:
    """Those of ``years`` (sorted, once each) for which no schedule is known: weekends only."""
    return sorted({y for y in years if year_source(y) == WEEKENDS_ONLY})


def years_in_use(today: date) -> tuple[int, int]:
    """The years whose schedule deadlines need now: this year and the next."""
    return today.year, today.year + 1


def override_list(*, year: int) -> QuerySet[WorkdayOverride]:
    """The staff rows of one year, by date."""
    return (
        WorkdayOverride.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
        .select_related("created_by")
        .order_by("date")
    )


# ------------------------------------------------------------------------------------------------
# Staff rows (writes)
# ------------------------------------------------------------------------------------------------


def _require_staff(user) -> None:
    if not (getattr(user, "is_authenticated", False) and user.role == Role.STAFF):
        raise NotAllowedError(_("只有省级专班可以维护节假日安排。"))


def _check_year(day: date, field: str = "date") -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ServiceError(
            _("日期应在 %(a)s 年到 %(b)s 年之间。") % {"a": FIRST_YEAR, "b": LAST_YEAR}, field=field
        )


def _audit(*, user, day: date, from_state: str, to_state: str, note: str = "") -> None:
    audit_record(
        action=AuditEvent.Action.STATE_CHANGE,
        user=user,
        object_type=WorkdayOverride._meta.label_lower,
        object_id=day.isoformat(),
        from_state=from_state,
        to_state=to_state,
        detail={"note": note} if note else {},
        strict=True,
    )


@transaction.atomic
def workday_override_add(*, user: User, day: date, kind: str, note: str = "") -> WorkdayOverride:
    """Enter one day of a year's schedule: ``holiday`` (statutory holiday, 休息) or ``workday``
    (a weekend day that is worked, 调休上班). From then on the year is computed from staff rows."""
    _require_staff(user)
    _check_year(day)
    if kind not in WorkdayOverride.Kind.values:
        raise ServiceError(_("类型应为 holiday（法定节假日）或 workday（调休工作日）。"), field="kind")
    if kind == WorkdayOverride.Kind.WORKDAY and day.weekday() < 5:
        raise ServiceError(
            _("%(d)s 是周一至周五，本来就是工作日；调休工作日只能是周六或周日。") % {"d": day.isoformat()},
            field="date",
        )
    note = (note or "").strip()
    if len(note) > 100:
        raise ServiceError(_("说明最多 100 个字。"), field="note")
    try:
        with transaction.atomic():
            row = WorkdayOverride.objects.create(date=day, kind=kind, note=note, created_by=user)
    except IntegrityError:
        existing = WorkdayOverride.objects.filter(date=day).first()
        label = existing.get_kind_display() if existing else ""
        raise ConflictError(
            _("%(d)s 已登记为%(k)s；如需更改，请先删除原登记。") % {"d": day.isoformat(), "k": label},
            field="date",
        )
    _audit(user=user, day=day, from_state="", to_state=kind, note=note)
    return row


@transaction.atomic
def workday_override_delete(*, user: User, day: date) -> None:
    """Remove one staff row. A year left without rows goes back to the package, or weekends only."""
    _require_staff(user)
    row = WorkdayOverride.objects.select_for_update().filter(date=day).first()
    if row is None:
        raise ServiceError(_("%(d)s 没有专班登记的安排。") % {"d": day.isoformat()}, status=404)
    row.delete()
    _audit(user=user, day=day, from_state=row.kind, to_state="deleted", note=row.note)


def _on_change(sender, **kwargs) -> None:
    """Any change of a staff row (services, admin): drop the cached years now, and again once the
    transaction commits, so no process keeps a schedule read before the commit."""
    calendar_cache_clear()
    transaction.on_commit(calendar_cache_clear)


def _connect() -> None:
    post_save.connect(_on_change, sender=WorkdayOverride, dispatch_uid="workdays-save")
    post_delete.connect(_on_change, sender=WorkdayOverride, dispatch_uid="workdays-delete")
