from django.urls import path

from . import score_views, views

app_name = "enterprises"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("register/", views.register, name="register"),
    path("profile/", views.profile, name="profile"),
    path("profile/figures/", views.profile_figures, name="profile_figures"),
    path("score/", score_views.score, name="score"),
    path("qualifications/new/", views.qualification_add, name="qualification_add"),
    path("qualifications/<int:pk>/delete/", views.qualification_delete, name="qualification_delete"),
    path("ip-assets/new/", views.ip_asset_add, name="ip_asset_add"),
    path("ip-assets/<int:pk>/delete/", views.ip_asset_delete, name="ip_asset_delete"),
    path("documents/new/", views.document_upload, name="document_upload"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
    path("needs/", views.need_list, name="need_list"),
    path("needs/new/", views.need_create, name="need_create"),
    path("needs/<int:pk>/edit/", views.need_edit, name="need_edit"),
    path("needs/<int:pk>/withdraw/", views.need_withdraw, name="need_withdraw"),
    path("apply/<int:product_pk>/", views.apply, name="apply"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw_view, name="application_withdraw"),
    path("applications/<int:pk>/accept/", views.application_accept_view, name="application_accept"),
    path("consent/", views.consent, name="consent"),
    path("verify/", views.verify_list, name="verify_list"),
    path("verify/<int:pk>/", views.verify_action, name="verify_action"),
    path("verify/changes/<int:pk>/", views.identity_change_action, name="identity_change_action"),
]
