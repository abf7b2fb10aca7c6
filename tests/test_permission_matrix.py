"""The permission matrix: every URL pattern and API route of the project × every role.

The routes come from the resolver, so a new route without an entry in ``ROUTES`` fails
``test_every_route_has_an_entry``. Each entry says which object the route opens (the A side owns it)
and who may use it; the expected status for each role follows from that:

- allowed          → the view answers (not 401/403/404, never a 5xx);
- another tenant   → 404 (firm B on firm A's object, bank B on bank A's) — existence is not leaked;
- a wrong role     → 403; anonymous → sent to login (pages) or 401/403 (API).

Region desks (区域专班): ``region_a`` is the desk of firm A's region (太原市), ``region_b`` another
region's (大同市). Every object of the world that belongs to a firm is firm A's (``REGIONAL``), so on
a route a region desk may use, ``region_b`` gets 404 for it, as another tenant does.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from enterprises.models import Document, FinancingNeed, IdentityChange, ServiceVisit, financial_years
from feedback.models import Complaint, Rating
from lenders.models import PoolEntry, WebhookDelivery
from lenders.services import api_client_create
from matching.models import MatchRun
from portal.models import ImportBatch, WorkdayOverride
from subsidies.models import Claim, LedgerEntry
from tests import factories as f
from tests.conftest import reauth_session

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "firm_a",
    "firm_b",
    "officer_a",
    "officer_b",
    "manager_a",
    "staff",
    "region_a",
    "region_b",
    "finance",
    "admin",
]

# STAFF is the province's science desk (省级专班: policies, claim review); REGION a region's desk
# (区域专班, scoped to its region's firms); FINANCE the finance desk (财政专班: approves and pays
# claims — subsidies/duties.py grants each desk its steps).
FIRM, OFFICER, MANAGER, STAFF, REGION, FINANCE = "firm", "officer", "manager", "staff", "region", "finance"
BANK = (OFFICER, MANAGER)
GOV = (STAFF, REGION)
DESKS = (STAFF, FINANCE)
EVERY_ROLE = (FIRM, OFFICER, MANAGER, STAFF, REGION, FINANCE)
# The firms' and banks' business (applications, leads, loans): not the finance desk's, which sees
# none of it (an empty list, 404 on one); a region desk sees its region's.
CASEWORK = (FIRM, OFFICER, MANAGER, STAFF, REGION)
# The world's objects that belong to firm A (so to region A): region B's desk never reaches them.
REGIONAL = {
    "need",
    "lead",
    "application",
    "loan",
    "claim",
    "risk_claim",
    "document",
    "visit",
    "visit_need",
    "pool",
    "enterprise",
    "identity_change",
    "qualification",
    "ip_asset",
    "complaint",
}


def R(
    method="GET",
    *,
    roles=EVERY_ROLE,
    obj=None,
    owner=None,
    public=False,
    kwargs=None,
    admin=False,
    kwargs_from="pk",
):
    """One route's entry. ``roles``: who may use it; ``obj``: the world's object it opens;
    ``owner``: 'firm' or 'bank' — which tenant owns ``obj`` (the other tenant of that kind gets 404);
    ``public``: anonymous too; ``admin``: a superuser without a role may use it; ``kwargs_from``:
    the URL keyword that carries the object's id."""
    return {
        "method": method,
        "roles": roles,
        "obj": obj,
        "owner": owner,
        "public": public,
        "kwargs": kwargs or {},
        "admin": admin,
        "kwargs_from": kwargs_from,
    }


