"""Pages of ratings and complaints: the firm's (rate an ended case, my complaints), provincial
staff's (the complaint queue, reply) and the bank's (ratings of us, complaints about us). Thin:
selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from matching.selectors import application_for_user, match_for_user
from portal.access import bank_required, firm_required, government_required
from portal.models import Role
from portal.selectors import transitions_for
from portal.services import ServiceError

from . import services
from .forms import ComplaintActionForm, ComplaintForm, RatingForm
from .models import Complaint
from .selectors import (
    complaint_for_user,
    complaint_queue,
    institution_ratings,
    rateable_applications,
    rateable_matches,
    rating_for_user,
)

PAGE_SIZE = 20


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _form_error(form, exc: ServiceError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# ------------------------------------------------------------------------------------------------
# Firm: ratings
# ------------------------------------------------------------------------------------------------


@firm_required
def my_ratings(request):
    """Ended cases waiting for a rating (each with its 评价 button) and the ratings already given."""
    context = {
        "applications": rateable_applications(request.user)[:50],
        "matches": rateable_matches(request.user)[:50],
        "page": _page(
            request, rating_for_user(request.user).select_related("application__product", "match__product")
        ),
    }
    return render(request, "feedback/my_ratings.html", context)


def _rate(request, *, application=None, match=None):
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rating_create(
                user=request.user, application=application, match=match, **form.cleaned_data
            )
        except ServiceError as exc:
            if exc.status == 404:
                raise Http404 from exc
            _form_error(form, exc)
        else:
            messages.success(request, _("感谢您的评价。"))
            return redirect("feedback:my_ratings")
    case = application or match
    context = {
        "form": form,
        "case": case,
        "institution": case.product.institution,
        "product": case.product,
        "is_application": application is not None,
    }
    return render(request, "feedback/rating_form.html", context)


@firm_required
def rate_application(request, pk: int):
    return _rate(request, application=get_object_or_404(application_for_user(request.user), pk=pk))


@firm_required
def rate_match(request, pk: int):
    return _rate(request, match=get_object_or_404(match_for_user(request.user).filter(is_lead=True), pk=pk))


# ------------------------------------------------------------------------------------------------
# Complaints: the firm's
# ------------------------------------------------------------------------------------------------


def _case_choices(user):
    apps = application_for_user(user).order_by("-created_at")[:50]
    leads = (
        match_for_user(user)
        .filter(is_lead=True)
        .select_related("product__institution")
        .order_by("-created_at")[:50]
    )
    return [
        *[
            (
                f"a{a.pk}",
                _("申请：%(p)s（%(i)s）") % {"p": a.product.name, "i": a.product.institution.short_name},
            )
            for a in apps
        ],
        *[
            (
                f"m{m.pk}",
                _("线索：%(p)s（%(i)s）") % {"p": m.product.name, "i": m.product.institution.short_name},
            )
            for m in leads
        ],
    ]


@firm_required
def complaint_list(request):
    page = _page(request, complaint_for_user(request.user))
    return render(request, "feedback/complaint_list.html", {"page": page, "side": "firm"})


@firm_required
def complaint_create(request):
    initial = {}
    if request.GET.get("application", "").isdigit():
        initial["case"] = f"a{request.GET['application']}"
    elif request.GET.get("match", "").isdigit():
        initial["case"] = f"m{request.GET['match']}"
    form = ComplaintForm(request.POST or None, cases=_case_choices(request.user), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = data.get("case") or ""
        application = match = None
        if case.startswith("a"):
            application = application_for_user(request.user).filter(pk=case[1:]).first()
        elif case.startswith("m"):
            match = match_for_user(request.user).filter(pk=case[1:]).first()
        try:
            complaint = services.complaint_file(
                user=request.user,
                kind=data["kind"],
                subject=data["subject"],
                body=data["body"],
                application=application,
                match=match,
                institution=None if (application or match) else data.get("institution"),
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已提交，省级专班将在 5 个工作日内答复。"))
            return redirect("feedback:complaint_detail", pk=complaint.pk)
    return render(request, "feedback/complaint_form.html", {"form": form})


def _detail(request, pk: int, side: str):
    complaint = get_object_or_404(complaint_for_user(request.user), pk=pk)
    labels = dict(Complaint.Status.choices)
    timeline = [
        {
            "t": t,
            "from": labels.get(t.from_state, t.from_state),
            "to": labels.get(t.to_state, t.to_state),
            "label": str(services.TRANSITIONS[t.data["action"]].label)
            if (t.data or {}).get("action") in services.TRANSITIONS
            else "",
        }
        for t in transitions_for(complaint)
    ]
    actions = [
        (name, services.TRANSITIONS[name])
        for name in services.allowed_actions(user=request.user, complaint=complaint)
    ]
    context = {
        "complaint": complaint,
        "timeline": timeline,
        "actions": actions,
        "form": ComplaintActionForm(),
        "side": side,
        "hide_firm": side == "bank",
    }
    return render(request, "feedback/complaint_detail.html", context)


@firm_required
def complaint_detail(request, pk: int):
    return _detail(request, pk, "firm")


DETAIL_BY_ROLE = {
    Role.FIRM: "feedback:complaint_detail",
    Role.STAFF: "feedback:staff_complaint_detail",
    Role.REGION: "feedback:staff_complaint_detail",
    Role.OFFICER: "feedback:bank_complaint_detail",
    Role.MANAGER: "feedback:bank_complaint_detail",
}


@require_POST
@login_required
def complaint_action(request, pk: int, action: str):
    """One POST endpoint for every role's step (the service decides who may take which)."""
    if request.user.role not in DETAIL_BY_ROLE:
        raise PermissionDenied("role")
    complaint = get_object_or_404(complaint_for_user(request.user), pk=pk)
    form = ComplaintActionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if not form.is_valid():
        messages.error(request, _("说明不能超过 2000 字。"))
    else:
        try:
            services.complaint_transition(user=request.user, complaint=complaint, action=action, note=note)
        except ServiceError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("已办理：%(label)s。") % {"label": services.TRANSITIONS[action].label}
            )
    return redirect(DETAIL_BY_ROLE[request.user.role], pk=complaint.pk)


# ------------------------------------------------------------------------------------------------
# Staff
# ------------------------------------------------------------------------------------------------


@government_required
def staff_complaint_list(request):
    qs = complaint_queue(request.user)
    status = request.GET.get("status", "")
    if status in Complaint.Status.values:
        qs = qs.filter(status=status)
    context = {
        "page": _page(request, qs),
        "side": "staff",
        "statuses": Complaint.Status.choices,
        "status": status,
        "query": f"status={status}" if status else "",
    }
    return render(request, "feedback/complaint_list.html", context)


@government_required
def staff_complaint_detail(request, pk: int):
    return _detail(request, pk, "staff")


# ------------------------------------------------------------------------------------------------
# Bank
# ------------------------------------------------------------------------------------------------


@bank_required
def bank_ratings(request):
    """Ratings of our institution; an anonymous rating shows no firm."""
    institution_id = request.user.institution_id
    summary = institution_ratings([institution_id]).get(institution_id)
    page = _page(
        request, rating_for_user(request.user).select_related("application__product", "match__product")
    )
    return render(request, "feedback/bank_ratings.html", {"page": page, "summary": summary})


@bank_required
def bank_complaint_list(request):
    page = _page(request, complaint_queue(request.user))
    return render(request, "feedback/complaint_list.html", {"page": page, "side": "bank"})


@bank_required
def bank_complaint_detail(request, pk: int):
    return _detail(request, pk, "bank")
