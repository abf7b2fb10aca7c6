"""Pages of the matching service: the staff run page (history, manual run, live progress) and the
firm's suggestions with reasons and near misses with what to improve."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.access import firm_required, staff_required
from portal.services import ServiceError

from .filtersets import MatchRunFilterSet
from .models import Match, MatchRun
from .selectors import match_for_user
from .services.dispatch import start_full_run

FULL_TRIGGERS = [MatchRun.Trigger.NIGHTLY, MatchRun.Trigger.MANUAL, MatchRun.Trigger.SEED]


@staff_required
def run_list(request):
    filterset = MatchRunFilterSet(
        request.GET, queryset=MatchRun.objects.select_related("created_by", "need__enterprise", "product")
    )
    page = Paginator(filterset.qs, 20).get_page(request.GET.get("page"))
    active = (
        MatchRun.objects.filter(
            trigger__in=FULL_TRIGGERS, status__in=[MatchRun.Status.QUEUED, MatchRun.Status.RUNNING]
        )
        .order_by("-created_at", "-id")
        .first()
    )
    latest = (
        active or MatchRun.objects.filter(trigger__in=FULL_TRIGGERS).order_by("-created_at", "-id").first()
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "matching/run_list.html",
        {"filterset": filterset, "page": page, "run": latest, "query": query.urlencode()},
    )


@require_POST
@staff_required
def run_start(request):
    try:
        run = start_full_run(trigger=MatchRun.Trigger.MANUAL, user=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已发起全量匹配任务 #%(id)s。") % {"id": run.pk})
    return redirect("matching:runs")


@staff_required
def run_progress(request, pk: int):
    run = get_object_or_404(MatchRun, pk=pk)
    return render(request, "matching/run_progress.html", {"run": run})


@firm_required
def suggestions(request):
    scope = match_for_user(request.user)
    fits = scope.filter(is_near_miss=False).exclude(status=Match.Status.WITHDRAWN).order_by("-score", "id")
    near = scope.filter(is_near_miss=True).order_by("-score", "id")
    return render(
        request,
        "matching/run_suggestions.html",
        {
            "fits": Paginator(fits, 10).get_page(request.GET.get("page")),
            "near": Paginator(near, 10).get_page(request.GET.get("near_page")),
        },
    )