ROUTES = {
    # --- portal ---------------------------------------------------------------------------------
    "portal:home": R(public=True, admin=True),
    "portal:landing": R(admin=True),
    "portal:staff_workspace": R(roles=GOV),
    "portal:audit": R(roles=(STAFF,)),
    "portal:calendar": R(roles=(STAFF,)),
    "portal:calendar_delete": R("POST", roles=(STAFF,), kwargs={"day": "2030-10-01"}),
    "portal:notifications": R(),
    "portal:notifications_read": R("POST"),
    "portal:healthz": R(public=True, admin=True),
    "portal:live": R(public=True, admin=True),
    "portal:favicon": R(public=True, admin=True),
    "portal:reauth": R(admin=True),
    "portal:otp_setup": R(roles=(OFFICER, MANAGER, STAFF, REGION, FINANCE)),
    "portal:otp_verify": R(admin=True),
    "login": R(public=True, admin=True),
    "logout": R("POST", public=True, admin=True),
    "password_change": R(admin=True),
    "password_change_done": R(admin=True),
    "password_reset": R(public=True, admin=True),
    "password_reset_done": R(public=True, admin=True),
    "password_reset_confirm": R(public=True, admin=True, kwargs={"uidb64": "MQ", "token": "set-password"}),
    "password_reset_complete": R(public=True, admin=True),
    "api-schema": R(public=True, admin=True),
    "api-docs": R(public=True, admin=True),
    # --- firm -----------------------------------------------------------------------------------
    "enterprises:workspace": R(roles=(FIRM,)),
    "enterprises:register": R(public=True, admin=True),
    "enterprises:profile": R(roles=(FIRM,)),
    # GET sends the firm to the profile's 年度经营数据 section; the POST saves its own firm's years.
    "enterprises:profile_figures": R(roles=(FIRM,)),
    "enterprises:qualification_add": R(roles=(FIRM,)),
    "enterprises:qualification_delete": R("POST", roles=(FIRM,), obj="qualification", owner="firm"),
    "enterprises:ip_asset_add": R(roles=(FIRM,)),
    "enterprises:ip_asset_delete": R("POST", roles=(FIRM,), obj="ip_asset", owner="firm"),
    "enterprises:document_upload": R(roles=(FIRM,)),
    "enterprises:document_download": R(roles=(FIRM, *BANK, STAFF), obj="document", owner="both"),
    "enterprises:document_delete": R("POST", roles=(FIRM,), obj="document", owner="firm"),
    "enterprises:need_list": R(roles=(FIRM,)),
    "enterprises:need_create": R(roles=(FIRM,)),
    "enterprises:need_edit": R(roles=(FIRM,), obj="need", owner="firm"),
    "enterprises:need_withdraw": R(roles=(FIRM,), obj="need", owner="firm"),
    "enterprises:apply": R(roles=(FIRM,), obj="product", kwargs_from="product_pk"),
    "enterprises:application_list": R(roles=(FIRM,)),
    "enterprises:application_detail": R(roles=(FIRM,), obj="application", owner="firm"),
    "enterprises:application_withdraw": R("POST", roles=(FIRM,), obj="application", owner="firm"),
    "enterprises:application_accept": R("POST", roles=(FIRM,), obj="offer", owner="firm"),
    "enterprises:consent": R(roles=(FIRM,)),
    "enterprises:score": R(roles=(FIRM,)),
    "enterprises:verify_list": R(roles=GOV),
    "enterprises:verify_action": R("POST", roles=GOV, obj="enterprise"),
    "enterprises:identity_change_action": R("POST", roles=GOV, obj="identity_change"),
    # --- bank -----------------------------------------------------------------------------------
    "lenders:workspace": R(roles=BANK),
    "lenders:lead_list": R(roles=(*BANK, STAFF)),
    "lenders:lead_export": R(roles=(*BANK, STAFF)),
    "lenders:lead_detail": R(roles=(*BANK, STAFF), obj="lead", owner="bank"),
    "lenders:lead_action": R("POST", roles=BANK, obj="lead", owner="bank", kwargs={"action": "claim"}),
    "lenders:application_list": R(roles=(*BANK, STAFF)),
    "lenders:application_export": R(roles=(*BANK, STAFF)),
    "lenders:application_detail": R(roles=(*BANK, STAFF), obj="application", owner="bank"),
    "lenders:application_action": R("POST", roles=BANK, obj="application", owner="bank"),
    "lenders:product_manage_list": R(roles=BANK),
    "lenders:product_create": R(roles=(MANAGER,)),
    "lenders:product_edit": R(roles=(MANAGER,), obj="product", owner="bank"),
    "lenders:product_status": R(
        "POST", roles=(MANAGER,), obj="product", owner="bank", kwargs={"action": "retire"}
    ),
    "lenders:pool_list": R(roles=BANK),
    "lenders:pool_browse": R(roles=BANK),
    "lenders:pool_add": R("POST", roles=BANK, obj="enterprise", kwargs_from="enterprise_pk"),
    "lenders:pool_remove": R("POST", roles=BANK, obj="pool", owner="bank"),
    "lenders:team": R(roles=(MANAGER,)),
    "lenders:webhook_settings": R(roles=(MANAGER,)),
    "lenders:webhook_rotate": R("POST", roles=(MANAGER,)),
    "lenders:webhook_replay": R("POST", roles=(MANAGER,), obj="delivery", owner="bank"),
    "lenders:api_clients": R(roles=(MANAGER,)),
    "lenders:api_client_revoke": R(roles=(MANAGER,), obj="api_client", owner="bank"),
    # --- products, matching -----------------------------------------------------------------------
    "products:list": R(public=True, admin=True),
    "products:detail": R(public=True, admin=True, obj="product"),
    "matching:runs": R(roles=(STAFF,)),
    "matching:run_start": R("POST", roles=(STAFF,)),
    "matching:run_progress": R(roles=(STAFF,), obj="run"),
    "matching:suggestions": R(roles=(FIRM,)),
    # --- subsidies --------------------------------------------------------------------------------
    "subsidies:calculator": R(public=True, admin=True),
    # The finance desk reads policies but only the science desk authors them.
    "subsidies:policies": R(roles=DESKS),
    "subsidies:policy_create": R(roles=(STAFF,)),
    "subsidies:policy_detail": R(roles=DESKS, obj="policy"),
    "subsidies:policy_edit": R(roles=(STAFF,), obj="policy"),
    "subsidies:lpr": R(roles=(STAFF,)),
    "subsidies:claims": R(roles=DESKS),
    "subsidies:claims_export": R(roles=DESKS),
    "subsidies:claims_generate": R("POST", roles=(STAFF,)),
    "subsidies:claim_detail": R(roles=DESKS, obj="claim"),
    "subsidies:claim_recovery": R("POST", roles=(STAFF, *BANK), obj="risk_claim", owner="bank"),
    # The world's claim awaits the firm: sending it back is the science desk's step (403 for finance).
    "subsidies:claim_action": R("POST", roles=(STAFF,), obj="claim", kwargs={"action": "reject"}),
    "subsidies:ledger": R(roles=DESKS),
    "subsidies:ledger_export": R(roles=DESKS),
    "subsidies:leverage": R(roles=(STAFF, *BANK)),
    "subsidies:need_offers": R(roles=(FIRM,), obj="need", owner="firm"),
    "subsidies:my_claims": R(roles=(FIRM,)),
    "subsidies:my_loans": R(roles=(FIRM,)),
    "subsidies:my_loan_detail": R(roles=(FIRM,), obj="loan", owner="firm"),
    "subsidies:my_loan_renew": R("POST", roles=(FIRM,), obj="loan", owner="firm"),
    "subsidies:my_claim_submit": R("POST", roles=(FIRM,)),
    "subsidies:my_claim_confirm": R("POST", roles=(FIRM,), obj="claim", owner="firm"),
    "subsidies:bank_claims": R(roles=BANK),
    "subsidies:bank_risk_claim": R("POST", roles=BANK, obj="loan", owner="bank", kwargs_from="loan_pk"),
    # --- dashboard, visits, official lists -----------------------------------------------------------
    "dashboard:index": R(roles=(*GOV, MANAGER)),
    "dashboard:scores": R(
        roles=GOV
    ),  # a region desk: its region's firms only (tests/enterprises/test_scoring.py)
    "dashboard:list": R(roles=(*GOV, MANAGER), kwargs={"kind": "matches"}),
    "dashboard:chart_export": R(roles=(*GOV, MANAGER), kwargs={"group_by": "city"}),
    "dashboard:lead_record": R(roles=GOV, obj="lead"),
    "dashboard:application_record": R(roles=GOV, obj="application"),
    "dashboard:visits": R(roles=GOV),
    "dashboard:visit_create": R(roles=GOV),
    "dashboard:visit_detail": R(roles=GOV, obj="visit"),
    "dashboard:visit_done": R("POST", roles=GOV, obj="visit"),
    "dashboard:visit_need_confirm": R(roles=(FIRM,), obj="visit_need", owner="firm"),
    "dashboard:firm_visits": R(roles=GOV, obj="enterprise", kwargs_from="enterprise_id"),
    "dashboard:official_lists": R(roles=(STAFF,)),
    "dashboard:official_list_batch": R(roles=(STAFF,), obj="batch"),
    "dashboard:official_list_flags": R(roles=(STAFF,)),
    "dashboard:official_list_invites": R(roles=(STAFF,)),
    # --- feedback: ratings and complaints ---------------------------------------------------------------
    "feedback:my_ratings": R(roles=(FIRM,)),
    "feedback:rate_application": R(roles=(FIRM,), obj="application", owner="firm"),
    "feedback:rate_match": R(roles=(FIRM,), obj="lead", owner="firm"),
    "feedback:complaint_list": R(roles=(FIRM,)),
    "feedback:complaint_create": R(roles=(FIRM,)),
    "feedback:complaint_detail": R(roles=(FIRM,), obj="complaint", owner="firm"),
    "feedback:complaint_action": R(
        "POST", roles=(FIRM, *BANK, *GOV), obj="complaint", owner="both", kwargs={"action": "handle"}
    ),
    "feedback:staff_complaint_list": R(roles=GOV),
    "feedback:staff_complaint_detail": R(roles=GOV, obj="complaint"),
    "feedback:bank_ratings": R(roles=BANK),
    "feedback:bank_complaint_list": R(roles=BANK),
    "feedback:bank_complaint_detail": R(roles=BANK, obj="complaint", owner="bank"),
    # Ratings are the firms', the banks' and the province's; complaints go to the desks of the firm's
    # region too. The finance desk has neither (an empty list, 404 on one).
    "rating-list": R(roles=(FIRM, *BANK, STAFF)),
    "rating-detail": R(roles=(FIRM, *BANK, STAFF), obj="rating", owner="both"),
    "complaint-list": R(roles=CASEWORK),
    "complaint-detail": R(roles=CASEWORK, obj="complaint", owner="both"),
    "complaint-transition": R("POST", roles=CASEWORK, obj="complaint", owner="both"),
    # --- recommendations: 推荐清单 (staff build and send; the receiving bank reads and answers) ------
    "recommendations:index": R(roles=(STAFF,)),
    "recommendations:build": R(roles=(STAFF,)),
    "recommendations:detail": R(roles=(STAFF,), obj="rec_list"),
    "recommendations:send": R(roles=(STAFF,), obj="rec_list_draft"),
    "recommendations:bank_index": R(roles=BANK),
    "recommendations:bank_detail": R(roles=BANK, obj="rec_list", owner="bank"),
    # An empty answer is re-shown with its error (200); bank B does not see bank A's list (404).
    "recommendations:bank_feedback": R("POST", roles=BANK, obj="rec_list", owner="bank"),
    "recommendation-list": R(roles=(STAFF, *BANK)),
    "recommendation-detail": R(roles=(STAFF, *BANK), obj="rec_list", owner="bank"),
    "recommendation-feedback": R("POST", roles=BANK, obj="rec_list", owner="bank"),
    # --- API ----------------------------------------------------------------------------------------
    "api-token": R("POST", public=True, admin=True),
    "api-auth-confirm": R("POST", admin=True),
    "api-webhook": R(roles=(MANAGER,)),
    "api-client-list": R(roles=(MANAGER,)),
    "api-client-revoke": R("POST", roles=(MANAGER,), obj="api_client", owner="bank"),
    # OAuth2 token endpoint for banks' systems (client credentials); no authorization-code pages.
    "oauth2_provider:token": R("POST", public=True, admin=True),
    "register": R("POST", public=True, admin=True),
    "enterprise-me": R(roles=(FIRM,)),
    # Last financial year's figures of the caller's own firm (every factory firm has that row).
    "enterprise-me-figures": R(roles=(FIRM,), kwargs={"year": financial_years()[0]}),
    "enterprise-me-qualifications": R(roles=(FIRM,)),
    "enterprise-me-ip-assets": R(roles=(FIRM,)),
    "enterprise-me-consent": R(roles=(FIRM,)),
    "enterprise-me-views": R(roles=(FIRM,)),
    "enterprise-me-score": R(roles=(FIRM,)),
    # A firm's 科创积分 for the desks; banks read it only through the bank view (scope financials).
    "enterprise-score": R(roles=GOV, obj="enterprise"),
    "product-eligibility": R(roles=(FIRM,), obj="product"),
    "need-list": R(roles=(FIRM, STAFF)),
    "need-detail": R(roles=(FIRM, STAFF), obj="need", owner="firm"),
    "document-list": R(roles=(FIRM, *BANK, STAFF)),
    "document-detail": R(roles=(FIRM, *BANK, STAFF), obj="document", owner="both"),
    "document-download": R(roles=(FIRM, *BANK, STAFF), obj="document", owner="both"),
    "application-list": R(roles=CASEWORK),
    "application-detail": R(roles=CASEWORK, obj="application", owner="both"),
    "application-withdraw": R("POST", roles=(FIRM,), obj="application", owner="firm"),
    "application-accept": R("POST", roles=(FIRM,), obj="offer", owner="firm"),
    "need-offers": R(roles=(FIRM,), obj="need", owner="firm"),
    "api-lead-claim": R("POST", roles=BANK, obj="lead", owner="bank"),
    "api-lead-contact": R("POST", roles=BANK, obj="lead", owner="bank"),
    "api-lead-invite": R("POST", roles=BANK, obj="lead", owner="bank"),
    "api-lead-decline": R("POST", roles=BANK, obj="lead", owner="bank"),
    "api-lead-reassign": R("POST", roles=(MANAGER,), obj="lead", owner="bank"),
    "api-application-transition": R("POST", roles=BANK, obj="application", owner="bank"),
    "pool-list": R(roles=(FIRM, *BANK, STAFF)),
    "pool-detail": R(roles=(FIRM, *BANK, STAFF), obj="pool", owner="both"),
    "pool-leave": R("POST", roles=(FIRM,), obj="pool", owner="firm"),
    "match-list": R(roles=CASEWORK),
    "match-detail": R(roles=CASEWORK, obj="lead", owner="both"),
    "loan-list": R(roles=CASEWORK),
    "loan-detail": R(roles=CASEWORK, obj="loan", owner="both"),
    # The firm renews its own loan; a bank's or staff's request finds no loan of theirs to renew (404).
    "loan-renewal": R("POST", roles=(FIRM,), obj="loan", owner="firm"),
    "match-run-list": R(roles=(STAFF,)),
    "match-run-detail": R(roles=(STAFF,), obj="run"),
    "subsidy-quote": R(public=True, admin=True),
    "subsidy-lpr": R(public=True, admin=True),
    "subsidy-ledger": R(roles=DESKS),
    "subsidy-leverage": R(roles=(STAFF, *BANK)),
    "subsidy-claim-list": R(),
    "subsidy-claim-detail": R(roles=(FIRM, *DESKS), obj="claim", owner="firm"),
    # Each step of the money belongs to one desk (subsidies/duties.py); the other desk gets 403 with
    # the reason. The world's claim awaits the firm, so an allowed step answers 409 (not 401/403/404).
    "subsidy-claim-review": R("POST", roles=(STAFF,), obj="claim"),
    "subsidy-claim-approve": R("POST", roles=(FINANCE,), obj="claim"),
    "subsidy-claim-confirm": R("POST", roles=(FIRM,), obj="claim", owner="firm"),
    "subsidy-claim-pay": R("POST", roles=(FINANCE,), obj="claim"),
    "subsidy-claim-reject": R("POST", roles=(STAFF,), obj="claim"),
    "dashboard-summary": R(roles=(*GOV, MANAGER)),
    "dashboard-series": R(roles=(*GOV, MANAGER)),
    "dashboard-definitions": R(public=True, admin=True),
    "audit-event-list": R(roles=(STAFF,)),
    "calendar-year": R(admin=True),
    "calendar-deadline": R(admin=True),
    "calendar-day-list": R("POST", roles=(STAFF,)),
    "calendar-day-detail": R("DELETE", roles=(STAFF,), kwargs={"day": "2030-10-01"}),
    "product-list": R(public=True, admin=True),
    "product-detail": R(public=True, admin=True, obj="product"),
    "product-publish": R("POST", roles=(MANAGER,), obj="product", owner="bank"),
    "product-retire": R("POST", roles=(MANAGER,), obj="product", owner="bank"),
}


