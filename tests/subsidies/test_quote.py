"""The cost-after-subsidy quote: the API, the calculator page and the product page tag all show
the figures of one selector (domain.md §4 worked example)."""

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from subsidies.rules import policy_in_force
from subsidies.selectors import quote_for_product
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/api/v1/subsidies/quote/"


@pytest.fixture
def policy():
    return f.PolicyFactory()


@pytest.fixture
def credit_product():
    return f.ProductFactory(product_type="credit", rate_min=Decimal("3.000"), rate_max=Decimal("6.000"))


def test_the_domain_worked_example_through_the_api(api_for, policy, credit_product):
    # P = 5,000,000, r = 3.10%, D = 2026-01-01, n = 6 → 2026-07-01: 31+28+31+30+31+30 = 181 days
    # interest = 5,000,000 × 0.031 × 181 / 360 = 77,930.5555… → 77,930.56
    # subsidy = min(77,930.5555… × 0.5 = 38,965.2777…, 5,000,000 × 0.03 = 150,000, 200,000) → 38,965.28
    # after = 77,930.56 − 38,965.28 = 38,965.28; effective = 38,965.28 / 5,000,000 × 360 / 181 × 100 = 1.5500%
    r = api_for(None).get(
        URL,
        {
            "product": credit_product.pk,
            "amount": "5000000",
            "term_months": 6,
            "annual_rate": "3.10",
            "start": "2026-01-01",
        },
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {
        "days",
        "interest",
        "subsidy",
        "interest_after_subsidy",
        "effective_annual_rate",
        "policy",
        "basis",
        "reasons",
    }
    assert body["days"] == 181
    assert body["interest"] == "77930.56"
    assert body["subsidy"] == "38965.28"
    assert body["interest_after_subsidy"] == "38965.28"
    assert body["effective_annual_rate"] == "1.5500"
    assert body["basis"] == 360
    assert body["policy"]["id"] == policy.pk
    assert body["reasons"]


def test_a_non_credit_product_gets_zero_with_the_reason(api_for, policy):
    product = f.ProductFactory(product_type="ip_pledge", guarantee_types=["ip_pledge"])
    r = api_for(None).get(
        URL,
        {
            "product": product.pk,
            "amount": "5000000",
            "term_months": 6,
            "annual_rate": "3.10",
            "start": "2026-01-01",
        },
    )
    assert r.status_code == 200
    assert r.json()["subsidy"] == "0.00"
    assert r.json()["interest_after_subsidy"] == "77930.56"
    assert any("信用贷款" in reason for reason in r.json()["reasons"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"annual_rate": "2.50"}, "annual_rate"),
        ({"annual_rate": "6.50"}, "annual_rate"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"start": "2026-02-30"}, "start"),
        ({"term_months": "0"}, "term_months"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_for, policy, credit_product, params, field):
    query = {"product": credit_product.pk, "amount": "5000000", "term_months": 6, "annual_rate": "3.10"}
    r = api_for(None).get(URL, {**query, **params})
    assert r.status_code == 400
    assert field in r.json()


def test_the_policy_in_force_on_the_start_date_is_used(api_for, credit_product):
    old = f.PolicyFactory(
        series="ts", effective_from=date(2025, 1, 1), effective_to=date(2025, 12, 31), is_active=False
    )
    new = f.PolicyFactory(series="ts", version=2, effective_from=date(2026, 1, 1))
    assert policy_in_force("interest", date(2025, 6, 1)) == old
    assert policy_in_force("interest", date(2026, 6, 1)) == new
    assert policy_in_force("interest", date(2024, 6, 1)) is None
    r = api_for(None).get(
        URL,
        {
            "product": credit_product.pk,
            "amount": "1000000",
            "term_months": 12,
            "annual_rate": "4",
            "start": "2025-03-01",
        },
    )
    assert r.json()["policy"]["version"] == 1


def test_no_policy_in_force_means_zero_subsidy(api_for, credit_product):
    r = api_for(None).get(
        URL,
        {
            "product": credit_product.pk,
            "amount": "1000000",
            "term_months": 12,
            "annual_rate": "4",
            "start": "2026-03-01",
        },
    )
    assert r.status_code == 200
    assert r.json()["policy"] is None
    assert r.json()["subsidy"] == "0.00"


def test_a_float_amount_is_refused_by_the_quote_service(policy, credit_product):
    with pytest.raises(TypeError):
        quote_for_product(
            product=credit_product, amount=5000000.0, term_months=6, annual_rate=Decimal("3.10")
        )
    with pytest.raises(TypeError):
        quote_for_product(product=credit_product, amount=Decimal("5000000"), term_months=6, annual_rate=3.1)


