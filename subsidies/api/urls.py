"""API routes of the subsidies app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ClaimViewSet, LedgerView, LeverageView, LprView, NeedOffersView, QuoteView

router = SimpleRouter()
router.register("subsidies/claims", ClaimViewSet, basename="subsidy-claim")

urlpatterns = [
    path("subsidies/quote/", QuoteView.as_view(), name="subsidy-quote"),
    path("needs/<int:pk>/offers/", NeedOffersView.as_view(), name="need-offers"),
    path("subsidies/lpr/", LprView.as_view(), name="subsidy-lpr"),
    path("subsidies/ledger/", LedgerView.as_view(), name="subsidy-ledger"),
    path("subsidies/leverage/", LeverageView.as_view(), name="subsidy-leverage"),
    *router.urls,
]
