"""The bank workspace."""

from django.shortcuts import render

from matching.models import Application, Match
from portal.access import bank_required


@bank_required
def workspace(request):
    user = request.user
    leads = Match.objects.filter(is_lead=True, institution_id=user.institution_id)
    if user.is_officer:
        leads = leads.filter(branch_id=user.branch_id)
    context = {
        "branch": user.branch,
        "open_leads": leads.filter(status__in=["suggested", "claimed"])
        .select_related("enterprise", "product", "enterprise__city")
        .order_by("response_deadline", "-score")[:10],
        "open_leads_count": leads.filter(status__in=["suggested", "claimed"]).count(),
        "applications_count": Application.objects.filter(
            product__institution_id=user.institution_id, status__in=Application.OPEN_STATUSES
        ).count(),
    }
    return render(request, "lenders/workspace.html", context)
