"""Financing needs: post, edit, withdraw; bounds; scoping."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from enterprises.models import FinancingNeed
from matching.models import Match, MatchRun
from portal.models import Transition
from tests import factories as f

pytestmark = pytest.mark.django_db


def form(**over):
    data = {
        "amount": "500",
        "term_months": "12",
        "purpose": "rd",
        "guarantee_types": ["credit", "ip_pledge"],
        "max_annual_rate": "4.50",
        "needed_by": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "description": "研发投入",
    }
    data.update(over)
    return data


def test_posting_a_need_in_wan_stores_yuan_and_queues_matching(cast, client_for):
    r = client_for(cast.firm_a).post("/firm/needs/new/", form())
    assert r.status_code == 302
    need = FinancingNeed.objects.get()
    assert need.amount == Decimal("5000000.00") and need.guarantee_types == ["credit", "ip_pledge"]
    assert need.posted_by == cast.firm_a
    assert MatchRun.objects.filter(need=need).exists()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("amount", "0", "大于 0"),
        ("amount", "-3", "大于 0"),
        ("amount", "1000000.01", "100 亿元"),
        ("term_months", "361", "360"),
        ("term_months", "0", "360"),
        ("needed_by", "2020-01-01", "不能早于今天"),
    ],
)
def test_a_need_outside_sane_bounds_is_a_field_error_and_nothing_is_saved(
    cast, client_for, field, value, words
):
    r = client_for(cast.firm_a).post("/firm/needs/new/", form(**{field: value}))
    assert r.status_code == 200
    assert words in r.content.decode()
    assert not FinancingNeed.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", "0"), ("amount", "10000000000.01"), ("term_months", 361), ("needed_by", "2020-01-01")],
)
def test_api_need_bounds_answer_400_on_the_field(cast, api_for, field, value):
    body = {
        "amount": "5000000.00",
        "term_months": 12,
        "purpose": "rd",
        "guarantee_types": ["credit"],
        "max_annual_rate": "4.50",
    }
    body[field] = value
    r = api_for(cast.firm_a).post("/api/v1/needs/", body, format="json")
    assert r.status_code == 400 and field in r.json()
    assert not FinancingNeed.objects.exists()


def test_api_need_crud_on_the_own_firm(cast, api_for):
    api = api_for(cast.firm_a)
    r = api.post(
        "/api/v1/needs/",
        {
            "amount": "5000000.00",
            "term_months": 12,
            "purpose": "working_capital",
            "guarantee_types": ["credit"],
            "max_annual_rate": "4.50",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert r.json()["status"] == "open" and r.json()["amount"] == "5000000.00"
    r = api.patch(f"/api/v1/needs/{pk}/", {"term_months": 24, "status": "fulfilled"}, format="json")
    assert r.status_code == 200 and r.json()["term_months"] == 24 and r.json()["status"] == "open"
    assert api.get("/api/v1/needs/").json()["count"] == 1
    assert api.delete(f"/api/v1/needs/{pk}/").status_code == 204
    assert FinancingNeed.objects.get(pk=pk).status == "withdrawn"


def test_another_firms_need_is_404(cast, api_for, client_for):
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    api = api_for(cast.firm_b)
    assert api.get(f"/api/v1/needs/{need.pk}/").status_code == 404
    assert api.patch(f"/api/v1/needs/{need.pk}/", {"term_months": 6}, format="json").status_code == 404
    assert api.delete(f"/api/v1/needs/{need.pk}/").status_code == 404
    assert client_for(cast.firm_b).get(f"/firm/needs/{need.pk}/edit/").status_code == 404
    assert client_for(cast.firm_b).post(f"/firm/needs/{need.pk}/withdraw/").status_code == 404
    assert api_for(cast.officer_a).get("/api/v1/needs/").status_code == 403
    assert api_for(cast.staff).get(f"/api/v1/needs/{need.pk}/").status_code == 200
    assert api_for(cast.staff).post("/api/v1/needs/", {}, format="json").status_code == 403


def test_editing_a_need_keeps_bounds_and_requeues_matching(cast, client_for):
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    c = client_for(cast.firm_a)
    r = c.post(f"/firm/needs/{need.pk}/edit/", form(amount="0"))
    assert r.status_code == 200
    need.refresh_from_db()
    assert need.amount == Decimal("5000000.00")
    r = c.post(f"/firm/needs/{need.pk}/edit/", form(amount="800"))
    assert r.status_code == 302
    need.refresh_from_db()
    assert need.amount == Decimal("8000000.00")
    assert MatchRun.objects.filter(need=need).exists()


def test_withdrawing_a_need_asks_for_confirmation_then_withdraws_its_open_leads(cast, client_for):
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    product = f.ProductFactory(institution=cast.bank_a)
    lead = f.MatchFactory(
        need=need,
        product=product,
        branch=cast.officer_a.branch,
        assigned_officer=cast.officer_a,
        status="claimed",
    )
    c = client_for(cast.firm_a)
    page = c.get(f"/firm/needs/{need.pk}/withdraw/")
    assert page.status_code == 200 and "确定撤回" in page.content.decode()
    need.refresh_from_db()
    assert need.status == "open"
    assert c.post(f"/firm/needs/{need.pk}/withdraw/").status_code == 302
    need.refresh_from_db()
    lead.refresh_from_db()
    assert need.status == "withdrawn" and lead.status == Match.Status.WITHDRAWN
    assert Transition.objects.filter(object_id=lead.pk, to_state="withdrawn").exists()
    assert cast.officer_a.notifications.filter(title__contains="线索已撤回").exists()


def test_needs_of_an_unverified_firm_are_saved_with_a_notice(client_for):
    firm = f.EnterpriseFactory(verification_status="pending")
    user = f.FirmUserFactory(enterprise=firm)
    c = client_for(user)
    assert c.post("/firm/needs/new/", form()).status_code == 302
    assert "审核通过后才会推送给银行" in c.get("/firm/needs/").content.decode()


def test_a_need_of_an_unverified_firm_reaches_no_bank_until_the_firm_is_verified(
    cast, django_capture_on_commit_callbacks
):
    from enterprises.services import enterprise_verify, need_create

    f.ProductFactory(institution=cast.bank_a)
    firm = f.EnterpriseFactory(verification_status="pending")
    f.QualificationFactory(enterprise=firm, kind="hitech")
    f.QualificationFactory(enterprise=firm, kind="tech_sme")
    for _ in range(4):
        f.IPAssetFactory(enterprise=firm)
    user = f.FirmUserFactory(enterprise=firm)
    with django_capture_on_commit_callbacks(execute=True):
        need_create(
            user=user,
            enterprise=firm,
            amount=Decimal("5000000"),
            term_months=12,
            purpose="rd",
            guarantee_types=["credit"],
            max_annual_rate=Decimal("5.00"),
        )
    assert Match.objects.filter(enterprise=firm).exists()  # the firm sees its suggestions
    assert not Match.objects.filter(enterprise=firm, is_lead=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_verify(user=cast.staff, enterprise=firm, approve=True)
    assert Match.objects.filter(enterprise=firm, is_lead=True, institution=cast.bank_a).exists()
