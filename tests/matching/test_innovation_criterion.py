"""Lending on the 科创积分 (issue 16 item 3): a product's ``min_innovation_score`` is one criterion
of the matching engine (reason with both figures, near-miss advice, "not scored yet"), the score is
a soft factor of the match score, and the criterion reaches the product form, the API, the
supermarket's filter, the firm's eligibility check, a real match run and — redacted without the
``financials`` consent — the bank's lead page and API."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest
import time_machine

from enterprises.models import Enterprise, InnovationScore
from matching import engine
from matching.engine import (
    WEIGHTS,
    WEIGHTS_SCORED,
    advice,
    evaluate,
    failed_count,
)
from matching.models import Match
from matching.services.dispatch import start_full_run
from products.models import Product
from tests import factories as f
from tests.matching.test_engine import FIRM, NEED, PRODUCT, TODAY
from tests.matching.test_runs import SCREEN_DAY, random_firm, random_need, random_product

NOW = "2026-03-10 10:00 +08:00"


def scored(firm, total: str):
    """The firm's current 科创积分, as the scoring service stores it."""
    return InnovationScore.objects.create(
        enterprise=firm,
        as_of="2026-03-09",
        stage_group="growth",
        total=Decimal(total),
        parts=[],
        advice=[],
        is_latest=True,
    )


def criterion(ev, code="innovation_score"):
    return next(c for c in ev.criteria if c.code == code)


# --- the engine ---------------------------------------------------------------------------------

BAR70 = replace(PRODUCT, min_innovation_score=Decimal(70))


def test_a_firm_above_the_bar_meets_the_criterion_with_both_figures_in_the_reason():
    ev = evaluate(replace(FIRM, innovation_score=Decimal("72.50")), BAR70, NEED, on=TODAY)
    c = criterion(ev)
    assert c.met and c.label == "科创积分"
    assert c.reason == "科创积分 72.5 分，达到产品要求的 70 分"
    assert ev.eligible and advice(ev) == []
    # exactly at the bar meets it too
    assert criterion(evaluate(replace(FIRM, innovation_score=Decimal(70)), BAR70, NEED, on=TODAY)).met


def test_a_firm_below_the_bar_is_a_near_miss_told_how_many_points_it_lacks():
    ev = evaluate(replace(FIRM, innovation_score=Decimal("61.00")), BAR70, NEED, on=TODAY)
    c = criterion(ev)
    assert not c.met
    assert c.reason == "科创积分 61.0 分，低于产品要求的 70 分"
    assert ev.near_miss and [x.code for x in ev.failed] == ["innovation_score"]
    (tip,) = advice(ev)
    assert tip.startswith("科创积分需再提高 9 分") and "「科创积分」页" in tip and "提分建议" in tip
    # a figure just under the bar is not rounded up to it
    close = evaluate(replace(FIRM, innovation_score=Decimal("69.96")), BAR70, NEED, on=TODAY)
    assert criterion(close).reason == "科创积分 69.96 分，低于产品要求的 70 分"
    assert advice(close)[0].startswith("科创积分需再提高 0.04 分")


def test_a_firm_not_scored_yet_fails_with_a_reason_that_says_how_to_get_a_score():
    ev = evaluate(FIRM, BAR70, NEED, on=TODAY)
    c = criterion(ev)
    assert not c.met
    assert "尚未取得科创积分" in c.reason and "70 分" in c.reason and "企业认证" in c.reason
    (tip,) = advice(ev)
    assert "年度经营数据" in tip and "「科创积分」页" in tip


def test_a_product_without_a_bar_does_not_judge_the_score():
    ev = evaluate(replace(FIRM, innovation_score=None), PRODUCT, NEED, on=TODAY)
    assert "innovation_score" not in {c.code for c in ev.criteria}


def test_a_higher_score_ranks_a_match_higher_all_else_equal():
    def score(total):
        return evaluate(replace(FIRM, innovation_score=total), PRODUCT, NEED, on=TODAY)

    low, mid, high = score(Decimal(30)), score(Decimal("72.5")), score(Decimal(100))
    assert low.score < mid.score < high.score
    part = next(p for p in high.score_parts if p.code == "innovation_score")
    assert (part.points, part.max_points) == (10, 10) and "科创积分 100.0 分" in part.reason
    for ev in (low, mid, high):
        assert [p.max_points for p in ev.score_parts] == list(WEIGHTS_SCORED.values())
        assert sum(p.points for p in ev.score_parts) == ev.score


