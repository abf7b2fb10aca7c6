from django.urls import path

from . import views

app_name = "lenders"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("leads/", views.lead_inbox, name="lead_list"),
    path("leads/export/", views.lead_export, name="lead_export"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/<slug:action>/", views.lead_action, name="lead_action"),
    path("applications/", views.application_queue, name="application_list"),
    path("applications/export/", views.application_export, name="application_export"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/transition/", views.application_action, name="application_action"),
    path("products/", views.product_manage_list, name="product_manage_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/<slug:action>/", views.product_status, name="product_status"),
    path("pool/", views.pool_list, name="pool_list"),
    path("pool/browse/", views.pool_browse, name="pool_browse"),
    path("pool/add/<int:enterprise_pk>/", views.pool_add, name="pool_add"),
    path("pool/<int:pk>/remove/", views.pool_remove, name="pool_remove"),
    path("team/", views.team, name="team"),
    path("webhook/", views.webhook_settings, name="webhook_settings"),
    path("webhook/rotate/", views.webhook_rotate, name="webhook_rotate"),
    path("webhook/deliveries/<int:pk>/replay/", views.webhook_replay, name="webhook_replay"),
    path("api-clients/", views.api_clients, name="api_clients"),
    path("api-clients/<int:pk>/revoke/", views.api_client_revoke, name="api_client_revoke"),
]
