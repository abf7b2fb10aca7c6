"""The home page's public figures and the desks' workspace: pages that read every app, so they live
with the dashboard (the roof), not in the ground package. Their URL names stay in the ``portal``
namespace (``portal:home``, ``portal:staff_workspace``) through :mod:`dashboard.home_urls`."""

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone

from dashboard import selectors as dashboard
from enterprises.models import Enterprise
from enterprises.selectors import pending_enterprises
from feedback.selectors import complaints_for_workspace
from lenders.models import Institution
from matching.models import MatchRun
from portal import kpi, workdays
from portal.access import government_required
from products.models import Product
from subsidies.selectors import leverage_for_year

HOME_FIGURES_KEY = "portal:home:figures"
HOME_FIGURES_SECONDS = 300


def home_figures() -> dict:
    """The public headline figures, cached for five minutes (the figures, not the page: the page
    differs per visitor). 撬动 is this calendar year's, province-wide, by the one leverage
    definition (:func:`subsidies.selectors.leverage_for_year`, as on the leverage page)."""
    figures = cache.get(HOME_FIGURES_KEY)
    if figures is None:
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


@government_required
def staff_workspace(request):
    """The desk's workspace: the province's staff see the province; a region desk sees its region's
    work in hand first (firms pending verification, visit follow-ups due, overdue leads) and, where
    the province allows (``REGION_DESK_SEES_PROVINCE``), the province's figures beside them."""
    user = request.user
    pending = pending_enterprises(user)
    mine = dashboard.desk_figures(user=user)
    province = None
    if user.is_region_desk and settings.REGION_DESK_SEES_PROVINCE:
        province = dashboard.desk_figures(user=user, province=True)
    figures = [
        {
            "code": code,
            "label": kpi.label(code),
            "definition": kpi.definition(code),
            "value": mine[code],
            "province": province[code] if province is not None else None,
        }
        for code in kpi.DESK_FIGURES
    ]
    context = {
        "pending_firms": pending[:10],
        "pending_count": mine["firms_pending_verification"],
        "figures": figures,
        "region": user.region if user.is_region_desk else None,
        "shows_province": province is not None,
        "runs": MatchRun.objects.all()[:5] if user.is_provincial else [],
        "calendar_gaps": workdays.uncovered_years(workdays.years_in_use(timezone.localdate())),
        **complaints_for_workspace(request.user),
    }
    return render(request, "portal/staff_workspace.html", context)
