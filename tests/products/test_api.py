from decimal import Decimal

import pytest

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_public_product_list_shows_only_published_products(api_for):
    shown = ProductFactory(name="浦新贷")
    ProductFactory(name="草稿产品", status="draft")
    ProductFactory(name="已下架产品", status="retired")
    response = api_for(None).get("/api/v1/products/")
    assert response.status_code == 200
    body = response.json()
    assert [p["name"] for p in body["results"]] == ["浦新贷"]
    assert body["results"][0]["id"] == shown.pk
    assert body["results"][0]["amount_max"] == "30000000.00"  # yuan as a decimal string


def test_products_filter_by_institution_type_amount_and_term(api_for):
    a = ProductFactory(
        name="甲", product_type="credit", amount_min=Decimal("100000"), amount_max=Decimal("5000000")
    )
    b = ProductFactory(name="乙", product_type="ip_pledge", term_min_months=12, term_max_months=36)
    api = api_for(None)

    def names(query):
        return sorted(p["name"] for p in api.get(f"/api/v1/products/?{query}").json()["results"])

    assert names(f"institution={a.institution_id}") == ["甲"]
    assert names("type=ip_pledge") == ["乙"]
    assert names("amount=8000000") == ["乙"]
    assert names("term=6") == ["甲"]
    assert set(names("term=24")) == {"甲", "乙"}
    assert b.pk


def test_the_product_list_keeps_a_constant_number_of_queries(api_for, django_assert_max_num_queries):
    ProductFactory.create_batch(5)
    with django_assert_max_num_queries(3):
        small = api_for(None).get("/api/v1/products/?page_size=100")
    ProductFactory.create_batch(45)
    with django_assert_max_num_queries(3):
        large = api_for(None).get("/api/v1/products/?page_size=100")
    assert len(small.json()["results"]) == 5 and len(large.json()["results"]) == 50
