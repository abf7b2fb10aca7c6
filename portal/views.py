"""Portal pages: the public home, the post-login landing, the staff workspace, notifications."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import workdays
from .access import landing_url_name, role_required, staff_required
from .forms import WorkdayOverrideForm
from .health import health_report
from .models import Role, WorkdayOverride
from .selectors import notification_list
from .services import ServiceError, notification_mark_read


def landing(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect(landing_url_name(request.user))


def _calendar_year(raw) -> int:
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return timezone.localdate().year
    return year if workdays.FIRST_YEAR <= year <= workdays.LAST_YEAR else timezone.localdate().year


@staff_required
def workday_calendar(request):
    """One year's working-day schedule: where it comes from, its holidays and 调休 working days, and
    the staff rows (add one, delete one)."""
    year = _calendar_year(request.POST.get("year") or request.GET.get("year"))
    form = WorkdayOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = workdays.workday_override_add(
                user=request.user, day=data["date"], kind=data["kind"], note=data["note"]
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("已登记 %(d)s：%(k)s。") % {"d": row.date.isoformat(), "k": row.get_kind_display()}
            )
            return redirect(f"{reverse('portal:calendar')}?year={row.date.year}")
    calendar = workdays.year_calendar(year)
    today = timezone.localdate()
    return render(
        request,
        "portal/calendar.html",
        {
            "year": year,
            "calendar": calendar,
            "holidays": sorted(calendar.holidays),
            "workdays": sorted(calendar.workdays),
            "rows": list(workdays.override_list(year=year)),
            "form": form,
            "years": range(today.year - 1, today.year + 3),
            "calendar_gaps": workdays.uncovered_years(workdays.years_in_use(today)),
        },
    )


@require_POST
@staff_required
def workday_delete(request, day: str):
    try:
        parsed = parse_date(day)
    except ValueError:
        parsed = None
    row = WorkdayOverride.objects.filter(date=parsed).first() if parsed else None
    if row is None:
        raise Http404(_("没有这一天的登记。"))
    workdays.workday_override_delete(user=request.user, day=row.date)
    messages.success(request, _("已删除 %(d)s 的登记。") % {"d": row.date.isoformat()})
    return redirect(f"{reverse('portal:calendar')}?year={row.date.year}")


@role_required(*Role.values)
def notifications(request):
    page = Paginator(notification_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "portal/notifications.html", {"page": page})


@require_POST
@role_required(*Role.values)
def notifications_read(request):
    notification_mark_read(user=request.user)
    return redirect("portal:notifications")


def live(request):
    """A trivial JSON view: no database, no session — the stack's ceiling in the load test."""
    return JsonResponse({"status": "ok"})


def healthz(request):
    """200 when the database, the cache and the broker answer; 503 naming what is down."""

    checks = health_report()
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        return JsonResponse({"status": "unavailable", "down": down, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
