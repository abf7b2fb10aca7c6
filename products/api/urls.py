"""API routes of the products app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .views import ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")

urlpatterns = [*router.urls]
