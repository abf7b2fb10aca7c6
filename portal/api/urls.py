"""The one API router: every app registers its viewsets here under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from products.api.views import ProductViewSet

from .views import ObtainTokenView

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