def test_a_firm_without_a_score_keeps_the_weights_and_score_it_had_before_the_factor():
    ev = evaluate(FIRM, PRODUCT, NEED, on=TODAY)
    assert [p.max_points for p in ev.score_parts] == list(WEIGHTS.values())
    part = next(p for p in ev.score_parts if p.code == "innovation_score")
    assert (part.points, part.max_points) == (0, 0) and "尚未取得科创积分" in part.reason
    # the sum of the other factors, with their old weights, is the whole score
    assert sum(p.points for p in ev.score_parts if p.code != "innovation_score") == ev.score


def test_the_screen_and_the_full_evaluation_agree_over_the_score_criterion():
    """The differential check of tests/matching/test_runs.py, with the generators' scores and bars:
    the criterion is met, missed and not scored in the sample, and the screen agrees every time."""
    rng = random.Random(16)
    seen = {"met": 0, "below": 0, "unscored": 0}
    for _ in range(3000):
        firm, product, need = random_firm(rng), random_product(rng), random_need(rng)
        ev = evaluate(firm, product, need, on=SCREEN_DAY)
        assert failed_count(firm, product, need, on=SCREEN_DAY) == len(ev.failed)
        c = next((c for c in ev.criteria if c.code == "innovation_score"), None)
        if c is not None:
            seen["met" if c.met else "unscored" if firm.innovation_score is None else "below"] += 1
    assert min(seen.values()) > 50, seen
    matcher = engine.Matcher([random_product(rng) for _ in range(30)], on=SCREEN_DAY)
    for _ in range(60):
        firm, need = random_firm(rng), random_need(rng)
        expected = [
            (i, ev)
            for i, p in enumerate(matcher.products)
            if len((ev := evaluate(firm, p, need, on=SCREEN_DAY)).failed) <= engine.NEAR_MISS_MAX_FAILED
        ]
        assert matcher.pairs(firm, need) == expected


# --- a real match run ---------------------------------------------------------------------------


def strong_firm(**kwargs):
    firm = f.EnterpriseFactory(**kwargs)
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=firm)
    return firm


def score_product(bar=60, institution=None, **kwargs):
    p = f.ProductFactory(institution=institution or f.InstitutionFactory(), **kwargs)
    p.criteria.min_innovation_score = bar
    p.criteria.save()
    return p


@pytest.fixture
def run_full(django_capture_on_commit_callbacks):
    def run():
        with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
            start_full_run(trigger="nightly")

    return run


@pytest.mark.django_db
def test_a_match_run_stores_the_match_above_the_bar_and_near_misses_below_it_and_unscored(run_full):
    p = score_product(60)
    above, below, unscored = strong_firm(), strong_firm(), strong_firm()
    scored(above, "72.50")
    scored(below, "55.00")
    needs = {firm.pk: f.NeedFactory(enterprise=firm) for firm in (above, below, unscored)}
    run_full()

    hit = Match.objects.get(need=needs[above.pk], product=p)
    assert not hit.is_near_miss and hit.is_lead
    reason = next(r for r in hit.reasons if r["code"] == "innovation_score")
    assert reason == {
        "code": "innovation_score",
        "label": "科创积分",
        "met": True,
        "reason": "科创积分 72.5 分，达到产品要求的 60 分",
    }
    part = next(x for x in hit.score_parts if x["code"] == "innovation_score")
    assert (part["points"], part["max_points"]) == (7, 10)

    near = Match.objects.get(need=needs[below.pk], product=p)
    assert near.is_near_miss and not near.is_lead
    assert near.reasons == [
        {
            "code": "innovation_score",
            "label": "科创积分",
            "met": False,
            "reason": "科创积分 55.0 分，低于产品要求的 60 分",
        }
    ]
    assert near.missing[0].startswith("科创积分需再提高 5 分")

    none = Match.objects.get(need=needs[unscored.pk], product=p)
    assert none.is_near_miss and "尚未取得科创积分" in none.reasons[0]["reason"]
    assert "年度经营数据" in none.missing[0]


@pytest.mark.django_db
def test_the_run_reads_the_scores_of_a_chunk_in_one_query_not_one_per_firm(run_full):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    score_product(60)
    for i in range(6):
        firm = strong_firm()
        if i % 2:
            scored(firm, "70.00")
        f.NeedFactory(enterprise=firm)
    with CaptureQueriesContext(connection) as queries:
        run_full()
    score_reads = [q["sql"] for q in queries if 'FROM "enterprises_innovationscore"' in q["sql"]]
    assert len(score_reads) == 1, score_reads
    assert Match.objects.filter(is_near_miss=False).count() == 3


# --- what a bank reads --------------------------------------------------------------------------


