from django.urls import path

from . import views

app_name = "subsidies"

urlpatterns = [
    path("calculator/", views.calculator, name="calculator"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("lpr/", views.lpr_list, name="lpr"),
    path("claims/", views.claim_list, name="claims"),
    path("claims/export.xlsx", views.claims_export, name="claims_export"),
    path("claims/generate/", views.claims_generate, name="claims_generate"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/recovery/", views.claim_recovery, name="claim_recovery"),
    path("claims/<int:pk>/<str:action>/", views.claim_action, name="claim_action"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/export.xlsx", views.ledger_export, name="ledger_export"),
    path("leverage/", views.leverage, name="leverage"),
    path("needs/<int:pk>/offers/", views.need_offers_page, name="need_offers"),
    path("my-claims/", views.my_claims, name="my_claims"),
    path("my-claims/submit/", views.my_claim_submit, name="my_claim_submit"),
    path("my-claims/<int:pk>/confirm/", views.my_claim_confirm, name="my_claim_confirm"),
    path("my-loans/", views.my_loans, name="my_loans"),
    path("my-loans/<int:pk>/", views.my_loan_detail, name="my_loan_detail"),
    path("my-loans/<int:pk>/renewal/", views.my_loan_renew, name="my_loan_renew"),
    path("bank/", views.bank_claims, name="bank_claims"),
    path("bank/loans/<int:loan_pk>/risk-claim/", views.bank_risk_claim, name="bank_risk_claim"),
]
