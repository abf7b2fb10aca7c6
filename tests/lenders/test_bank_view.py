"""The bank view of a firm: before consent a bank reads name, city, industry and generic match
reasons on every channel (lead page, match API, inbox export, webhook payload); after consent the
firm's figures; after revoking, none again. The lead comes from a real matching run."""

import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook

from enterprises.consent import ALL_GROUPS
from enterprises.models import AnnualFigures, Enterprise
from enterprises.services import consent_set
from lenders.models import WebhookDelivery
from matching.explain import explain, generic_criterion, generic_score_part
from matching.models import Match
from matching.services.dispatch import start_full_run
from matching.services.events import lead_payload
from matching.services.leads import lead_claim, lead_contact
from tests import factories as f

pytestmark = pytest.mark.django_db

# The firm's figures as the engine writes them into reasons, and as numbers in a spreadsheet.
REVENUE = Decimal("469800000.00")  # 46,980.00万元
RD_SPEND = Decimal("37654300.00")  # 3,765.43万元
FOUNDED = date(2013, 4, 17)
PATENTS = 7
FIRM_FIGURES = ("46,980.00", "46980", "3,765.43", "3765.43", "2013-04-17", f"发明专利 {PATENTS} 件")
NOW = "2026-03-10 10:00 +08:00"


def leaked(text: str) -> list[str]:
    return [figure for figure in FIRM_FIGURES if figure in text]


@pytest.fixture
def real_lead(cast, django_capture_on_commit_callbacks):
    """Firm A (no consent to anyone) with revenue, R&D spend, a founding date and invention
    patents; bank A's product asks for all of them; a full matching run makes the lead."""
    firm = cast.firm_a.enterprise
    Enterprise.objects.filter(pk=firm.pk).update(founded_on=FOUNDED, shares_profile=False)
    AnnualFigures.objects.filter(enterprise=firm).update(revenue=REVENUE, rd_spend=RD_SPEND)
    for _ in range(PATENTS):
        f.IPAssetFactory(enterprise=firm)
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    product.criteria.min_revenue = Decimal("10000000.00")
    product.criteria.min_years = 3
    product.criteria.min_invention_patents = 2
    product.criteria.save()
    f.NeedFactory(enterprise=firm)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start_full_run(trigger="manual", user=cast.staff)
    lead = Match.objects.get(enterprise=firm, product=product, is_lead=True)
    codes = {r["code"] for r in lead.reasons}
    assert {"revenue", "years", "invention_patents"} <= codes  # the engine's own reasons
    assert any(figure in str(lead.reasons) for figure in FIRM_FIGURES)
    cast.bank_a.webhook_url = "https://bank-a.example.test/kejin/events"
    cast.bank_a.save(update_fields=["webhook_url"])
    return lead


def channels(cast, client_for, api_for, lead) -> dict[str, str]:
    """What bank A's officer receives about the lead on each channel, as text."""
    officer = cast.officer_a
    page = client_for(officer).get(f"/bank/leads/{lead.pk}/")
    assert page.status_code == (404 if lead.status == "withdrawn" else 200)
    api = api_for(officer).get(f"/api/v1/matches/{lead.pk}/")
    assert api.status_code == 200
    export = client_for(officer).get("/bank/leads/export/")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(export.streaming_content)), read_only=True)
    cells = [str(v) for row in book.active.iter_rows(values_only=True) for v in row if v is not None]
    assert str(lead.pk) in cells  # the lead is in the export
    delivery = WebhookDelivery.objects.filter(institution=cast.bank_a).order_by("-id").first()
    return {
        "page": page.content.decode(),
        "api": api.content.decode(),
        "export": "\n".join(cells),
        "webhook": str(delivery.payload) if delivery else "",
    }


