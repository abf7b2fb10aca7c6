"""Pages of the 信息直通车 dashboard, service visits and official lists (staff, managers)."""

from django.urls import path

from dashboard import views
from enterprises import score_views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", views.index, name="index"),
    path("dashboard/lists/<slug:kind>/", views.figure_list, name="list"),
    path("dashboard/charts/<slug:group_by>/export/", views.chart_export, name="chart_export"),
    path("dashboard/scores/", score_views.distribution, name="scores"),
    path("dashboard/leads/<int:pk>/", views.lead_record, name="lead_record"),
    path("dashboard/applications/<int:pk>/", views.application_record, name="application_record"),
    path("staff/visits/", views.visit_list, name="visits"),
    path("staff/visits/new/", views.visit_create, name="visit_create"),
    path("staff/visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("staff/visits/<int:pk>/done/", views.visit_done, name="visit_done"),
    path("staff/visits/needs/<int:pk>/confirm/", views.visit_need_confirm, name="visit_need_confirm"),
    path("staff/visits/firms/<int:enterprise_id>/", views.firm_visits, name="firm_visits"),
    path("staff/official-lists/", views.official_list_index, name="official_lists"),
    path("staff/official-lists/<int:pk>/", views.official_list_batch, name="official_list_batch"),
    path("staff/official-lists/flags/", views.official_list_flags, name="official_list_flags"),
    path("staff/official-lists/invites/", views.official_list_invites, name="official_list_invites"),
]
