"""The eligibility check on a product equals what the matching engine decides for the same pair."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from matching.engine import evaluate
from matching.facts import firm_facts, need_facts, product_facts
from tests import factories as f

pytestmark = pytest.mark.django_db


def engine_verdict(enterprise, product, need):
    ev = evaluate(
        firm_facts(enterprise),
        product_facts(product),
        need_facts(need) if need else None,
        on=timezone.localdate(),
    )
    return ev.eligible, [(c.code, c.met) for c in ev.criteria]


@pytest.fixture
def products(cast):
    plain = f.ProductFactory(institution=cast.bank_a)
    strict = f.ProductFactory(institution=cast.bank_a, criteria=None, amount_max=Decimal("2000000.00"))
    f.CriteriaFactory(
        product=strict,
        required_qualifications=["hitech"],
        min_invention_patents=2,
        export_required=True,
        cities=["140200"],
        min_years=3,
    )
    return plain, strict


def test_api_eligibility_equals_the_engine_for_each_product(cast, api_for, products):
    firm = cast.firm_a.enterprise
    f.QualificationFactory(
        enterprise=firm, kind="hitech", issued_on=date(2020, 1, 1), expires_on=date(2022, 12, 31)
    )
    f.IPAssetFactory(enterprise=firm)
    need = f.NeedFactory(enterprise=firm)
    for product in products:
        r = api_for(cast.firm_a).get(f"/api/v1/products/{product.pk}/eligibility/")
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"eligible", "criteria"}
        eligible, criteria = engine_verdict(firm, product, need)
        assert body["eligible"] == eligible
        assert [(c["code"], c["met"]) for c in body["criteria"]] == criteria
        assert all(c["reason"] and c["label"] for c in body["criteria"])
    plain, strict = products
    assert api_for(cast.firm_a).get(f"/api/v1/products/{plain.pk}/eligibility/").json()["eligible"] is True
    strict_body = api_for(cast.firm_a).get(f"/api/v1/products/{strict.pk}/eligibility/").json()
    failed = {c["code"] for c in strict_body["criteria"] if not c["met"]}
    assert {"qualification", "invention_patents", "export", "city", "amount"} <= failed


def test_eligibility_without_a_need_and_with_a_chosen_need(cast, api_for, products):
    plain, _strict = products
    firm = cast.firm_a.enterprise
    r = api_for(cast.firm_a).get(f"/api/v1/products/{plain.pk}/eligibility/")
    _eligible, criteria = engine_verdict(firm, plain, None)
    assert [(c["code"], c["met"]) for c in r.json()["criteria"]] == criteria
    big = f.NeedFactory(enterprise=firm, amount=Decimal("90000000.00"))
    f.NeedFactory(enterprise=firm)
    r = api_for(cast.firm_a).get(f"/api/v1/products/{plain.pk}/eligibility/?need={big.pk}")
    assert [(c["code"], c["met"]) for c in r.json()["criteria"]] == engine_verdict(firm, plain, big)[1]
    assert r.json()["eligible"] is False


def test_eligibility_scoping(cast, api_for, products):
    plain, _ = products
    other_need = f.NeedFactory(enterprise=cast.firm_b.enterprise)
    assert (
        api_for(cast.firm_a).get(f"/api/v1/products/{plain.pk}/eligibility/?need={other_need.pk}").status_code
        == 404
    )
    assert api_for(cast.officer_a).get(f"/api/v1/products/{plain.pk}/eligibility/").status_code == 403
    draft = f.ProductFactory(institution=cast.bank_a, status="draft")
    assert api_for(cast.firm_a).get(f"/api/v1/products/{draft.pk}/eligibility/").status_code == 404


def test_the_product_page_shows_each_criterion_with_its_reason(cast, client_for, products):
    _, strict = products
    firm = cast.firm_a.enterprise
    f.NeedFactory(enterprise=firm)
    page = client_for(cast.firm_a).get(f"/products/{strict.pk}/").content.decode()
    ev = evaluate(
        firm_facts(firm), product_facts(strict), need_facts(firm.needs.get()), on=timezone.localdate()
    )
    for c in ev.criteria:
        assert f'data-criterion="{c.code}" data-met="{1 if c.met else 0}"' in page
    assert "需" in page and "✗" in page and 'data-eligible="0"' in page
