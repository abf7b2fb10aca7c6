"""API routes of the 信息直通车 dashboard (mounted under /api/v1/)."""

from django.urls import path

from dashboard.api.views import DashboardDefinitionsView, DashboardSeriesView, DashboardSummaryView

urlpatterns = [
    path("dashboard/summary/", DashboardSummaryView.as_view(), name="dashboard-summary"),
    path("dashboard/definitions/", DashboardDefinitionsView.as_view(), name="dashboard-definitions"),
    path("dashboard/series/", DashboardSeriesView.as_view(), name="dashboard-series"),
]
