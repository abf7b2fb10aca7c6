"""API routes of the matching app (mounted under /api/v1/).

The bank's lead actions (``matches/{id}/claim/`` …) live in ``lenders/api/`` under the same prefix;
this router keeps the viewset at basename "match" and defines no extra actions."""

from rest_framework.routers import SimpleRouter

from .views import LoanViewSet, MatchRunViewSet, MatchViewSet

router = SimpleRouter()
router.register("matches", MatchViewSet, basename="match")
router.register("match-runs", MatchRunViewSet, basename="match-run")
router.register("loans", LoanViewSet, basename="loan")

urlpatterns = [*router.urls]
