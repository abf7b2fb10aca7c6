"""Pages of the 信息直通车 dashboard (staff; bank managers scoped to their institution), the lists
behind its figures with .xlsx export, service visits and official lists (staff)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import selectors as dashboard
from dashboard.forms import DashboardFilterForm, OfficialListUploadForm, VisitForm
from enterprises import official_lists, visits
from enterprises.selectors import enterprise_for_user
from lenders.models import Institution
from matching.models import MatchRun
from matching.selectors import application_for_user, application_timeline, match_for_user
from portal import kpi, spreadsheet, workdays
from portal.access import ACT, government_required, role_required, staff_required
from portal.models import OfficialListEntry, QualificationFlag, Role
from portal.money import (
    format_count,
    format_hours,
    format_percent,
    format_times,
    format_total,
    wan_to_yuan,
    yuan_to_wan,
)
from portal.selectors import transitions_for
from portal.services import ServiceError
from recommendations.selectors import list_funnels

dashboard_required = role_required(Role.STAFF, Role.REGION, Role.MANAGER)

# Which list sits behind each headline figure.
FIGURE_LINKS = {
    "firms_registered": "firms_registered",
    "firms_verified": "firms_verified",
    "needs_open": "needs_open",
    "needs_open_amount": "needs_open",
    "matches": "matches",
    "near_misses": "near_misses",
    "leads": "leads",
    "leads_answered_in_time_share": "leads",
    "median_response_hours": "leads",
    "applications": "applications",
    "approval_rate": "applications",
    "credit_granted": "approvals",
    "loans_disbursed_count": "loans",
    "loans_disbursed_amount": "loans",
    "first_loans": "first_loans",
    "first_loan_amount": "first_loans",
    "first_loan_share": "first_loans",
    "subsidy_paid": "subsidy_paid",
    "leverage": "subsidy_paid",
    "leverage_fiscal": "subsidy_paid",
    "leverage_finance": "loans",
    "renewals_due": "renewals_due",
    "renewals_requested": "renewals",
    "renewals_granted": "renewals",
}
# The cards are the summary's figures (one list, dashboard/selectors.py), the ratio after the two figures
# it divides; the needs count is shown by the funnel, not as a card.
CARD_CODES = (*(k for k in dashboard.SUMMARY_KEYS if k not in ("needs", "leverage")), "leverage")
# (code, label, unit): labels and units are portal.kpi's
CARDS = [(code, kpi.KPIS[code].label, kpi.KPIS[code].unit) for code in CARD_CODES]
CHART_LISTS = {
    "loans_disbursed_amount": "loans",
    "loans_disbursed_count": "loans",
    "first_loan_amount": "first_loans",
    "first_loans": "first_loans",
    "credit_granted": "approvals",
    "applications": "applications",
    "leads": "leads",
}
CHART_TITLES = {
    "city": _("按城市"),
    "industry": _("按行业"),
    "institution": _("按金融机构"),
    "product_type": _("按产品类型"),
    "month": _("按月"),
}


def display_figure(value, fmt: str) -> str:
    """How a headline figure reads on a card (the API carries the raw value)."""
    if value is None:
        return "—"
    if fmt in ("wan", "yi"):
        return format_total(value)
    if fmt == "share":
        return format_percent(value)
    if fmt == "hours":
        return format_hours(value)
    if fmt == "times":
        return format_times(value)
    return format_count(value)


def filter_form(data, user) -> DashboardFilterForm:
    """The filter form as ``user`` may use it: a manager's institution and a region desk's city
    are locked (not offered; ``dashboard.scoped_filters`` forces them)."""
    return DashboardFilterForm(
        data, institution_locked=user.role == Role.MANAGER, city_locked=user.role == Role.REGION
    )


def _filters(request) -> tuple[DashboardFilterForm, dashboard.Filters]:
    if dashboard.asks_for_another_region(request.user, request.GET.get("city")):
        raise Http404
    form = filter_form(request.GET, request.user)
    if not form.is_valid():
        fallback = filter_form({}, request.user)
        fallback.is_valid()
        return form, dashboard.scoped_filters(request.user, fallback.to_filters())
    return form, dashboard.scoped_filters(request.user, form.to_filters())


def lead_url(user, pk: int) -> str:
    if user.is_government:
        return reverse("dashboard:lead_record", args=[pk])
    return f"/bank/leads/{pk}/"


def application_url(user, pk: int) -> str:
    if user.is_government:
        return reverse("dashboard:application_record", args=[pk])
    return f"/bank/applications/{pk}/"


# ------------------------------------------------------------------------------------------------
# The dashboard page
# ------------------------------------------------------------------------------------------------


RECOMMENDATION_CODES = tuple(code for code in kpi.KPIS if code.startswith("recommendation_"))
#: How many of the newest sent recommended lists the dashboard's 推荐清单转化 table shows.
RECOMMENDATION_LISTS = 10


@dashboard_required
def index(request):
    form, f = _filters(request)
    user = request.user
    data = dashboard.overview(user=user, filters=f)
    figures = data["summary"]
    query = urlencode(f.as_query())
    cards = [
        {
            "key": key,
            "label": label,
            "format": fmt,
            "value": figures[key],
            "display": display_figure(figures[key], fmt),
            "definition": kpi.definition(key),
            "url": reverse("dashboard:list", args=[FIGURE_LINKS[key]]) + "?" + query,
        }
        for key, label, fmt in CARDS
    ]
    funnel = [
        {**step, "url": reverse("dashboard:list", args=[f"funnel_{step['stage']}"]) + "?" + query}
        for step in figures["funnel"]
    ]
    charts = dashboard.charts(user=user, filters=f, metric=f.metric)
    for chart in charts:
        chart["title"] = str(CHART_TITLES[chart["group_by"]])
        chart["list_url"] = reverse("dashboard:list", args=[CHART_LISTS[chart["metric"]]]) + "?" + query
        chart["export_url"] = (
            reverse("dashboard:chart_export", args=[chart["group_by"]])
            + "?"
            + query
            + "&metric="
            + chart["metric"]
        )
    overdue = list(dashboard.overdue_leads(user=user, filters=f)[:10])
    stalled = list(dashboard.stalled_applications(user=user, filters=f)[:10])
    context = {
        "form": form,
        "filters": f,
        "query": query,
        "cards": cards,
        "funnel": funnel,
        "charts": charts,
        "chart_data": {"charts": charts},
        "league": data["league"],
        "first_loan_cities": dashboard.first_loans_by_city(user=user, filters=f),
        "kpi_codes": [*CARD_CODES, *(f"funnel_{s}" for s in kpi.FUNNEL_STAGES), *RECOMMENDATION_CODES],
        "overdue": [(m, lead_url(user, m.pk)) for m in overdue],
        "stalled": [(a, application_url(user, a.pk)) for a in stalled],
        "follow_ups": list(visits.follow_ups_due(user=user)[:10]),
        "runs": list(MatchRun.objects.all()[:3]) if user.role == Role.STAFF else [],
        # 推荐清单转化: the newest lists' funnel to loans (one query; a region desk has no lists).
        "recommendation_funnels": (
            list_funnels(user=user, limit=RECOMMENDATION_LISTS) if user.role != Role.REGION else []
        ),
        "link_recommendation_lists": user.role == Role.STAFF,
        "is_manager": user.role == Role.MANAGER,
        "is_region_desk": user.role == Role.REGION,
        "calendar_gaps": workdays.uncovered_years(workdays.years_in_use(timezone.localdate())),
        "scope_name": _scope_name(user, f),
    }
    template = "portal/dashboard/_body.html" if request.htmx else "portal/dashboard/index.html"
    return render(request, template, context)


def _scope_name(user, f: dashboard.Filters) -> str:
    """The locked scope the page names: a manager's institution, a region desk's region."""
    if user.role == Role.REGION:
        return str(user.region or "")
    if user.role == Role.MANAGER and f.institution:
        return Institution.objects.filter(pk=f.institution).values_list("short_name", flat=True).first() or ""
    return ""


# ------------------------------------------------------------------------------------------------
# The list behind each figure, and its .xlsx export
# ------------------------------------------------------------------------------------------------


def _wan(value):
    return None if value is None else yuan_to_wan(value)


def _dt(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _d(value):
    return value.isoformat() if value else ""


COLUMNS = {
    "firm": [
        (_("企业名称"), lambda o: o.name),
        (_("统一社会信用代码"), lambda o: o.uscc),
        (_("城市"), lambda o: o.city.short_name or o.city.name),
        (_("行业"), lambda o: o.get_industry_display()),
        (_("认证状态"), lambda o: o.get_verification_status_display()),
        (_("首贷户"), lambda o: _("是") if o.is_first_loan_firm else ""),
        (_("注册时间"), lambda o: _dt(o.created_at)),
    ],
    "need": [
        (_("企业"), lambda o: o.enterprise.name),
        (_("城市"), lambda o: o.enterprise.city.short_name),
        (_("金额（万元）"), lambda o: _wan(o.amount)),
        (_("期限（月）"), lambda o: o.term_months),
        (_("用途"), lambda o: o.get_purpose_display()),
        (_("状态"), lambda o: o.get_status_display()),
        (_("走访代录"), lambda o: _("是") if o.on_behalf else ""),
        (_("发布时间"), lambda o: _dt(o.created_at)),
    ],
    "match": [
        (_("企业"), lambda o: o.enterprise.name),
        (_("产品"), lambda o: o.product.name),
        (_("机构"), lambda o: o.institution.short_name),
        (_("匹配度"), lambda o: o.score),
        (_("类型"), lambda o: _("线索") if o.is_lead else (_("差一点") if o.is_near_miss else _("推荐"))),
        (_("状态"), lambda o: o.get_status_display()),
        (_("响应期限"), lambda o: _dt(o.response_deadline)),
        (_("首次响应"), lambda o: _dt(o.first_response_at)),
        (_("创建时间"), lambda o: _dt(o.created_at)),
        (_("首贷户"), lambda o: _("是") if getattr(o, "is_first_loan_firm", False) else ""),
    ],
    "application": [
        (_("企业"), lambda o: o.enterprise.name),
        (_("产品"), lambda o: o.product.name),
        (_("机构"), lambda o: o.product.institution.short_name),
        (_("申请金额（万元）"), lambda o: _wan(o.amount)),
        (_("状态"), lambda o: o.get_status_display()),
        (_("授信额度（万元）"), lambda o: _wan(o.credit_line)),
        (_("提交时间"), lambda o: _dt(o.created_at)),
        (_("状态更新"), lambda o: _dt(o.status_changed_at)),
        (_("首贷户"), lambda o: _("是") if getattr(o, "is_first_loan_firm", False) else ""),
    ],
    "loan": [
        (_("企业"), lambda o: o.application.enterprise.name),
        (_("产品"), lambda o: o.application.product.name),
        (_("机构"), lambda o: o.application.product.institution.short_name),
        (_("本金（万元）"), lambda o: _wan(o.principal)),
        (_("年利率（%）"), lambda o: o.annual_rate),
        (_("起息日"), lambda o: _d(o.start_date)),
        (_("到期日"), lambda o: _d(o.maturity_date)),
        (_("状态"), lambda o: o.get_status_display()),
        (_("首贷"), lambda o: _("是") if getattr(o, "is_first_loan", False) else ""),
    ],
    "payment": [
        (_("拨付时间"), lambda o: _dt(o.at)),
        (_("政策"), lambda o: o.policy.name),
        (_("企业"), lambda o: o.claim.enterprise.name if o.claim and o.claim.enterprise_id else ""),
        (_("机构"), lambda o: o.claim.institution.short_name if o.claim and o.claim.institution_id else ""),
        (_("金额（万元）"), lambda o: _wan(o.amount)),
        (_("摘要"), lambda o: o.note),
    ],
}


def _row_url(user, model: str, obj) -> str:
    if model == "match":
        return lead_url(user, obj.pk)
    if model == "application":
        return application_url(user, obj.pk)
    if model == "loan":
        return application_url(user, obj.application_id)
    if model == "firm" and user.is_government:
        return reverse("dashboard:firm_visits", args=[obj.pk])
    if model == "need" and user.is_government:
        return reverse("dashboard:firm_visits", args=[obj.enterprise_id])
    return ""


xlsx_safe = spreadsheet.safe_text


def xlsx_response(filename: str, headers: list[str], rows) -> HttpResponse:
    """Through the one writer (portal.spreadsheet)."""
    content = spreadsheet.write_bytes(
        title=filename.split("-")[0][:31], headers=[str(h) for h in headers], rows=rows
    )
    response = HttpResponse(content, content_type=spreadsheet.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


EXPORT_LIMIT = 50_000


@dashboard_required
def figure_list(request, kind: str):
    if kind not in dashboard.FIGURE_LISTS:
        raise Http404
    model, title = dashboard.FIGURE_LISTS[kind]
    _form, f = _filters(request)
    first_loan = model == "firm" and request.GET.get("first_loan") == "true"
    qs = dashboard.figure_list(user=request.user, filters=f, kind=kind, first_loan=first_loan)
    columns = COLUMNS[model]
    if request.GET.get("export") == "xlsx":
        rows = ([getter(obj) for _label, getter in columns] for obj in qs[:EXPORT_LIMIT])
        stamp = f"{f.start:%Y%m%d}-{f.end:%Y%m%d}"
        return xlsx_response(f"{kind}-{stamp}.xlsx", [label for label, _g in columns], rows)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = urlencode(f.as_query())
    list_query = query + ("&first_loan=true" if first_loan else "")
    rows = [([getter(obj) for _label, getter in columns], _row_url(request.user, model, obj)) for obj in page]
    return render(
        request,
        "portal/dashboard/list.html",
        {
            "title": title,
            "kind": kind,
            "filters": f,
            "headers": [label for label, _g in columns],
            "rows": rows,
            "page": page,
            "query": list_query,
            "dashboard_query": query,
            "firm_list": model == "firm",
            "first_loan": first_loan,
            "export_url": request.path + "?" + list_query + "&export=xlsx",
        },
    )


@dashboard_required
def chart_export(request, group_by: str):
    """The table view of one chart as .xlsx (the figures, not the rows behind them)."""
    if group_by not in dashboard.GROUP_BYS:
        raise Http404
    _form, f = _filters(request)
    data = dashboard.series(user=request.user, filters=f, metric=f.metric, group_by=group_by)
    unit = _("（元）") if data["money"] else ""
    rows = ([p["label"], Decimal(p["value"]) if data["money"] else p["value"]] for p in data["points"])
    return xlsx_response(
        f"{data['metric']}-by-{group_by}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.xlsx",
        [str(CHART_TITLES[group_by]), f"{data['label']}{unit}"],
        rows,
    )


# ------------------------------------------------------------------------------------------------
# Read-only records for staff (banks open their own pages under /bank/)
# ------------------------------------------------------------------------------------------------


@government_required
def lead_record(request, pk: int):
    match = get_object_or_404(match_for_user(request.user), pk=pk)
    return render(
        request,
        "portal/dashboard/record.html",
        {"kind": "lead", "object": match, "title": _("线索详情"), "timeline": transitions_for(match)},
    )


@government_required
def application_record(request, pk: int):
    app = get_object_or_404(application_for_user(request.user), pk=pk)
    return render(
        request,
        "portal/dashboard/record.html",
        {
            "kind": "application",
            "object": app,
            "title": _("融资申请详情"),
            "timeline": application_timeline(app),
        },
    )


# ------------------------------------------------------------------------------------------------
# Service visits 一对一精准服务
# ------------------------------------------------------------------------------------------------


@government_required
def visit_list(request):
    q = request.GET.get("q", "").strip()
    page = Paginator(visits.visit_list(user=request.user, q=q), 20).get_page(request.GET.get("page"))
    due = list(visits.follow_ups_due(user=request.user)[:10])
    return render(
        request,
        "portal/dashboard/visit_list.html",
        {
            "page": page,
            "rows": [(v, visits.topic_labels(v.topics)) for v in page],
            "q": q,
            "query": urlencode({"q": q}) if q else "",
            "due": due,
            "firm": None,
        },
    )


@government_required
def firm_visits(request, enterprise_id: int):
    firm = get_object_or_404(enterprise_for_user(request.user), pk=enterprise_id)
    page = Paginator(visits.visit_list(user=request.user, enterprise=firm), 20).get_page(
        request.GET.get("page")
    )
    rows = [(v, visits.topic_labels(v.topics)) for v in page]
    return render(
        request,
        "portal/dashboard/visit_list.html",
        {"page": page, "rows": rows, "firm": firm, "query": "", "due": []},
    )


@government_required
def visit_create(request):
    initial = {"visited_on": timezone.localdate()}
    firms = enterprise_for_user(request.user, ACT)  # a region desk: its region's firms only
    if request.GET.get("enterprise", "").isdigit():
        firm = firms.filter(pk=request.GET["enterprise"]).first()
        if firm:
            initial["uscc"] = firm.uscc
    form = VisitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        firm = firms.filter(uscc=data["uscc"].strip().upper()).first()
        if firm is None:
            form.add_error(
                "uscc",
                _("本区域没有这个统一社会信用代码的企业。")
                if request.user.role == Role.REGION
                else _("平台上没有这个统一社会信用代码的企业。"),
            )
        else:
            need = None
            if data.get("need_amount"):
                need = {
                    "amount": wan_to_yuan(data["need_amount"]),
                    "term_months": data["need_term_months"],
                    "purpose": data.get("need_purpose") or "working_capital",
                    "guarantee_types": ["credit"],
                    "description": data.get("need_description", ""),
                }
            try:
                visit = visits.visit_record(
                    user=request.user,
                    enterprise=firm,
                    visited_on=data["visited_on"],
                    team=data["team"],
                    topics=data["topics"],
                    institution=Institution.objects.filter(pk=data.get("institution")).first()
                    if data.get("institution")
                    else None,
                    findings=data["findings"],
                    follow_up=data["follow_up"],
                    follow_up_due=data.get("follow_up_due"),
                    need=need,
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("走访记录已保存。"))
                return redirect("dashboard:visit_detail", pk=visit.pk)
    return render(request, "portal/dashboard/visit_form.html", {"form": form})


@government_required
def visit_detail(request, pk: int):
    visit = get_object_or_404(visits.visit_for_user(request.user), pk=pk)
    needs = visit.enterprise.needs.filter(on_behalf=True).order_by("-created_at")[:5]
    return render(
        request,
        "portal/dashboard/visit_detail.html",
        {"visit": visit, "needs": needs, "topics": visits.topic_labels(visit.topics)},
    )


@role_required(Role.FIRM)
def visit_need_confirm(request, pk: int):
    """The firm confirms (or rejects) a financing need staff posted on its behalf during a visit."""
    try:
        need = visits.need_awaiting_confirmation(user=request.user, pk=pk)
    except ServiceError:
        raise Http404
    if request.method == "POST":
        try:
            visits.visit_need_confirm(
                user=request.user, need=need, confirm=request.POST.get("action") == "confirm"
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已处理这条代录的需求。"))
        return redirect("dashboard:visit_need_confirm", pk=need.pk)
    return render(request, "portal/dashboard/visit_need_confirm.html", {"need": need})


@require_POST
@government_required
def visit_done(request, pk: int):
    visit = get_object_or_404(visits.visit_for_user(request.user), pk=pk)
    try:
        visits.visit_follow_up_done(user=request.user, visit=visit, note=request.POST.get("note", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已标记跟进完成。"))
    return redirect("dashboard:visit_detail", pk=visit.pk)


# ------------------------------------------------------------------------------------------------
# Official lists
# ------------------------------------------------------------------------------------------------


@staff_required
def official_list_index(request):
    form = OfficialListUploadForm(
        request.POST or None, request.FILES or None, initial={"year": timezone.localdate().year}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = official_lists.official_list_upload(
                user=request.user,
                kind=form.cleaned_data["kind"],
                year=form.cleaned_data["year"],
                name=upload.name,
                data=upload.read(),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("dashboard:official_list_batch", pk=batch.pk)
    page = Paginator(official_lists.import_batch_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/dashboard/official_lists.html",
        {
            "form": form,
            "page": page,
            "query": "",
            "open_flags": official_lists.open_flags(user=request.user).count(),
            "unregistered": official_lists.unregistered_entries(user=request.user).count(),
        },
    )


@staff_required
def official_list_batch(request, pk: int):
    batch = get_object_or_404(official_lists.import_batch_for_user(request.user), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "apply":
                batch = official_lists.official_list_apply(user=request.user, batch=batch)
                messages.success(
                    request,
                    _(
                        "已导入：确认 %(c)s 项资质，新增 %(n)s 项，%(u)s 家企业尚未注册，%(f)s 项自报资质被标记存疑。"
                    )
                    % {
                        "c": batch.confirmed_count,
                        "n": batch.created_count,
                        "u": batch.unregistered_count,
                        "f": batch.flagged_count,
                    },
                )
            elif action == "discard":
                official_lists.official_list_discard(user=request.user, batch=batch)
                messages.info(request, _("已放弃这份名单。"))
                return redirect("dashboard:official_lists")
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("dashboard:official_list_batch", pk=batch.pk)
    return render(
        request,
        "portal/dashboard/official_list_batch.html",
        {"batch": batch, "rows": batch.rows[:200], "more_rows": max(0, len(batch.rows) - 200)},
    )


@staff_required
def official_list_flags(request):
    if request.method == "POST":
        flag = get_object_or_404(QualificationFlag, pk=request.POST.get("flag"))
        try:
            official_lists.qualification_flag_resolve(
                user=request.user, flag=flag, note=request.POST.get("note", "")
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已处理。"))
        return redirect("dashboard:official_list_flags")
    page = Paginator(official_lists.open_flags(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "portal/dashboard/official_list_flags.html", {"page": page, "query": ""})


@staff_required
def official_list_invites(request):
    link = None
    if request.method == "POST":
        entry = get_object_or_404(OfficialListEntry, pk=request.POST.get("entry"))
        try:
            link = request.build_absolute_uri(
                official_lists.official_entry_invite(user=request.user, entry=entry)
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
    page = Paginator(official_lists.unregistered_entries(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/dashboard/official_list_invites.html",
        {"page": page, "query": "", "link": link},
    )
