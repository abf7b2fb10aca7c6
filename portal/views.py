"""Portal pages: the public home, the post-login landing, the staff workspace, notifications."""

from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from enterprises.models import Enterprise
from lenders.models import Institution
from matching.models import MatchRun
from products.models import Product

from .access import landing_url_name, role_required, staff_required
from .models import Role
from .selectors import notification_list
from .services import notification_mark_read


def home(request):
    figures = {
        "firms_verified": Enterprise.objects.filter(verification_status="verified").count(),
        "institutions": Institution.objects.filter(is_lender=True).count(),
        "products": Product.objects.filter(status="published").count(),
    }
    return render(request, "portal/home.html", {"figures": figures})


def landing(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect(landing_url_name(request.user))


@staff_required
def staff_workspace(request):
    context = {
        "pending_firms": Enterprise.objects.filter(verification_status="pending").order_by("created_at")[:10],
        "pending_count": Enterprise.objects.filter(verification_status="pending").count(),
        "runs": MatchRun.objects.all()[:5],
    }
    return render(request, "portal/staff_workspace.html", context)


@role_required(*Role.values)
def notifications(request):
    page = Paginator(notification_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "portal/notifications.html", {"page": page})


@require_POST
@role_required(*Role.values)
def notifications_read(request):
    notification_mark_read(user=request.user)
    return redirect("portal:notifications")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