def test_a_policy_may_state_its_ratio_against_lpr(api_for, credit_product):
    # 1-year LPR on 2026-01-01 is 3.00% (from 2025-05-20); subsidy rate = 0.5 × 3.00% = 1.50%,
    # i.e. 1.50 / 3.10 of the interest; subsidy = 5,000,000 × 1.5% × 181 / 360 = 37,708.333… → 37,708.33
    f.PolicyFactory(
        parameters={
            "ratio_of_lpr": "0.5",
            "principal_cap_rate": "0.03",
            "firm_year_cap": "200000",
            "basis": 360,
            "eligible_product_types": ["credit"],
        }
    )
    r = api_for(None).get(
        URL,
        {
            "product": credit_product.pk,
            "amount": "5000000",
            "term_months": 6,
            "annual_rate": "3.10",
            "start": "2026-01-01",
        },
    )
    assert r.json()["subsidy"] == "37708.33"
    assert any("LPR" in reason for reason in r.json()["reasons"])


def test_the_calculator_page_and_the_api_and_the_product_page_show_the_same_figures(
    api_for, client_for, client, policy, credit_product
):
    from django.utils import timezone

    firm = f.FirmUserFactory()
    f.NeedFactory(enterprise=firm.enterprise, amount=Decimal("5000000.00"), term_months=6)
    today = timezone.localdate().isoformat()
    api = (
        api_for(None)
        .get(
            URL,
            {
                "product": credit_product.pk,
                "amount": "5000000",
                "term_months": 6,
                "annual_rate": "3.000",
                "start": today,
            },
        )
        .json()
    )
    page = client.get(
        "/subsidies/calculator/",
        {
            "product": credit_product.pk,
            "amount_wan": "500",
            "term_months": 6,
            "annual_rate": "3.000",
            "start": today,
        },
    ).content.decode()
    request = RequestFactory().get("/")
    request.user = firm
    tag = Template("{% load subsidy_tags %}{% product_quote product %}").render(
        Context({"request": request, "product": credit_product})
    )
    for key in ("interest", "subsidy", "interest_after_subsidy"):
        snippet = f'data-quote="{key}" data-value="{api[key]}">'
        assert snippet in page, key
        assert snippet in tag, key
    assert f'data-quote="effective_annual_rate">{api["effective_annual_rate"]}%<' in tag
    assert f'data-quote="days">{api["days"]}<' in page


def test_the_product_quote_tag_renders_nothing_for_anonymous_or_bank_users(cast, policy, credit_product):
    from django.contrib.auth.models import AnonymousUser

    template = Template("{% load subsidy_tags %}{% product_quote product %}")
    for user in (AnonymousUser(), cast.officer_a, cast.staff):
        request = RequestFactory().get("/")
        request.user = user
        assert template.render(Context({"request": request, "product": credit_product})).strip() == ""


def test_the_product_quote_tag_uses_the_product_minimum_without_a_need(cast, policy, credit_product):
    request = RequestFactory().get("/")
    request.user = cast.firm_a
    q = quote_for_product(
        product=credit_product, amount=credit_product.amount_min, term_months=credit_product.term_min_months
    )
    html = Template("{% load subsidy_tags %}{% product_quote product %}").render(
        Context({"request": request, "product": credit_product})
    )
    assert f'data-quote="subsidy" data-value="{q.subsidy}">' in html


def test_the_product_page_shows_the_same_figures_as_the_api_for_a_logged_in_firm(
    client_for, api_for, policy, credit_product
):
    from django.utils import timezone

    firm = f.FirmUserFactory()
    f.NeedFactory(enterprise=firm.enterprise, amount=Decimal("5000000.00"), term_months=6)
    api = (
        api_for(None)
        .get(
            URL,
            {
                "product": credit_product.pk,
                "amount": "5000000",
                "term_months": 6,
                "start": timezone.localdate().isoformat(),
            },
        )
        .json()
    )
    page = client_for(firm).get(f"/products/{credit_product.pk}/").content.decode()
    assert f'data-quote="days">{api["days"]}<' in page
    for key in ("interest", "subsidy", "interest_after_subsidy"):
        assert f'data-quote="{key}" data-value="{api[key]}">' in page, key
    assert f'data-quote="effective_annual_rate">{api["effective_annual_rate"]}%<' in page
