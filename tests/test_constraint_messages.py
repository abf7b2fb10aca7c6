"""No internals on screen: every named database constraint that a form can trip is checked by the
form or its service first, with a Chinese message on the field — never the constraint's name.
Every named constraint of the models is listed here, either with its form case or with why no form
reaches it."""

import re

import pytest
from django.apps import apps

pytestmark = pytest.mark.django_db

PRODUCT = {
    "name": "晋科成长贷",
    "product_type": "credit",
    "amount_min": "50",
    "amount_max": "1000",
    "term_min_months": "6",
    "term_max_months": "36",
    "rate_min": "3.2",
    "rate_max": "5.5",
    "guarantee_types": ["credit"],
    "description": "面向成长期科技企业",
    "industries": ["next_gen_it"],
    "min_invention_patents": "0",
    "min_years": "0",
}
NEED = {"amount": "0", "term_months": "12", "purpose": "working_capital", "guarantee_types": ["credit"]}

# constraint → (who, url, payload, field, message); "setup" posts the payload once first
CASES = {
    "qualification_expiry_after_issue": (
        "firm_a",
        "/firm/qualifications/new/",
        {"kind": "hitech", "number": "GR1", "issued_on": "2025-06-01", "expires_on": "2025-01-01"},
        "expires_on",
        "有效期不能早于发证日期",
    ),
    "qualification_srdi_has_level": (
        "firm_a",
        "/firm/qualifications/new/",
        {"kind": "srdi", "level": "", "issued_on": "2025-01-01"},
        "level",
        "层级",
    ),
    "ipasset_unique_number": (
        "firm_a",
        "/firm/ip-assets/new/",
        {"kind": "invention_patent", "number": "ZL1", "setup": True},
        "number",
        "已登记过",
    ),
    "need_amount_positive": ("firm_a", "/firm/needs/new/", NEED, "amount", "大于"),
    "product_amount_range": (
        "manager_a",
        "/bank/products/new/",
        {**PRODUCT, "amount_min": "2000"},
        "amount_max",
        "最高金额不能低于最低金额",
    ),
    "product_term_range": (
        "manager_a",
        "/bank/products/new/",
        {**PRODUCT, "term_min_months": "48"},
        "term_max_months",
        "最长期限不能短于最短期限",
    ),
    "product_rate_range": (
        "manager_a",
        "/bank/products/new/",
        {**PRODUCT, "rate_min": "6"},
        "rate_max",
        "最高利率不能低于最低利率",
    ),
    "criteria_min_innovation_score_range": (
        "manager_a",
        "/bank/products/new/",
        {**PRODUCT, "min_innovation_score": "120"},
        "min_innovation_score",
        "最低科创积分应在 0–100 分之间",
    ),
    "product_unique_name": (
        "manager_a",
        "/bank/products/new/",
        {**PRODUCT, "setup": True},
        "name",
        "已有同名产品",
    ),
}

# Named constraints no form reaches (rows written by services or background work only), or that
# another issue's work owns (its tests check them: loan dates and amounts, issue 12).
NOT_FROM_A_FORM = {
    "matchrunchunk_unique_index": "matching runs write chunks",
    "match_unique_need_product": "the matching engine upserts",
    "application_amount_positive": "issue 12 item 5: the application form's amount range",
    "application_one_open_per_product": "application_submit refuses a second open application",
    "loan_principal_positive": "issue 12 item 2: the disbursement form",
    "loan_maturity_after_start": "issue 12 item 2: the disbursement form",
    "branch_unique_name": "branches are entered in the admin",
    "branch_one_provincial_per_institution": "branches are entered in the admin",
    "leadread_unique_user": "written when an officer opens a lead",
    "poolentry_unique_firm": "pool_add is idempotent",
    "policy_unique_version": "policy_version_create numbers versions itself",
    "policy_one_active_version": "policy_version_create deactivates the old version",
    "claim_amount_not_negative": "claims are calculated, not typed",
    "claim_once_per_loan_period": "claims are generated once per period",
    "loannotice_unique_kind": "the daily loan-notice task skips a notice already sent",
    "claim_period_order": "claim periods come from the calendar",
    "claim_reward_once_per_year": "rewards are generated once per year",
    "recovery_recovered_positive": "the recovery form's amount has a minimum",
    "recovery_payback_not_negative": "the payback is calculated",
    "ledger_amount_positive": "ledger entries are written by services",
    "consent_unique_institution": "consent_grant upserts one record per institution",
    "consent_unique_all": "consent_grant upserts the one all-institutions record",
    "rating_one_per_application": "rating_create refuses a second rating of the case first (tests/feedback)",
    "rating_one_per_match": "rating_create refuses a second rating of the case first (tests/feedback)",
    "rating_stars_1_to_5": "the rating form and rating_create refuse stars outside 1–5 (tests/feedback)",
    "rating_exactly_one_case": "rating_create and the API serializer require exactly one case",
    "recommendation_recipient_once": "list_send sends a list once only, refusing a second send first (tests/recommendations)",
    "recommendation_entry_once": "list_build lists each firm once (one entry per selected firm)",
    "recommendation_feedback_once": "feedback_record updates the institution's current answer instead of adding one",
    "recommendation_granted_has_amount": "feedback_record and the answer form refuse a grant without a positive amount first",
    "recommendation_declined_has_reason": "feedback_record and the answer form refuse a decline without a reason code first",
    "complaint_reopened_at_most_once": "complaint_transition refuses a second reopen first (tests/feedback)",
    "idempotency_key_unique_per_user": "the idempotency middleware claims a key by this insert (API only)",
    "identitychange_one_pending": "a second identity edit updates the pending change (enterprise_update)",
    "listentry_unique_uscc": "official lists are deduplicated on import",
    "qualflag_once_per_batch": "flags are raised once per import batch",
    "user_bank_role_has_branch": "users are created by staff in the admin",
    "user_firm_has_enterprise": "firm_register creates both together",
    "annual_figures_one_per_year": "the figures form edits one row per year (annual_figures_save upserts)",
    "innovation_score_one_latest": "scores are computed by score_recompute, never typed",
    "innovation_score_total_range": "scores are computed by score_recompute, never typed",
    "user_region_desk_has_region": "users are created in the admin; User.clean refuses a region desk "
    "without a region with a Chinese message on the field (tests/portal/test_region_desks.py)",
}


def named_constraints() -> set[str]:
    names = set()
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if model._meta.app_label in (
                "enterprises",
                "lenders",
                "products",
                "matching",
                "subsidies",
                "portal",
                "feedback",
                "recommendations",
            ):
                names.add(constraint.name)
    return names


def test_every_named_constraint_is_accounted_for():
    assert named_constraints() == set(CASES) | set(NOT_FROM_A_FORM)


@pytest.mark.parametrize("constraint", sorted(CASES))
def test_a_form_that_would_trip_a_constraint_shows_a_chinese_field_error(constraint, cast, client_for):
    who, url, payload, field, message = CASES[constraint]
    client = client_for(getattr(cast, who))
    data = {k: v for k, v in payload.items() if k != "setup"}
    if payload.get("setup"):
        assert client.post(url, data).status_code == 302
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200, constraint
    errors = response.context["form"].errors
    assert field in errors, (constraint, errors)
    assert message in " ".join(errors[field]), (constraint, errors[field])
    assert re.search(r"[\u4e00-\u9fff]", " ".join(errors[field]))
    assert constraint not in html and "约束" not in html
