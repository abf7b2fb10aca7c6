"""Pages of the 科创积分: the firm's own score (workspace) and the desks' distribution of scores.
Thin: the reads are ``enterprises.selectors``' (scoped by the access model)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from portal.access import firm_required, government_required
from portal.models import Role

from .models import AnnualFigures
from .scoring import scored_years
from .selectors import enterprise_for_user, score_distribution, score_page


@firm_required
def score(request):
    enterprise = get_object_or_404(enterprise_for_user(request.user), pk=request.user.enterprise_id)
    page = score_page(user=request.user, enterprise=enterprise)
    years = scored_years(_today())
    has_figures = AnnualFigures.objects.filter(
        enterprise=enterprise, year__gte=years.start, year__lt=years.stop
    ).exists()
    return render(
        request,
        "enterprises/score.html",
        {
            "enterprise": enterprise,
            **page,
            "chart_data": page["chart"],
            "has_figures": has_figures,
            "years": f"{years.start}–{years.stop - 1}",
        },
    )


def _today():
    from django.utils import timezone

    return timezone.localdate()


@government_required
def distribution(request):
    user = request.user
    data = score_distribution(user)
    chart = {
        "bands": data["bands"],
        "series": [{"label": g["label"], "values": g["bands"]} for g in data["groups"]],
    }
    return render(
        request,
        "enterprises/score_distribution.html",
        {
            **data,
            "chart_data": chart,
            "region": user.region if user.role == Role.REGION else None,
        },
    )
