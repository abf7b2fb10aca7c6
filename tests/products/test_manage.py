"""A bank manager creates, edits, publishes and retires its products; officers only read;
another institution's product is 404 for edits; the public list keeps showing published only."""

from decimal import Decimal
from unittest import mock

import pytest

from products.models import Product
from tests import factories as f

pytestmark = pytest.mark.django_db

FORM = {
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
    "min_invention_patents": "1",
    "min_years": "2",
}
API = {
    "name": "晋科接口贷",
    "product_type": "credit",
    "amount_min": "500000.00",
    "amount_max": "10000000.00",
    "term_min_months": 6,
    "term_max_months": 24,
    "rate_min": "3.100",
    "rate_max": "5.000",
    "guarantee_types": ["credit", "ip_pledge"],
    "criteria": {"stages": ["growth"], "min_years": 1},
}


def test_a_manager_creates_a_draft_in_wan_then_publishes_it_and_matching_starts(cast, client_for):
    c = client_for(cast.manager_a)
    assert c.post("/bank/products/new/", FORM).status_code == 302
    product = Product.objects.get(name="晋科成长贷")
    assert product.institution == cast.bank_a and product.status == "draft"
    assert product.amount_min == Decimal("500000.00") and product.amount_max == Decimal("10000000.00")
    assert product.criteria.industries == ["next_gen_it"] and product.criteria.min_years == 2
    with mock.patch("products.services.enqueue_product_match") as enqueue:
        assert c.post(f"/bank/products/{product.pk}/publish/").status_code == 302
    product.refresh_from_db()
    assert product.status == "published" and product.published_at is not None
    enqueue.assert_called_once()
    assert c.post(f"/bank/products/{product.pk}/retire/").status_code == 302
    assert Product.objects.get(pk=product.pk).status == "retired"


def test_the_product_page_sets_and_shows_the_revenue_share_cap(cast, client_for):
    c = client_for(cast.manager_a)
    assert c.post("/bank/products/new/", {**FORM, "max_amount_revenue_ratio": "0.5"}).status_code == 302
    product = Product.objects.get(name="晋科成长贷")
    assert product.criteria.max_amount_revenue_ratio == Decimal("0.5000")
    edit = c.get(f"/bank/products/{product.pk}/edit/")
    assert 'value="0.5000"' in edit.content.decode()
    refused = c.post("/bank/products/new/", {**FORM, "name": "超比例贷", "max_amount_revenue_ratio": "1.5"})
    assert refused.status_code == 200 and refused.context["form"].errors["max_amount_revenue_ratio"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_min": "2000", "amount_max": "1000"}, "amount_max"),
        ({"term_min_months": "40", "term_max_months": "36"}, "term_max_months"),
        ({"rate_min": "6", "rate_max": "5"}, "rate_max"),
        ({"guarantee_types": []}, "guarantee_types"),
    ],
)
def test_bad_ranges_and_no_guarantee_are_refused_in_chinese_and_nothing_saved(
    cast, client_for, change, field
):
    response = client_for(cast.manager_a).post("/bank/products/new/", {**FORM, **change})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Product.objects.filter(name="晋科成长贷").exists()


def test_an_officer_reads_but_cannot_create_edit_or_publish(cast, client_for, api_for):
    product = f.ProductFactory(institution=cast.bank_a, status="draft")
    c = client_for(cast.officer_a)
    assert product.name in c.get("/bank/products/").content.decode()
    assert c.get("/bank/products/new/").status_code == 403
    assert c.get(f"/bank/products/{product.pk}/edit/").status_code == 403
    assert c.post(f"/bank/products/{product.pk}/publish/").status_code == 403
    assert api_for(cast.officer_a).post(f"/api/v1/products/{product.pk}/publish/").status_code == 403
    assert api_for(cast.officer_a).post("/api/v1/products/", API, format="json").status_code == 403
    assert Product.objects.get(pk=product.pk).status == "draft"


def test_another_institutions_product_is_404_for_edits(cast, client_for, api_for):
    theirs = f.ProductFactory(institution=cast.bank_b)
    other_manager = f.ManagerFactory(branch=cast.officer_b.branch)
    assert client_for(cast.manager_a).get(f"/bank/products/{theirs.pk}/edit/").status_code == 404
    assert client_for(cast.manager_a).post(f"/bank/products/{theirs.pk}/retire/").status_code == 404
    api = api_for(cast.manager_a)
    assert api.patch(f"/api/v1/products/{theirs.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api.post(f"/api/v1/products/{theirs.pk}/retire/").status_code == 404
    assert (
        api_for(other_manager)
        .patch(f"/api/v1/products/{theirs.pk}/", {"description": "ok"}, format="json")
        .status_code
        == 200
    )


def test_the_api_creates_patches_and_publishes_for_the_managers_institution(cast, api_for):
    api = api_for(cast.manager_a)
    created = api.post("/api/v1/products/", API, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["institution"] == cast.bank_a.pk
    assert body["criteria"]["stages"] == ["growth"]
    pk = body["id"]
    bad = api.patch(f"/api/v1/products/{pk}/", {"amount_min": "20000000.00"}, format="json")
    assert bad.status_code == 400 and "amount_max" in bad.json()
    ok = api.patch(
        f"/api/v1/products/{pk}/", {"rate_max": "5.500", "criteria": {"min_years": 3}}, format="json"
    )
    assert (
        ok.status_code == 200 and ok.json()["rate_max"] == "5.500" and ok.json()["criteria"]["min_years"] == 3
    )
    assert api.post(f"/api/v1/products/{pk}/publish/").json()["status"] == "published"
    assert api.post(f"/api/v1/products/{pk}/publish/").status_code == 409


def test_an_empty_guarantee_list_is_refused_by_the_api(cast, api_for):
    response = api_for(cast.manager_a).post(
        "/api/v1/products/", {**API, "guarantee_types": []}, format="json"
    )
    assert response.status_code == 400


def test_anonymous_lists_published_only_and_a_manager_also_its_own_drafts(cast, api_for):
    f.ProductFactory(institution=cast.bank_a, name="已上架", status="published")
    f.ProductFactory(institution=cast.bank_a, name="甲行草稿", status="draft")
    f.ProductFactory(institution=cast.bank_b, name="乙行草稿", status="draft")

    def names(user):
        return {p["name"] for p in api_for(user).get("/api/v1/products/?page_size=100").json()["results"]}

    assert names(None) == {"已上架"}
    assert names(cast.manager_a) == {"已上架", "甲行草稿"}
    assert api_for(None).post("/api/v1/products/", API, format="json").status_code in (401, 403)
    assert api_for(cast.firm_a).post("/api/v1/products/", API, format="json").status_code == 403
