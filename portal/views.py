"""Portal pages: the public home, the post-login landing, the staff workspace, notifications."""

from decimal import Decimal

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from enterprises.models import Enterprise
from lenders.models import Institution
from matching.models import Loan, MatchRun
from products.models import Product

from .access import landing_url_name, role_required, staff_required
from .models import Role
from .selectors import notification_list
from .services import notification_mark_read

HOME_FIGURES_KEY = "portal:home:figures"
HOME_FIGURES_SECONDS = 300


def home_figures() -> dict:
    """The public headline figures, cached for five minutes (the figures, not the page: the page
    differs per visitor)."""
    figures = cache.get(HOME_FIGURES_KEY)
    if figures is None:
        figures = {
            "firms_verified": Enterprise.objects.filter(verification_status="verified").count(),
            "financing_moved": Loan.objects.aggregate(s=Sum("principal"))["s"] or Decimal("0"),
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
    """200 when the database, the cache and the broker answer; 503 naming what is down."""
    from .health import health_report

    checks = health_report()
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        return JsonResponse({"status": "unavailable", "down": down, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
