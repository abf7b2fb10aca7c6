"""API routes of the lenders app (mounted under /api/v1/).

Lead actions are plain paths under ``matches/<id>/`` (the matches viewset itself belongs to the
matching app); the application transition is a plain path under ``applications/<id>/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("pools", views.PoolViewSet, basename="pool")

urlpatterns = [
    path("matches/<int:pk>/claim/", views.LeadClaimView.as_view(), name="api-lead-claim"),
    path("matches/<int:pk>/contact/", views.LeadContactView.as_view(), name="api-lead-contact"),
    path("matches/<int:pk>/invite/", views.LeadInviteView.as_view(), name="api-lead-invite"),
    path("matches/<int:pk>/decline/", views.LeadDeclineView.as_view(), name="api-lead-decline"),
    path("matches/<int:pk>/reassign/", views.LeadReassignView.as_view(), name="api-lead-reassign"),
    path(
        "applications/<int:pk>/transition/",
        views.ApplicationTransitionView.as_view(),
        name="api-application-transition",
    ),
    path("webhook/", views.WebhookSettingsView.as_view(), name="api-webhook"),
    path("api-clients/", views.ApiClientListView.as_view(), name="api-client-list"),
    path("api-clients/<int:pk>/revoke/", views.ApiClientRevokeView.as_view(), name="api-client-revoke"),
    *router.urls,
]
