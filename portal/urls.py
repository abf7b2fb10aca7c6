from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

portal_patterns = [
    path("", views.home, name="home"),
    path("accounts/landing/", views.landing, name="landing"),
    path("staff/", views.staff_workspace, name="staff_workspace"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("healthz/", views.healthz, name="healthz"),
    path("healthz/live/", views.live, name="live"),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("accounts/", include("django.contrib.auth.urls")),
    path("firm/", include("enterprises.urls")),
    path("bank/", include("lenders.urls")),
    path("products/", include("products.urls")),
    path("matching/", include("matching.urls")),
    path("subsidies/", include("subsidies.urls")),
    path("", include("portal.dashboard_urls")),
    path("api/v1/", include("portal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

# Uploaded documents are never served from MEDIA_URL: only through the scoped download views.

admin.site.site_header = "科金直通车 管理后台"
admin.site.site_title = "科金直通车"
admin.site.index_title = "平台数据管理"