def iter_routes(patterns=None, prefix="", namespace=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from iter_routes(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            full = prefix + str(p.pattern)
            if full.startswith("admin/") or p.name is None:
                continue
            yield (f"{namespace}:{p.name}" if namespace else p.name), full, p


def test_every_route_has_an_entry():
    names = {name for name, _, _ in iter_routes()}
    missing = sorted(names - ROUTES.keys())
    stale = sorted(ROUTES.keys() - names)
    assert not missing, f"routes without an entry in the permission matrix: {missing}"
    assert not stale, f"entries for routes that no longer exist: {stale}"


# ---------------------------------------------------------------------------------------------------
# The world: objects owned by the A side (firm A, bank A)
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def world(cast, django_user_model):
    firm = cast.firm_a.enterprise
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    f.ProductFactory(institution=cast.bank_b, name="乙行科创贷")
    need = f.NeedFactory(enterprise=firm)
    now = timezone.now()
    lead = f.MatchFactory(
        need=need,
        product=product,
        branch=cast.officer_a.branch,
        routed_at=now,
        response_deadline=now + timedelta(days=2),
    )
    application = f.ApplicationFactory(enterprise=firm, product=product)
    loan_app = f.ApplicationFactory(
        enterprise=firm, product=f.ProductFactory(institution=cast.bank_a), status="disbursed"
    )
    loan = f.LoanFactory(application=loan_app)
    policy = f.PolicyFactory()
    claim = Claim.objects.create(
        policy=policy,
        kind="interest",
        loan=loan,
        enterprise=firm,
        year=2026,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        amount=Decimal("1000.00"),
        status=Claim.Status.AWAITING_CONFIRMATION,
    )
    document = Document.objects.create(
        enterprise=firm,
        kind="business_license",
        file=ContentFile(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", name="license.pdf"),
        original_name="license.pdf",
        content_type="application/pdf",
        size=40,
    )
    visit = ServiceVisit.objects.create(enterprise=firm, visited_on=date(2026, 11, 20), team="双创中心 王工")
    visit_need = FinancingNeed.objects.create(
        enterprise=firm,
        amount=Decimal("2000000"),
        term_months=12,
        guarantee_types=["credit"],
        on_behalf=True,
        confirmed_by_firm=False,
        status=FinancingNeed.Status.AWAITING_FIRM,
    )
    pool = PoolEntry.objects.create(institution=cast.bank_a, enterprise=firm, added_by=cast.officer_a)
    delivery = WebhookDelivery.objects.create(
        institution=cast.bank_a, event="lead.created", url="http://127.0.0.1:9/hook", payload={"id": 1}
    )
    default_app = f.ApplicationFactory(
        enterprise=firm, product=f.ProductFactory(institution=cast.bank_a), status="defaulted"
    )
    defaulted = f.LoanFactory(
        application=default_app,
        status="defaulted",
        defaulted_on=date(2026, 6, 1),
        outstanding_at_default=Decimal("1000000"),
    )
    risk_claim = Claim.objects.create(
        policy=f.RiskPolicyFactory(),
        kind="risk",
        loan=defaulted,
        institution=cast.bank_a,
        year=2026,
        period_start=date(2026, 6, 1),
        period_end=date(2026, 6, 1),
        amount=Decimal("300000.00"),
        status=Claim.Status.PAID,
    )
    offer = f.ApplicationFactory(  # an open offer for the need: bank A's approved credit line
        enterprise=firm,
        product=f.ProductFactory(institution=cast.bank_a, name="甲行授信方案"),
        need=need,
        status="approved",
        credit_line=Decimal("3000000.00"),
        approved_rate=Decimal("4.000"),
        approved_term_months=12,
        approved_at=now,
        valid_until=timezone.localdate() + timedelta(days=30),
    )
    # The paid risk claim's payment in the ledger (this year's page lists it), with both names.
    ledger_entry = LedgerEntry.objects.create(
        policy=risk_claim.policy,
        claim=risk_claim,
        kind=LedgerEntry.Kind.PAY,
        amount=risk_claim.amount,
        year=timezone.localdate().year,
        by=cast.cashier,
        maker=cast.finance,
        checker=cast.cashier,
    )
    run = MatchRun.objects.create(trigger="manual", status="succeeded")
    batch = ImportBatch.objects.create(
        kind="hitech", year=2026, file_name="list.xlsx", uploaded_by=cast.staff
    )
    WorkdayOverride.objects.create(date=date(2030, 10, 1), kind="holiday", note="国庆节")  # calendar_delete
    withdrawn = f.ApplicationFactory(enterprise=firm, product=product, status="withdrawn")
    rating = Rating.objects.create(
        enterprise=firm, institution=cast.bank_a, application=withdrawn, stars=4, rated_by=cast.firm_a
    )
    complaint = Complaint.objects.create(
        enterprise=firm,
        institution=cast.bank_a,
        application=application,
        subject="客户经理三天未回复",
        body="提交申请后一直没有人联系。",
        response_due_at=now + timedelta(days=7),
        filed_by=cast.firm_a,
    )
    from recommendations import services as recommendations

    rec_list = recommendations.list_build(
        filters={"cities": [firm.city_id]}, by=cast.staff, title="甲行推荐清单"
    )
    recommendations.list_send(
        rec_list=rec_list, institutions=[cast.bank_a], due_working_days=5, by=cast.staff
    )
    rec_list_draft = recommendations.list_build(filters={}, by=cast.staff, title="待发送清单")
    admin = django_user_model.objects.create_superuser("root", "root@kejin.example", f.PASSWORD)
    return {
        "users": {
            "anonymous": None,
            "firm_a": cast.firm_a,
            "firm_b": cast.firm_b,
            "officer_a": cast.officer_a,
            "officer_b": cast.officer_b,
            "manager_a": cast.manager_a,
            "staff": cast.staff,
            "region_a": f.RegionDeskFactory(username="region_a", region=firm.city),
            "region_b": f.RegionDeskFactory(username="region_b", region=f.region("140200")),
            "finance": cast.finance,
            "admin": admin,
        },
        "objects": {
            "product": product,
            "need": need,
            "lead": lead,
            "application": application,
            "offer": offer,
            "loan": loan,
            "policy": policy,
            "claim": claim,
            "risk_claim": risk_claim,
            "ledger_entry": ledger_entry,
            "document": document,
            "visit": visit,
            "visit_need": visit_need,
            "pool": pool,
            "delivery": delivery,
            "run": run,
            "batch": batch,
            "enterprise": firm,
            "api_client": api_client_create(user=cast.manager_a, name="甲行信贷系统", scopes=["leads:read"])[
                0
            ],
            "identity_change": IdentityChange.objects.create(
                enterprise=firm, changes={"name": {"old": firm.name, "new": "新名称有限公司"}}
            ),
            "rating": rating,
            "complaint": complaint,
            "rec_list": rec_list,
            "rec_list_draft": rec_list_draft,
            "qualification": f.QualificationFactory(enterprise=firm),
            "ip_asset": f.IPAssetFactory(enterprise=firm),
        },
    }


# ---------------------------------------------------------------------------------------------------
# Expected outcome per role, and how a response is classified
# ---------------------------------------------------------------------------------------------------

ALLOW, DENY, HIDE, LOGIN = "allow", "deny", "hide", "login"
# Denied and hidden roles first, so an allowed role's action (which is rolled back anyway) comes last.
ORDER = [
    "anonymous",
    "admin",
    "firm_b",
    "officer_b",
    "region_b",
    "finance",
    "staff",
    "region_a",
    "manager_a",
    "officer_a",
    "firm_a",
]


def expected(entry: dict, role: str, user) -> str:
    if role == "anonymous":
        return ALLOW if entry["public"] else LOGIN
    if role == "admin":
        return ALLOW if entry["admin"] or entry["public"] else DENY
    if entry["public"]:
        return ALLOW
    if user.role not in entry["roles"]:
        return DENY
    owner = entry["owner"]
    tenant = "firm" if user.role == FIRM else "bank" if user.role in BANK else None
    if owner and role in ("firm_b", "officer_b") and owner in (tenant, "both"):
        return HIDE
    if role == "region_b" and entry["obj"] in REGIONAL:  # another region's firm's object
        return HIDE
    return ALLOW


def outcome(response, path: str) -> str:
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    if status == 404:
        return HIDE
    if status == 403:
        return DENY
    if status == 401:
        return LOGIN
    if status == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    if (
        path.startswith("/api/")
        and status == 200
        and response.get("Content-Type", "").startswith("application/json")
    ):
        body = response.json()
        if isinstance(body, dict) and body.get("count") == 0 and body.get("results") == []:
            return "empty"
    return ALLOW


def acceptable(want: str, got: str, path: str) -> bool:
    if want == got:
        return True
    if want == DENY and got in ("empty", HIDE):  # a scoped list with nothing in it, or 404: never data
        return True
    if want == LOGIN and path.startswith("/api/") and got == DENY:  # DRF answers 403 to session-less users
        return True
    return want == ALLOW and got == "empty"


def build_url(name: str, entry: dict, objects: dict) -> str:
    from django.urls import reverse

    kwargs = dict(entry["kwargs"])
    if entry["obj"]:
        kwargs[entry["kwargs_from"]] = objects[entry["obj"]].pk
    return reverse(name, kwargs=kwargs or None)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_role_gets_exactly_what_the_matrix_says(name, world):
    from django.db import transaction
    from django.test import Client

    entry = ROUTES[name]
    url = build_url(name, entry, world["objects"])
    problems = []
    for role in ORDER:
        user = world["users"][role]
        want = expected(entry, role, user)
        if url.startswith("/api/"):
            client = APIClient()
            if user is not None:
                client.force_authenticate(user)
                reauth_session(client)  # the matrix is about tenancy, not re-authentication
        else:
            client = Client()
            if user is not None:
                client.force_login(user)
                reauth_session(client)
        with transaction.atomic():
            response = getattr(client, entry["method"].lower())(url)
            transaction.set_rollback(True)
        got = outcome(response, url)
        if not acceptable(want, got, url):
            problems.append(f"{role}: expected {want}, got {got} ({response.status_code})")
    assert not problems, f"{entry['method']} {url}: " + "; ".join(problems)


# ---------------------------------------------------------------------------------------------------
# List contents: the A side's rows appear for the A side (and staff) and never for the B side
# ---------------------------------------------------------------------------------------------------

SEES, NEVER = True, False
A_FIRM = {"firm_a": SEES, "firm_b": NEVER, "staff": SEES}
A_BANK = {"officer_a": SEES, "manager_a": SEES, "officer_b": NEVER, "staff": SEES}
A_REGION = {"region_a": SEES, "region_b": NEVER}  # firm A's region's desk, and another region's
# route → (the world's object that must be listed, who sees it and who never does). In the world
# firm A shares its profile and has a lead, an application and a pool entry with bank A, so bank A's
# officers may read its documents too (issue 18 item 8: documents follow consent).
LIST_CONTENTS = {
    "need-list": ("need", A_FIRM),
    "document-list": ("document", {**A_FIRM, **A_BANK}),
    "application-list": ("application", {**A_FIRM, **A_BANK, **A_REGION}),
    "pool-list": ("pool", {**A_FIRM, "officer_a": SEES, "manager_a": SEES, "officer_b": NEVER}),
    "match-list": ("lead", {**A_FIRM, **A_BANK, **A_REGION}),
    "loan-list": ("loan", {**A_FIRM, **A_BANK, **A_REGION}),
    "subsidies:my_loans": ("loan", {"firm_a": SEES, "firm_b": NEVER}),
    "subsidy-claim-list": ("claim", {**A_FIRM, "finance": SEES}),
    "enterprise-me-qualifications": ("qualification", {"firm_a": SEES, "firm_b": NEVER}),
    "enterprise-me-ip-assets": ("ip_asset", {"firm_a": SEES, "firm_b": NEVER}),
    "match-run-list": ("run", {"staff": SEES}),
    "need-offers": ("offer", {"firm_a": SEES}),  # firm B: 404 on firm A's need (the matrix above)
    "subsidies:need_offers": ("offer", {"firm_a": SEES}),
    "enterprises:need_list": ("need", {"firm_a": SEES, "firm_b": NEVER}),
    "enterprises:application_list": ("application", {"firm_a": SEES, "firm_b": NEVER}),
    "lenders:lead_list": ("lead", A_BANK),
    "lenders:workspace": ("lead", {"officer_a": SEES, "manager_a": SEES, "officer_b": NEVER}),
    "lenders:application_list": ("application", A_BANK),
    "lenders:pool_list": ("pool", {"officer_a": SEES, "manager_a": SEES, "officer_b": NEVER}),
    "subsidies:claims": ("claim", {"staff": SEES, "finance": SEES}),
    "subsidies:ledger": ("ledger_entry", {"staff": SEES, "finance": SEES}),
    "api-client-list": ("api_client", {"manager_a": SEES}),
    "lenders:api_clients": ("api_client", {"manager_a": SEES}),
    "rating-list": ("rating", {**A_FIRM, **A_BANK}),
    "complaint-list": ("complaint", {**A_FIRM, **A_BANK, **A_REGION}),
    "feedback:my_ratings": ("rating", {"firm_a": SEES, "firm_b": NEVER}),
    "feedback:complaint_list": ("complaint", {"firm_a": SEES, "firm_b": NEVER}),
    "feedback:staff_complaint_list": ("complaint", {"staff": SEES, **A_REGION}),
    "feedback:bank_complaint_list": ("complaint", {"officer_a": SEES, "manager_a": SEES, "officer_b": NEVER}),
    "feedback:bank_ratings": ("rating", {"officer_a": SEES, "manager_a": SEES, "officer_b": NEVER}),
    "enterprises:verify_list": ("identity_change", {"staff": SEES, **A_REGION}),
    "dashboard:visits": ("visit", {"staff": SEES, **A_REGION}),
    "dashboard:list": ("lead_record", {"staff": SEES, **A_REGION}),
    "recommendation-list": ("rec_list", A_BANK),
    "recommendations:index": ("rec_list", {"staff": SEES}),
    "recommendations:bank_index": ("rec_list", {"officer_a": SEES, "manager_a": SEES, "officer_b": NEVER}),
}
# How a page marks a listed row.
PAGE_MARKERS = {
    "need": lambda pk: f'data-need="{pk}"',
    "application": lambda pk: f'data-application="{pk}"',
    "offer": lambda pk: f'data-application="{pk}"',
    "lead": lambda pk: _reverse("lenders:lead_detail", pk),
    "pool": lambda pk: f'data-pool-entry="{pk}"',
    "claim": lambda pk: _reverse("subsidies:claim_detail", pk),
    "api_client": lambda pk: f'data-api-client="{pk}"',
    "complaint": lambda pk: f'data-complaint="{pk}"',
    "rating": lambda pk: f'data-rating="{pk}"',
    "identity_change": lambda pk: f'data-identity-change="{pk}"',
    "visit": lambda pk: _reverse("dashboard:visit_detail", pk),
    "lead_record": lambda pk: _reverse("dashboard:lead_record", pk),
    "ledger_entry": lambda pk: f'data-ledger-entry="{pk}"',
    "loan": lambda pk: f'data-loan="{pk}"',
    "rec_list": lambda pk: f'data-recommendation-list="{pk}"',
}
# A marker that names another object of the world than its key: the dashboard's list of matches
# marks a lead by its staff record.
OBJECT_OF = {"lead_record": "lead"}


def _reverse(name: str, pk: int) -> str:
    from django.urls import reverse

    return f'"{reverse(name, args=[pk])}"'


def _listed(response, path: str, key: str, obj) -> bool:
    if path.startswith("/api/"):
        body = response.json()
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        return any(row.get("id", row.get("application")) == obj.pk for row in rows)
    return PAGE_MARKERS[key](obj.pk) in response.content.decode()


@pytest.mark.parametrize("name", sorted(LIST_CONTENTS))
def test_each_list_shows_the_a_sides_rows_to_the_a_side_and_never_to_the_b_side(name, world):
    from django.test import Client

    key, who = LIST_CONTENTS[name]
    assert name in ROUTES
    obj = world["objects"][OBJECT_OF.get(key, key)]
    url = build_url(name, ROUTES[name], world["objects"])
    problems = []
    for role, sees in who.items():
        user = world["users"][role]
        client = APIClient() if url.startswith("/api/") else Client()
        if url.startswith("/api/"):
            client.force_authenticate(user)
        else:
            client.force_login(user)
        response = client.get(url)
        if response.status_code != 200:
            problems.append(f"{role}: {response.status_code}")
            continue
        listed = _listed(response, url, key, obj)
        if listed != sees:
            problems.append(f"{role}: {'missing its row' if sees else 'sees the other side’s row'}")
    assert not problems, f"{url} ({key} #{obj.pk}): " + "; ".join(problems)