def test_before_consent_no_channel_carries_the_firms_figures_after_consent_all_do_after_revoking_none(
    cast, client_for, api_for, real_lead
):
    firm = cast.firm_a.enterprise
    with time_machine.travel(NOW, tick=False):
        lead_claim(user=cast.officer_a, match=real_lead)  # a lead.claimed delivery
        before = channels(cast, client_for, api_for, real_lead)
        for name, text in before.items():
            assert leaked(text) == [], name
        assert "营业收入满足产品要求" in before["page"] and "营业收入满足产品要求" in before["api"]
        assert "研发投入强度：" in before["export"] and "研发投入强度：" in before["webhook"]
        assert firm.name in before["page"] and firm.uscc not in before["page"]

        consent_set(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, granted=True)
        lead_contact(user=cast.officer_a, match=real_lead, channel="phone")  # a lead.contacted delivery
        after = channels(cast, client_for, api_for, real_lead)
        for name, text in after.items():
            assert leaked(text) != [], name
            assert f"发明专利 {PATENTS} 件" in text and "2013-04-17" in text, name
        assert "46,980.00" in after["page"] and "46980" in after["export"]

        consent_set(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, granted=False)
        real_lead.refresh_from_db()
        revoked = channels(cast, client_for, api_for, real_lead)
        revoked["webhook"] = str(lead_payload(Match.objects.get(pk=real_lead.pk)))
        for name, text in revoked.items():
            assert leaked(text) == [], name


def test_the_firm_itself_and_staff_keep_the_full_reasons(cast, api_for, real_lead):
    for user in (cast.firm_a, cast.staff):
        body = api_for(user).get(f"/api/v1/matches/{real_lead.pk}/").content.decode()
        assert "46,980.00" in body and "2013-04-17" in body and f"发明专利 {PATENTS} 件" in body


def test_bank_b_sees_nothing_of_bank_as_lead(cast, client_for, api_for, real_lead):
    assert api_for(cast.officer_b).get(f"/api/v1/matches/{real_lead.pk}/").status_code == 404
    assert client_for(cast.officer_b).get(f"/bank/leads/{real_lead.pk}/").status_code == 404


def test_generic_texts_are_built_from_code_verdict_and_points_only():
    assert generic_criterion("revenue", True)["reason"] == "营业收入满足产品要求"
    assert generic_criterion("years", False)["reason"] == "成立年限不满足产品要求"
    assert generic_score_part("rd_intensity", 16, 20)["reason"] == "研发投入强度：良好（16/20）"
    stored = {"code": "revenue", "label": "营业收入", "met": True, "reason": "上年营业收入 46,980.00万元"}
    unknown = {"code": "new_rule", "label": "新条件", "met": True, "reason": "成立于 2013-04-17"}
    city = {"code": "city", "label": "所在地区", "met": True, "reason": "企业位于太原市"}
    shown = explain(reasons=[stored, unknown, city], score_parts=[], groups=())
    assert leaked(str(shown)) == [] and shown["reasons"][2]["reason"] == "企业位于太原市"
    assert explain(reasons=[stored], score_parts=[], groups=ALL_GROUPS)["reasons"][0] == stored


def test_an_unverified_firms_lead_and_application_carry_the_badge_and_the_flag(cast, client_for, api_for):
    from tests.lenders.conftest import make_application, make_lead

    Enterprise.objects.filter(pk=cast.firm_a.enterprise_id).update(verification_status="pending")
    product = f.ProductFactory(institution=cast.bank_a)
    lead = make_lead(cast, product)
    application = make_application(cast, product)
    officer = client_for(cast.officer_a)
    for url in (
        "/bank/leads/",
        f"/bank/leads/{lead.pk}/",
        "/bank/applications/",
        f"/bank/applications/{application.pk}/",
    ):
        assert "未认证" in officer.get(url).content.decode(), url
    api = api_for(cast.officer_a)
    assert api.get(f"/api/v1/matches/{lead.pk}/").json()["enterprise_verified"] is False
    assert api.get(f"/api/v1/applications/{application.pk}/").json()["enterprise_verified"] is False
    assert api.get("/api/v1/matches/").json()["results"][0]["enterprise_verified"] is False
    Enterprise.objects.filter(pk=cast.firm_a.enterprise_id).update(verification_status="verified")
    assert "未认证" not in officer.get(f"/bank/leads/{lead.pk}/").content.decode()
    assert api.get(f"/api/v1/applications/{application.pk}/").json()["enterprise_verified"] is True


