"""The firm's profile: fields in 万元, qualifications with expiry, IP assets, documents, completeness."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from enterprises.models import Document, IPAsset, Qualification
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def profile_post(**over):
    data = {
        "name": "山西测试科技有限公司",
        "legal_representative": "张三",
        "city": "140100",
        "address": "太原市小店区",
        "founded_on": "2018-06-01",
        "registered_capital": "1000.50",
        "industry": "new_materials",
        "stage": "growth",
        "total_assets": "8000",
        "export_business": "on",
        "export_amount_last_year": "300",
        "contact_name": "李联系",
        "contact_mobile": "13800001111",
        "contact_email": "c@example.com",
        "description": "新材料研发",
    }
    data.update(over)
    return data


def test_the_profile_form_takes_money_in_wan_and_stores_yuan(cast, client_for):
    r = client_for(cast.firm_a).post("/firm/profile/", profile_post())
    assert r.status_code == 302
    firm = cast.firm_a.enterprise
    firm.refresh_from_db()
    assert firm.registered_capital == Decimal("10005000.00")
    assert firm.industry == "new_materials" and firm.export_business
    page = client_for(cast.firm_a).get("/firm/profile/").content.decode()
    assert 'value="1000.50"' in page


def test_a_bad_profile_value_is_a_field_error_and_nothing_is_saved(cast, client_for):
    firm = cast.firm_a.enterprise
    before = firm.registered_capital
    r = client_for(cast.firm_a).post(
        "/firm/profile/", profile_post(registered_capital="-5", contact_mobile="123")
    )
    assert r.status_code == 200
    firm.refresh_from_db()
    assert firm.registered_capital == before and firm.industry == "next_gen_it"


def test_an_expired_qualification_is_marked_and_not_counted(cast, client_for):
    firm = cast.firm_a.enterprise
    today = timezone.localdate()
    f.QualificationFactory(
        enterprise=firm,
        kind="hitech",
        issued_on=today - timedelta(days=1200),
        expires_on=today - timedelta(days=5),
    )
    page = client_for(cast.firm_a).get("/firm/profile/").content.decode()
    assert "已过期" in page and "匹配时不再计入" in page
    assert "有效资质" in page  # the completeness meter still lists a valid qualification as missing
    r = client_for(cast.firm_a).get("/api/v1/enterprises/me/qualifications/")
    assert r.json()["results"][0]["valid_today"] is False


def test_adding_a_qualification_and_an_ip_asset_through_the_pages(cast, client_for):
    c = client_for(cast.firm_a)
    r = c.post("/firm/qualifications/new/", {"kind": "srdi", "level": "", "issued_on": "2025-01-01"})
    assert r.status_code == 200 and "层级" in r.content.decode()
    r = c.post(
        "/firm/qualifications/new/",
        {"kind": "hitech", "issued_on": "2025-01-01", "expires_on": "2027-12-31", "number": "GR1"},
    )
    assert r.status_code == 302
    r = c.post("/firm/ip-assets/new/", {"kind": "invention_patent", "number": "ZL1", "valuation": "120"})
    assert r.status_code == 302
    assert IPAsset.objects.get(enterprise=cast.firm_a.enterprise).valuation == Decimal("1200000.00")
    r = c.post("/firm/ip-assets/new/", {"kind": "invention_patent", "number": "ZL1"})
    assert r.status_code == 200 and "已登记过" in r.content.decode()
    assert Qualification.objects.filter(enterprise=cast.firm_a.enterprise).count() == 1


def test_api_me_get_and_patch(cast, api_for):
    api = api_for(cast.firm_a)
    assert api.get("/api/v1/enterprises/me/").json()["uscc"] == cast.firm_a.enterprise.uscc
    r = api.patch(
        "/api/v1/enterprises/me/", {"employees": 150, "revenue_last_year": "60000000.00"}, format="json"
    )
    assert r.status_code == 200 and r.json()["revenue_last_year"] == "60000000.00"
    r = api.patch("/api/v1/enterprises/me/", {"uscc": "914403001922038216"}, format="json")
    assert r.json()["uscc"] == cast.firm_a.enterprise.uscc  # read-only
    assert api_for(cast.officer_a).get("/api/v1/enterprises/me/").status_code == 403
    assert api_for().get("/api/v1/enterprises/me/").status_code in (401, 403)


def test_api_qualifications_and_ip_assets_are_created_for_the_own_firm(cast, api_for):
    api = api_for(cast.firm_a)
    r = api.post(
        "/api/v1/enterprises/me/qualifications/",
        {"kind": "tech_sme", "issued_on": "2026-03-01", "expires_on": "2026-12-31"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["code"] == "tech_sme"
    r = api.post(
        "/api/v1/enterprises/me/ip-assets/", {"kind": "invention_patent", "number": "ZL9"}, format="json"
    )
    assert r.status_code == 201
    assert api_for(cast.firm_b).get("/api/v1/enterprises/me/ip-assets/").json()["count"] == 0
    assert (
        api_for(cast.officer_a)
        .post("/api/v1/enterprises/me/ip-assets/", {"kind": "trademark", "number": "T"}, format="json")
        .status_code
        == 403
    )


def test_a_real_pdf_is_stored_with_its_sniffed_type(cast, client_for):
    c = client_for(cast.firm_a)
    r = c.post(
        "/firm/documents/new/",
        {"kind": "business_license", "file": SimpleUploadedFile("执照.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 302
    doc = Document.objects.get()
    assert doc.content_type == "application/pdf" and doc.size == len(PDF)
    download = c.get(f"/firm/documents/{doc.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_a_forged_upload_an_exe_renamed_pdf_is_refused(cast, client_for, api_for):
    r = client_for(cast.firm_a).post(
        "/firm/documents/new/",
        {"kind": "business_license", "file": SimpleUploadedFile("license.pdf", EXE, "application/pdf")},
    )
    assert r.status_code == 200 and "不是 PDF、JPG 或 PNG" in r.content.decode()
    r = api_for(cast.firm_a).post(
        "/api/v1/documents/",
        {"kind": "other", "file": SimpleUploadedFile("license.pdf", EXE, "application/pdf")},
        format="multipart",
    )
    assert r.status_code == 400 and "不是 PDF" in r.json()["file"][0]
    assert not Document.objects.exists()


def test_an_upload_over_the_size_limit_is_refused(cast, api_for, settings):
    settings.UPLOAD_MAX_BYTES = 100
    r = api_for(cast.firm_a).post(
        "/api/v1/documents/",
        {"kind": "other", "file": SimpleUploadedFile("big.png", PNG + b"\x00" * 200, "image/png")},
        format="multipart",
    )
    assert r.status_code == 400 and "文件过大" in r.json()["file"][0]


def test_another_firms_document_is_404_on_the_page_and_the_api(cast, client_for, api_for):
    doc = Document.objects.create(
        enterprise=cast.firm_a.enterprise,
        kind="other",
        file=SimpleUploadedFile("a.png", PNG),
        original_name="a.png",
        content_type="image/png",
        size=len(PNG),
    )
    assert client_for(cast.firm_b).get(f"/firm/documents/{doc.pk}/").status_code == 404
    assert api_for(cast.firm_b).get(f"/api/v1/documents/{doc.pk}/").status_code == 404
    assert api_for(cast.firm_b).get(f"/api/v1/documents/{doc.pk}/download/").status_code == 404
    assert client_for(cast.officer_a).get(f"/firm/documents/{doc.pk}/").status_code == 404
    assert client_for(cast.firm_b).post(f"/firm/documents/{doc.pk}/delete/").status_code == 404
    assert api_for(cast.firm_a).get(f"/api/v1/documents/{doc.pk}/download/").status_code == 200


def test_the_completeness_meter_lists_what_is_missing_and_why(cast, client_for):
    firm = cast.firm_a.enterprise
    firm.address = ""
    firm.save()
    page = client_for(cast.firm_a).get("/firm/").content.decode()
    assert "资料完整度" in page and "营业执照" in page and "申请时银行需要核验营业执照" in page
    assert "知识产权质押贷款等产品要求发明专利" in page


def test_profile_pages_are_for_firms_only(cast, client_for):
    for url in [
        "/firm/profile/",
        "/firm/needs/",
        "/firm/applications/",
        "/firm/consent/",
        "/firm/documents/new/",
    ]:
        assert client_for(cast.officer_a).get(url).status_code == 403
        assert client_for(cast.staff).get(url).status_code == 403
