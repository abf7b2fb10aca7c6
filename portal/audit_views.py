"""The staff search page of the audit log."""

from django.core.paginator import Paginator
from django.shortcuts import render

from .access import staff_required
from .audit import AuditEventFilterSet, audit_event_for_user, audit_rows


@staff_required
def audit_list(request):
    filterset = AuditEventFilterSet(request.GET, queryset=audit_event_for_user(request.user))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit_list.html",
        {"filterset": filterset, "page": page, "rows": audit_rows(page), "query": query.urlencode()},
    )
