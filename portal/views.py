"""Portal pages: the public home, the post-login landing, the staff workspace, notifications."""

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from enterprises.models import Enterprise
from lenders.models import Institution
from matching.models import MatchRun
from products.models import Product

from .access import landing_url_name, role_required, staff_required
from .models import Role
from .selectors import notification_list
from .services import notification_mark_read

HOME_FIGURES_KEY = "portal:home:figures"
HOME_FIGURES_SECONDS = 300


def home_figures() -> dict:
    """The public headline figures, cached for five minutes (the figures, not the page: the page
    differs per visitor). 撬动 is this calendar year's, province-wide, by the one leverage
    definition (:func:`subsidies.selectors.leverage_for_year`, as on the leverage page)."""
    figures = cache.get(HOME_FIGURES_KEY)
    if figures is None:
        from subsidies.selectors import leverage_for_year

        year = timezone.localdate().year
        lev = leverage_for_year(year)["overall"]
        figures = {
            "firms_verified": Enterprise.objects.filter(verification_status="verified").count(),
            "year": year,
            "leverage_finance": lev["finance"],
            "leverage_fiscal": lev["fiscal"],
            "leverage": lev["ratio"],
            "institutions": Institution.objects.filter(is_lender=True).count(),
            "products": Product.objects.filter(status="published").count(),
        }
        cache.set(HOME_FIGURES_KEY, figures, HOME_FIGURES_SECONDS)
    return figures


def home(request):
    return render(request, "portal/home.html", {"figures": home_figures()})


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


def live(request):
    """A trivial JSON view: no database, no session — the stack's ceiling in the load test."""
    return JsonResponse({"status": "ok"})


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
