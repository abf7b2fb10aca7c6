from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from oauth2_provider.views import TokenView

from . import audit_views, otp_views, password_views, views

portal_patterns = [
    path("", include("dashboard.home_urls")),
    path("accounts/landing/", views.landing, name="landing"),
    path("staff/audit/", audit_views.audit_list, name="audit"),
    path("staff/calendar/", views.workday_calendar, name="calendar"),
    path("staff/calendar/<str:day>/delete/", views.workday_delete, name="calendar_delete"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("healthz/", views.healthz, name="healthz"),
    path("healthz/live/", views.live, name="live"),
    path(
        "favicon.ico",
        RedirectView.as_view(url=settings.STATIC_URL + "favicon.ico", permanent=True),
        name="favicon",
    ),
    path("accounts/confirm/", otp_views.reauth_confirm, name="reauth"),
    path("accounts/2fa/", otp_views.otp_setup, name="otp_setup"),
    path("accounts/2fa/verify/", otp_views.otp_verify, name="otp_verify"),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    # Login with the optional second factor; the rest of django.contrib.auth's views as they are.
    path("accounts/login/", otp_views.LoginView.as_view(), name="login"),
    path("accounts/password_reset/", password_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("firm/", include("enterprises.urls")),
    path("bank/", include("lenders.urls")),
    path("products/", include("products.urls")),
    path("matching/", include("matching.urls")),
    path("subsidies/", include("subsidies.urls")),
    path("feedback/", include("feedback.urls")),
    path("recommendations/", include("recommendations.urls")),
    path("", include("dashboard.urls")),
    path("api/v1/", include("portal.api.urls")),
    # OAuth2 for banks' systems (lenders/oauth.py): only the token endpoint, no authorization pages.
    path("o/", include(([path("token/", TokenView.as_view(), name="token")], "oauth2_provider"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

# Uploaded documents are never served from MEDIA_URL: only through the scoped download views.

admin.site.site_header = "科金直通车 管理后台"
admin.site.site_title = "科金直通车"
admin.site.index_title = "平台数据管理"