def test_the_review_page_shows_the_consented_profile_and_no_invite_hint(cast, client_for):
    from tests.lenders.conftest import make_application

    product = f.ProductFactory(institution=cast.bank_a)
    application = make_application(cast, product)
    firm = cast.firm_a.enterprise
    Enterprise.objects.filter(pk=firm.pk).update(shares_profile=False)
    html = client_for(cast.officer_a).get(f"/bank/applications/{application.pk}/").content.decode()
    assert 'data-profile="restricted"' in html and firm.uscc not in html and "邀请申请" not in html
    consent_set(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, granted=True)
    html = client_for(cast.officer_a).get(f"/bank/applications/{application.pk}/").content.decode()
    assert 'data-profile="full"' in html and firm.uscc in html


def test_documents_follow_consent_and_end_with_withdrawal_or_revocation(cast, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from enterprises.services import document_upload
    from matching.services.applications import application_withdraw
    from tests.lenders.conftest import make_application

    firm = cast.firm_a.enterprise
    pdf = SimpleUploadedFile(
        "licence.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    )
    document = document_upload(user=cast.firm_a, enterprise=firm, kind="business_license", file=pdf)
    product = f.ProductFactory(institution=cast.bank_a)
    application = make_application(cast, product)
    application.documents.set([document])
    url = reverse("enterprises:document_download", args=[document.pk])
    officer = client_for(cast.officer_a)
    assert officer.get(url).status_code == 200  # shares_profile: consent covers documents
    assert client_for(cast.officer_b).get(url).status_code == 404
    consent_set(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, granted=False)
    assert officer.get(url).status_code == 404
    consent_set(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, granted=True)
    assert officer.get(url).status_code == 200
    application_withdraw(user=cast.firm_a, application=application)
    assert officer.get(url).status_code == 404


def test_one_lead_rule_an_officer_reaches_a_lead_of_another_branch_assigned_to_them_everywhere(
    cast, client_for, api_for
):
    """Branch, or assigned to them within their institution: the API detail, the lead page and the
    actions agree; another branch's unassigned lead is out of reach on all three."""
    from lenders.selectors import lead_for_user
    from matching.selectors import match_for_user
    from matching.services.leads import lead_reassign
    from portal.services import ServiceError
    from tests.lenders.conftest import make_lead

    other_branch = f.BranchFactory(institution=cast.bank_a, name="甲银行大同支行", city=f.region("140200"))
    product = f.ProductFactory(institution=cast.bank_a)
    elsewhere = make_lead(cast, product, branch=other_branch)
    officer = cast.officer_a
    assert client_for(officer).get(f"/bank/leads/{elsewhere.pk}/").status_code == 404
    assert api_for(officer).get(f"/api/v1/matches/{elsewhere.pk}/").status_code == 404
    assert api_for(officer).post(f"/api/v1/matches/{elsewhere.pk}/claim/", {}).status_code == 404
    with pytest.raises(ServiceError):
        lead_claim(user=officer, match=elsewhere)

    lead_reassign(user=cast.manager_a, match=elsewhere, officer=cast.officer_a2)
    colleague = f.OfficerFactory(username="officer_dt", branch=other_branch)
    lead_reassign(user=cast.manager_a, match=Match.objects.get(pk=elsewhere.pk), officer=officer)
    elsewhere.refresh_from_db()
    elsewhere.branch = other_branch  # the lead stays routed to the other branch, held by officer A
    elsewhere.save(update_fields=["branch"])
    for action in ("view", "act"):
        assert set(lead_for_user(officer, action)) == set(
            match_for_user(officer, action).filter(is_lead=True)
        )
        assert elsewhere in lead_for_user(officer, action)
    assert client_for(officer).get(f"/bank/leads/{elsewhere.pk}/").status_code == 200
    assert api_for(officer).get(f"/api/v1/matches/{elsewhere.pk}/").status_code == 200
    response = api_for(officer).post(f"/api/v1/matches/{elsewhere.pk}/contact/", {"channel": "phone"})
    assert response.status_code == 200, response.content
    assert Match.objects.get(pk=elsewhere.pk).status == "contacted"
    assert api_for(colleague).get(f"/api/v1/matches/{elsewhere.pk}/").status_code == 200  # its branch
    assert api_for(cast.officer_b).get(f"/api/v1/matches/{elsewhere.pk}/").status_code == 404