@pytest.fixture
def score_lead(cast, run_full):
    """Firm A (its 科创积分 72.5; no consent to anyone) and bank A's 科创积分贷 requiring 60: a lead
    made by a real run."""
    firm = cast.firm_a.enterprise
    Enterprise.objects.filter(pk=firm.pk).update(shares_profile=False)
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=firm)
    scored(firm, "72.50")
    product = score_product(60, institution=cast.bank_a, name="甲行科创积分贷")
    f.NeedFactory(enterprise=firm)
    run_full()
    return Match.objects.get(enterprise=firm, product=product, is_lead=True)


def bank_texts(cast, client_for, api_for, lead) -> dict[str, str]:
    with time_machine.travel(NOW, tick=False):
        page = client_for(cast.officer_a).get(f"/bank/leads/{lead.pk}/")
        api = api_for(cast.officer_a).get(f"/api/v1/matches/{lead.pk}/")
    assert page.status_code == 200 and api.status_code == 200
    return {"page": page.content.decode(), "api": api.content.decode()}


@pytest.mark.django_db
def test_a_bank_without_the_financials_consent_reads_no_score_figures(cast, client_for, api_for, score_lead):
    from enterprises.services import consent_grant

    before = bank_texts(cast, client_for, api_for, score_lead)
    for name, text in before.items():
        assert "72.5" not in text, name
        assert "科创积分满足产品要求" in text, name  # the generic verdict only
    # every group but financials: still no score figures
    with time_machine.travel(NOW, tick=False):
        consent_grant(
            user=cast.firm_a,
            enterprise=cast.firm_a.enterprise,
            institution=cast.bank_a,
            scope=["basic", "ip", "qualifications", "documents"],
        )
    partial = bank_texts(cast, client_for, api_for, score_lead)
    for name, text in partial.items():
        assert "72.5" not in text, name
    # with financials the bank reads the engine's reason
    with time_machine.travel(NOW, tick=False):
        consent_grant(user=cast.firm_a, enterprise=cast.firm_a.enterprise, institution=cast.bank_a)
    after = bank_texts(cast, client_for, api_for, score_lead)
    for name, text in after.items():
        assert "科创积分 72.5 分，达到产品要求的 60 分" in text, name


@pytest.mark.django_db
def test_the_firm_itself_reads_its_score_in_the_reasons(cast, api_for, score_lead):
    body = api_for(cast.firm_a).get(f"/api/v1/matches/{score_lead.pk}/").content.decode()
    assert "科创积分 72.5 分，达到产品要求的 60 分" in body


# --- the product form and API -------------------------------------------------------------------

FORM = {
    "name": "晋科积分贷",
    "product_type": "credit",
    "amount_min": "50",
    "amount_max": "1000",
    "term_min_months": "6",
    "term_max_months": "36",
    "rate_min": "3.2",
    "rate_max": "5.5",
    "guarantee_types": ["credit"],
    "min_invention_patents": "0",
    "min_years": "0",
}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["120", "-1", "72.5"])
def test_the_product_form_refuses_a_score_bar_outside_0_to_100_in_chinese(cast, client_for, value):
    response = client_for(cast.manager_a).post("/bank/products/new/", {**FORM, "min_innovation_score": value})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["min_innovation_score"])
    assert "最低科创积分应" in errors and "0–100" in errors
    assert not Product.objects.filter(name="晋科积分贷").exists()


@pytest.mark.django_db
def test_the_product_form_saves_the_bar_and_the_detail_page_lists_it(cast, client_for):
    client = client_for(cast.manager_a)
    assert client.post("/bank/products/new/", {**FORM, "min_innovation_score": "65"}).status_code == 302
    product = Product.objects.get(name="晋科积分贷")
    assert product.criteria.min_innovation_score == 65
    edit = client.get(f"/bank/products/{product.pk}/edit/").content.decode()
    assert 'name="min_innovation_score"' in edit and 'value="65"' in edit
    product.status = "published"
    product.save(update_fields=["status"])
    page = client_for(cast.firm_a).get(f"/products/{product.pk}/").content.decode()
    assert "科创积分不低于 65 分" in page


