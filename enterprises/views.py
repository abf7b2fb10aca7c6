"""The firm workspace."""

from django.shortcuts import render

from matching.models import Application, Match
from portal.access import firm_required

from .selectors import need_for_user


@firm_required
def workspace(request):
    enterprise = request.user.enterprise
    context = {
        "enterprise": enterprise,
        "needs": need_for_user(request.user).filter(status="open")[:5],
        "suggestions": Match.objects.filter(enterprise=enterprise, is_near_miss=False)
        .exclude(status="withdrawn")
        .select_related("product", "product__institution")
        .order_by("-score")[:5],
        "applications": Application.objects.filter(enterprise=enterprise).select_related("product")[:5],
    }
    return render(request, "enterprises/workspace.html", context)
