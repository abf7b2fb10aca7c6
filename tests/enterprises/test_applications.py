"""Applying for a product, withdrawing, tracking; one open application per product."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from enterprises.models import Document
from matching.models import Application
from matching.services.applications import application_submit, application_withdraw
from portal.models import Transition
from portal.services import ConflictError
from tests import factories as f

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_apply_page_shows_unmet_criteria_before_submitting(cast, client_for):
    product = f.ProductFactory(institution=cast.bank_a, criteria=None)
    f.CriteriaFactory(product=product, required_qualifications=["hitech"], min_invention_patents=2)
    page = client_for(cast.firm_a).get(f"/firm/apply/{product.pk}/").content.decode()
    assert "以下准入条件暂未满足" in page
    assert 'data-unmet="qualification"' in page and 'data-unmet="invention_patents"' in page


def test_applying_creates_the_application_records_a_transition_and_notifies_the_bank(cast, client_for):
    product = f.ProductFactory(institution=cast.bank_a)
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    doc = Document.objects.create(
        enterprise=cast.firm_a.enterprise,
        kind="business_license",
        file=SimpleUploadedFile("l.png", PNG),
        original_name="l.png",
        content_type="image/png",
        size=len(PNG),
    )
    r = client_for(cast.firm_a).post(
        f"/firm/apply/{product.pk}/?need={need.pk}",
        {
            "amount": "300",
            "term_months": "12",
            "purpose": "working_capital",
            "documents": [doc.pk],
            "need": need.pk,
            "share_profile": "on",
        },
    )
    assert r.status_code == 302
    app = Application.objects.get()
    assert app.amount == Decimal("3000000.00") and app.need == need and list(app.documents.all()) == [doc]
    assert Transition.objects.filter(object_id=app.pk, to_state="submitted", actor=cast.firm_a).exists()
    assert cast.officer_a.notifications.filter(title__contains="新的融资申请").exists()
    assert cast.manager_a.notifications.exists()
    assert not cast.officer_b.notifications.exists()
    # the bank now sees the attached document, the other bank does not
    assert client_for(cast.officer_a).get(f"/firm/documents/{doc.pk}/").status_code == 200
    assert client_for(cast.officer_b).get(f"/firm/documents/{doc.pk}/").status_code == 404
    detail = client_for(cast.firm_a).get(r["Location"]).content.decode()
    assert "已提交" in detail and 'data-to="submitted"' in detail


def test_a_second_application_to_the_same_product_while_one_is_open_is_refused(cast, client_for, api_for):
    product = f.ProductFactory(institution=cast.bank_a)
    c = client_for(cast.firm_a)
    data = {"amount": "300", "term_months": "12", "purpose": "working_capital", "share_profile": "on"}
    assert c.post(f"/firm/apply/{product.pk}/", data).status_code == 302
    r = c.post(f"/firm/apply/{product.pk}/", data)
    assert r.status_code == 200 and "仍在办理中" in r.content.decode()
    r = api_for(cast.firm_a).post(
        "/api/v1/applications/",
        {
            "product": product.pk,
            "amount": "3000000.00",
            "term_months": 12,
            "purpose": "rd",
            "share_profile": True,
        },
        format="json",
    )
    assert r.status_code == 409 and "仍在办理中" in r.json()["detail"]
    assert Application.objects.count() == 1


def test_the_database_constraint_is_turned_into_a_clear_message(cast, monkeypatch):
    """Two submissions racing past the pre-check: the unique constraint decides, with a message."""
    product = f.ProductFactory(institution=cast.bank_a)
    f.ApplicationFactory(enterprise=cast.firm_a.enterprise, product=product)
    from matching.services import applications

    manager = Application.objects

    class NoPrecheck:
        def filter(self, *a, **k):
            qs = manager.filter(*a, **k)
            return qs.none() if "status__in" in k else qs

        def __getattr__(self, name):
            return getattr(manager, name)

    monkeypatch.setattr(applications.Application, "objects", NoPrecheck(), raising=False)
    with pytest.raises(ConflictError) as exc:
        application_submit(
            user=cast.firm_a,
            product=product,
            amount=Decimal("1000000"),
            term_months=12,
            purpose="rd",
            share_profile=True,
        )
    assert "仍在办理中" in exc.value.message


def test_withdrawing_an_application_then_applying_again_is_allowed(cast, client_for):
    product = f.ProductFactory(institution=cast.bank_a)
    app = application_submit(
        user=cast.firm_a,
        product=product,
        amount=Decimal("1000000"),
        term_months=12,
        purpose="rd",
        share_profile=True,
    )
    c = client_for(cast.firm_a)
    assert "确定撤回" in c.get(f"/firm/applications/{app.pk}/withdraw/").content.decode()
    assert c.post(f"/firm/applications/{app.pk}/withdraw/", {"note": "改申请他行"}).status_code == 302
    app.refresh_from_db()
    assert app.status == "withdrawn"
    assert Transition.objects.filter(
        object_id=app.pk, from_state="submitted", to_state="withdrawn", note="改申请他行"
    ).exists()
    assert cast.officer_a.notifications.filter(title__contains="撤回申请").exists()
    again = application_submit(
        user=cast.firm_a,
        product=product,
        amount=Decimal("1000000"),
        term_months=12,
        purpose="rd",
        share_profile=True,
    )
    assert again.status == "submitted"


def test_api_applications_list_detail_with_timeline_and_withdraw(cast, api_for):
    product = f.ProductFactory(institution=cast.bank_a)
    api = api_for(cast.firm_a)
    r = api.post(
        "/api/v1/applications/",
        {
            "product": product.pk,
            "amount": "3000000.00",
            "term_months": 12,
            "purpose": "rd",
            "share_profile": True,
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    detail = api.get(f"/api/v1/applications/{pk}/").json()
    assert detail["status"] == "submitted" and detail["timeline"][0]["to_state"] == "submitted"
    r = api.post(f"/api/v1/applications/{pk}/withdraw/", {"note": "不需要了"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn" and len(r.json()["timeline"]) == 2
    assert api.post(f"/api/v1/applications/{pk}/withdraw/", {}, format="json").status_code == 200
    # bank: read-only, scoped
    assert api_for(cast.officer_a).get("/api/v1/applications/").json()["count"] == 1
    assert api_for(cast.officer_b).get("/api/v1/applications/").json()["count"] == 0
    assert (
        api_for(cast.officer_a).post(f"/api/v1/applications/{pk}/withdraw/", {}, format="json").status_code
        == 403
    )
    assert api_for(cast.officer_a).post("/api/v1/applications/", {}, format="json").status_code == 403


def test_another_firms_application_is_404(cast, api_for, client_for):
    app = f.ApplicationFactory(
        enterprise=cast.firm_a.enterprise, product=f.ProductFactory(institution=cast.bank_a)
    )
    assert api_for(cast.firm_b).get(f"/api/v1/applications/{app.pk}/").status_code == 404
    assert (
        api_for(cast.firm_b).post(f"/api/v1/applications/{app.pk}/withdraw/", {}, format="json").status_code
        == 404
    )
    assert client_for(cast.firm_b).get(f"/firm/applications/{app.pk}/").status_code == 404
    assert client_for(cast.firm_b).post(f"/firm/applications/{app.pk}/withdraw/").status_code == 404
    assert api_for(cast.officer_b).get(f"/api/v1/applications/{app.pk}/").status_code == 404


def test_a_firm_cannot_attach_another_firms_need_or_document(cast, api_for):
    product = f.ProductFactory(institution=cast.bank_a)
    other_need = f.NeedFactory(enterprise=cast.firm_b.enterprise)
    other_doc = Document.objects.create(
        enterprise=cast.firm_b.enterprise,
        kind="other",
        file=SimpleUploadedFile("x.png", PNG),
        original_name="x.png",
        content_type="image/png",
        size=len(PNG),
    )
    api = api_for(cast.firm_a)
    base = {
        "product": product.pk,
        "amount": "3000000.00",
        "term_months": 12,
        "purpose": "rd",
        "share_profile": True,
    }
    assert (
        api.post("/api/v1/applications/", {**base, "need": other_need.pk}, format="json").status_code == 400
    )
    assert (
        api.post("/api/v1/applications/", {**base, "documents": [other_doc.pk]}, format="json").status_code
        == 400
    )
    assert not Application.objects.exists()


def test_a_disbursed_application_cannot_be_withdrawn(cast):
    app = f.ApplicationFactory(enterprise=cast.firm_a.enterprise, status="disbursed")
    with pytest.raises(ConflictError):
        application_withdraw(user=cast.firm_a, application=app)


def test_applying_from_a_suggestion_links_the_match_and_tells_its_officer(cast, client_for):
    product = f.ProductFactory(institution=cast.bank_a)
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    match = f.MatchFactory(
        need=need, product=product, branch=cast.officer_a2.branch, assigned_officer=cast.officer_a2
    )
    c = client_for(cast.firm_a)
    page = c.get(f"/products/{product.pk}/?match={match.pk}").content.decode()
    assert f"?match={match.pk}" in page
    r = c.post(
        f"/firm/apply/{product.pk}/?match={match.pk}",
        {"amount": "500", "term_months": "12", "purpose": "rd", "match": match.pk, "share_profile": "on"},
    )
    assert r.status_code == 302
    app = Application.objects.get()
    assert app.match == match and app.need == need
    assert cast.officer_a2.notifications.filter(title__contains="新的融资申请").exists()
    assert not cast.officer_a.notifications.filter(title__contains="新的融资申请").exists()
    other = f.MatchFactory(need=f.NeedFactory(enterprise=cast.firm_b.enterprise), product=product)
    assert c.get(f"/firm/apply/{product.pk}/?match={other.pk}").status_code == 404


def test_the_firm_is_notified_in_site_and_by_email_when_its_application_changes(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    cast.firm_a.email = "firm@example.com"
    cast.firm_a.save()
    product = f.ProductFactory(institution=cast.bank_a)
    with django_capture_on_commit_callbacks(execute=True):
        app = application_submit(
            user=cast.firm_a,
            product=product,
            amount=Decimal("1000000"),
            term_months=12,
            purpose="rd",
            share_profile=True,
        )
    with django_capture_on_commit_callbacks(execute=True):
        application_withdraw(user=cast.firm_a, application=app)
    titles = list(cast.firm_a.notifications.values_list("title", flat=True))
    assert any("申请已提交" in t for t in titles) and any("申请已撤回" in t for t in titles)
    assert [m.to for m in mailoutbox if "申请已" in m.subject] == [["firm@example.com"], ["firm@example.com"]]


def test_api_documents_upload_list_and_delete(cast, api_for):
    api = api_for(cast.firm_a)
    r = api.post(
        "/api/v1/documents/",
        {"kind": "business_license", "file": SimpleUploadedFile("l.png", PNG, "image/png")},
        format="multipart",
    )
    assert r.status_code == 201 and r.json()["content_type"] == "image/png"
    assert api.get("/api/v1/documents/").json()["count"] == 1
    assert api_for(cast.firm_b).get("/api/v1/documents/").json()["count"] == 0
    assert api_for(cast.firm_b).delete(f"/api/v1/documents/{r.json()['id']}/").status_code == 404
    assert api.delete(f"/api/v1/documents/{r.json()['id']}/").status_code == 204


# --- the product's own amount and term range (not advisory, unlike its eligibility criteria) ------


@pytest.fixture
def capped_product(cast):
    """Up to 1,000万元 for 6–36 months."""
    return f.ProductFactory(
        institution=cast.bank_a,
        amount_min=Decimal("500000.00"),
        amount_max=Decimal("10000000.00"),
        term_min_months=6,
        term_max_months=36,
    )


@pytest.mark.parametrize(
    ("amount", "term", "field", "message"),
    [
        (
            "50000000.00",
            12,
            "amount",
            "申请金额（50,000,000.00元）超过该产品的最高额度（10,000,000.00元），"
            "请在 500,000.00元–10,000,000.00元 之间申请。",
        ),
        ("499999.99", 12, "amount", "申请金额（499,999.99元）低于该产品的最低额度（500,000.00元）"),
        (
            "3000000.00",
            48,
            "term_months",
            "申请期限（48 个月）不在该产品的期限范围内，请在 6–36 个月之间申请。",
        ),
        ("3000000.00", 3, "term_months", "请在 6–36 个月之间申请"),
    ],
    ids=["above-max", "below-min", "term-too-long", "term-too-short"],
)
def test_an_application_outside_the_products_range_is_a_400_under_its_field_and_saves_nothing(
    cast, api_for, capped_product, amount, term, field, message
):
    before = Transition.objects.count()
    r = api_for(cast.firm_a).post(
        "/api/v1/applications/",
        {
            "product": capped_product.pk,
            "amount": amount,
            "term_months": term,
            "purpose": "rd",
            "share_profile": True,
        },
        format="json",
    )
    assert r.status_code == 400, r.content
    assert message in r.json()[field][0]
    assert not Application.objects.exists()
    assert Transition.objects.count() == before
    assert not cast.officer_a.notifications.exists()


def test_the_products_limits_themselves_are_inside_its_range(cast, capped_product):
    top = application_submit(
        user=cast.firm_a,
        product=capped_product,
        amount=Decimal("10000000.00"),
        term_months=36,
        purpose="rd",
        share_profile=True,
    )
    application_withdraw(user=cast.firm_a, application=top)
    bottom = application_submit(
        user=cast.firm_a,
        product=capped_product,
        amount=Decimal("500000.00"),
        term_months=6,
        purpose="rd",
        share_profile=True,
    )
    assert (top.amount, top.term_months, bottom.amount, bottom.term_months) == (
        Decimal("10000000.00"),
        36,
        Decimal("500000.00"),
        6,
    )


def test_the_apply_page_shows_the_range_error_under_the_field_and_keeps_what_was_typed(
    cast, client_for, capped_product
):
    r = client_for(cast.firm_a).post(
        f"/firm/apply/{capped_product.pk}/",
        {"amount": "5000", "term_months": "12", "purpose": "rd", "note": "扩产资金", "share_profile": "on"},
    )
    assert r.status_code == 200
    form = r.context["form"]
    assert form.errors["amount"] == [
        "申请金额（5,000.00万元）超过该产品的最高额度（1,000.00万元），请在 50.00万元–1,000.00万元 之间申请。"
    ]
    html = r.content.decode()
    assert "超过该产品的最高额度（1,000.00万元）" in html
    assert 'value="5000"' in html and 'value="12"' in html and "扩产资金" in html
    assert not Application.objects.exists()
    long = client_for(cast.firm_a).post(
        f"/firm/apply/{capped_product.pk}/",
        {"amount": "300", "term_months": "60", "purpose": "rd", "share_profile": "on"},
    )
    assert "请在 6–36 个月之间申请" in long.context["form"].errors["term_months"][0]
    assert not Application.objects.exists()


def test_unmet_eligibility_criteria_stay_advisory(cast, api_for):
    product = f.ProductFactory(institution=cast.bank_a, criteria=None)
    f.CriteriaFactory(product=product, required_qualifications=["hitech"], min_invention_patents=2)
    r = api_for(cast.firm_a).post(
        "/api/v1/applications/",
        {
            "product": product.pk,
            "amount": "3000000.00",
            "term_months": 12,
            "purpose": "rd",
            "share_profile": True,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert Application.objects.filter(product=product).count() == 1