@pytest.mark.django_db
def test_the_product_api_reads_and_writes_the_bar(cast, api_for):
    api = api_for(cast.manager_a)
    body = {
        "name": "接口积分贷",
        "product_type": "credit",
        "amount_min": "500000.00",
        "amount_max": "10000000.00",
        "term_min_months": 6,
        "term_max_months": 36,
        "guarantee_types": ["credit"],
        "criteria": {"min_innovation_score": 150},
    }
    refused = api.post("/api/v1/products/", body, format="json")
    assert refused.status_code == 400
    assert "最低科创积分应在 0–100 分之间" in str(refused.json())
    assert not Product.objects.filter(name="接口积分贷").exists()
    created = api.post("/api/v1/products/", {**body, "criteria": {"min_innovation_score": 60}}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["criteria"]["min_innovation_score"] == 60
    pk = created.json()["id"]
    cleared = api.patch(
        f"/api/v1/products/{pk}/", {"criteria": {"min_innovation_score": None}}, format="json"
    )
    assert cleared.status_code == 200 and cleared.json()["criteria"]["min_innovation_score"] is None
    assert Product.objects.get(pk=pk).criteria.min_innovation_score is None


# --- the supermarket and the firm's own check ---------------------------------------------------


@pytest.fixture
def shelf(cast):
    """Three published products: requiring 60, requiring 80, and none; firm A scores 72.5."""
    ns = type("Shelf", (), {})()
    ns.p60 = score_product(60, name="积分六十贷")
    ns.p80 = score_product(80, name="积分八十贷")
    ns.free = f.ProductFactory(name="不看积分贷")
    scored(cast.firm_a.enterprise, "72.50")
    return ns


def names(response) -> set[str]:
    data = response.json()
    return {p["name"] for p in data.get("results", data)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("score_req=required", {"积分六十贷", "积分八十贷"}),
        ("score_req=none", {"不看积分贷"}),
        ("score_req=reachable", {"积分六十贷", "不看积分贷"}),
        ("score_max=70", {"积分六十贷", "不看积分贷"}),
        ("score_max=80", {"积分六十贷", "积分八十贷", "不看积分贷"}),
        ("", {"积分六十贷", "积分八十贷", "不看积分贷"}),
    ],
)
def test_the_supermarket_filter_lists_the_right_products(cast, client_for, api_for, shelf, query, expected):
    assert names(api_for(cast.firm_a).get(f"/api/v1/products/?{query}")) == expected
    page = client_for(cast.firm_a).get(f"/products/?{query}").content.decode()
    for name in {"积分六十贷", "积分八十贷", "不看积分贷"}:
        assert (f">{name}</a>" in page) == (name in expected), (query, name)


@pytest.mark.django_db
def test_reachable_follows_the_firms_own_score_and_means_nothing_to_others(cast, api_for, shelf):
    assert names(api_for(cast.firm_b).get("/api/v1/products/?score_req=reachable")) == {"不看积分贷"}
    everything = {"积分六十贷", "积分八十贷", "不看积分贷"}
    assert names(api_for(None).get("/api/v1/products/?score_req=reachable")) == everything
    assert names(api_for(cast.officer_a).get("/api/v1/products/?score_req=reachable")) >= everything
    assert api_for(None).get("/api/v1/products/?score_max=101").status_code == 400


@pytest.mark.django_db
def test_cards_show_the_requirement_and_the_filter_offers_the_firms_score(cast, client_for, shelf):
    page = client_for(cast.firm_a).get("/products/").content.decode()
    assert "科创积分 ≥ 60 分" in page and "科创积分 ≥ 80 分" in page
    assert 'name="score_req"' in page and "我的科创积分可申请（72.5 分）" in page
    staff_page = client_for(cast.staff).get("/products/").content.decode()
    assert "我的科创积分可申请" not in staff_page and "有科创积分要求" in staff_page


@pytest.mark.django_db
def test_the_firms_eligibility_check_reports_the_criterion(cast, client_for, api_for, shelf):
    api = api_for(cast.firm_a)
    met = api.get(f"/api/v1/products/{shelf.p60.pk}/eligibility/").json()
    c60 = next(c for c in met["criteria"] if c["code"] == "innovation_score")
    assert c60 == {
        "code": "innovation_score",
        "label": "科创积分",
        "met": True,
        "reason": "科创积分 72.5 分，达到产品要求的 60 分",
    }
    missed = api.get(f"/api/v1/products/{shelf.p80.pk}/eligibility/").json()
    assert not missed["eligible"]
    c80 = next(c for c in missed["criteria"] if c["code"] == "innovation_score")
    assert c80["reason"] == "科创积分 72.5 分，低于产品要求的 80 分"
    page = client_for(cast.firm_a).get(f"/products/{shelf.p80.pk}/").content.decode()
    assert 'data-criterion="innovation_score" data-met="0"' in page
    assert "科创积分需再提高 7.5 分" in page
    free = api.get(f"/api/v1/products/{shelf.free.pk}/eligibility/").json()
    assert "innovation_score" not in {c["code"] for c in free["criteria"]}
    # firm B has no score yet
    unscored = api_for(cast.firm_b).get(f"/api/v1/products/{shelf.p60.pk}/eligibility/").json()
    assert (
        "尚未取得科创积分"
        in next(c for c in unscored["criteria"] if c["code"] == "innovation_score")["reason"]
    )
