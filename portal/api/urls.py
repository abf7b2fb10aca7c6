"""The one API root: each app contributes its routes in ``<app>/api/urls.py``."""

from django.urls import include, path

from .views import ConfirmPasswordView, ObtainTokenView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("auth/confirm/", ConfirmPasswordView.as_view(), name="api-auth-confirm"),
    path("", include("enterprises.api.urls")),
    path("", include("lenders.api.urls")),
    path("", include("matching.api.urls")),
    path("", include("subsidies.api.urls")),
    path("", include("feedback.api.urls")),
    path("", include("recommendations.api.urls")),
    path("", include("dashboard.api.urls")),
    path("", include("products.api.urls")),
    path("", include("portal.api.audit")),
    path("", include("portal.api.calendar")),
]
