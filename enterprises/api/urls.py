"""API routes of the enterprises app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import score, views

router = SimpleRouter()
router.register("needs", views.NeedViewSet, basename="need")
router.register("documents", views.DocumentViewSet, basename="document")
router.register("applications", views.ApplicationViewSet, basename="application")

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("enterprises/me/", views.EnterpriseMeView.as_view(), name="enterprise-me"),
    path(
        "enterprises/me/figures/<int:year>/",
        views.AnnualFiguresMeView.as_view(),
        name="enterprise-me-figures",
    ),
    path(
        "enterprises/me/qualifications/",
        views.QualificationMeView.as_view(),
        name="enterprise-me-qualifications",
    ),
    path("enterprises/me/ip-assets/", views.IPAssetMeView.as_view(), name="enterprise-me-ip-assets"),
    path("enterprises/me/consent/", views.ConsentMeView.as_view(), name="enterprise-me-consent"),
    path("enterprises/me/views/", views.ProfileViewMeView.as_view(), name="enterprise-me-views"),
    path("enterprises/me/score/", score.ScoreMeView.as_view(), name="enterprise-me-score"),
    path("enterprises/<int:pk>/score/", score.EnterpriseScoreView.as_view(), name="enterprise-score"),
    path("products/<int:pk>/eligibility/", views.EligibilityView.as_view(), name="product-eligibility"),
    *router.urls,
]
