"""The matching API: /api/v1/matches/ scoped per role, /api/v1/match-runs/ for staff."""

from decimal import Decimal

import pytest
from django.utils import timezone

from matching.models import Match, MatchRun
from matching.services.dispatch import start_full_run
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, settings, django_capture_on_commit_callbacks):
    """Firm A and B each with a need; bank A's and bank B's products fit both; a near miss too."""
    settings.MATCH_LEAD_THRESHOLD = 50
    ns = cast
    ns.product_a = f.ProductFactory(institution=cast.bank_a, name="甲科创贷")
    ns.product_b = f.ProductFactory(institution=cast.bank_b, name="乙科创贷")
    ns.product_near = f.ProductFactory(institution=cast.bank_a, name="甲小巨人贷")
    ns.product_near.criteria.required_qualifications = ["srdi_giant"]
    ns.product_near.criteria.save()
    ns.need_a = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    ns.need_b = f.NeedFactory(enterprise=cast.firm_b.enterprise)
    with django_capture_on_commit_callbacks(execute=True):
        start_full_run(trigger="nightly")
    ns.match = lambda need, product: Match.objects.get(need=need, product=product)
    return ns


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_each_role_sees_only_its_scope(world, api_for):
    w = world
    a_a, a_b = w.match(w.need_a, w.product_a), w.match(w.need_a, w.product_b)
    b_a, b_b = w.match(w.need_b, w.product_a), w.match(w.need_b, w.product_b)
    a_near, b_near = w.match(w.need_a, w.product_near), w.match(w.need_b, w.product_near)
    url = "/api/v1/matches/"
    assert ids(api_for(w.firm_a).get(url)) == {a_a.pk, a_b.pk, a_near.pk}
    assert ids(api_for(w.firm_b).get(url)) == {b_a.pk, b_b.pk, b_near.pk}
    assert ids(api_for(w.officer_a).get(url)) == {a_a.pk, b_a.pk}  # its branch's leads, no near misses
    assert ids(api_for(w.officer_b).get(url)) == {a_b.pk, b_b.pk}
    assert ids(api_for(w.manager_a).get(url)) == {a_a.pk, b_a.pk}
    assert ids(api_for(w.staff).get(url)) == {a_a.pk, a_b.pk, b_a.pk, b_b.pk, a_near.pk, b_near.pk}
    assert api_for(None).get(url).status_code in (401, 403)


def test_another_tenants_match_is_not_found(world, api_for):
    w = world
    theirs = w.match(w.need_b, w.product_a)
    assert api_for(w.firm_a).get(f"/api/v1/matches/{theirs.pk}/").status_code == 404
    assert api_for(w.officer_b).get(f"/api/v1/matches/{theirs.pk}/").status_code == 404
    assert api_for(w.firm_b).get(f"/api/v1/matches/{theirs.pk}/").status_code == 200
    assert api_for(None).get(f"/api/v1/matches/{theirs.pk}/").status_code in (401, 403)


def test_the_detail_carries_reasons_and_score_parts(world, api_for):
    w = world
    near = w.match(w.need_a, w.product_near)
    body = api_for(w.firm_a).get(f"/api/v1/matches/{near.pk}/").json()
    assert body["is_near_miss"] is True and body["is_lead"] is False
    assert {
        "code": "qualification",
        "label": "资质认定",
        "met": False,
        "reason": '需取得专精特新"小巨人"认定',
    } in body["reasons"]
    assert body["missing"] == ['需取得专精特新"小巨人"认定']
    assert [c["met"] for c in body["reasons"]] == [False]  # a near miss keeps what it fails
    fits = w.match(w.need_a, w.product_a)
    body = api_for(w.firm_a).get(f"/api/v1/matches/{fits.pk}/").json()
    assert [c["code"] for c in body["reasons"]] == ["city", "amount", "term", "guarantee", "rate"]
    assert all(c["met"] for c in body["reasons"]) and body["missing"] == []
    assert sum(p["points"] for p in body["score_parts"]) == body["score"]
    assert body["need_amount"] == "5000000.00"


def test_the_list_filters_by_score_status_city_industry_product_near_miss_and_overdue(world, api_for):
    w = world
    staff = api_for(w.staff)
    url = "/api/v1/matches/"
    all_ids = ids(staff.get(url))
    near = {w.match(n, w.product_near).pk for n in (w.need_a, w.need_b)}
    assert ids(staff.get(url, {"near_miss": "true"})) == near
    assert ids(staff.get(url, {"near_miss": "false"})) == all_ids - near
    assert ids(staff.get(url, {"product": w.product_b.pk})) == {
        w.match(w.need_a, w.product_b).pk,
        w.match(w.need_b, w.product_b).pk,
    }
    top = max(Match.objects.values_list("score", flat=True))
    assert ids(staff.get(url, {"score": top})) == set(
        Match.objects.filter(score=top).values_list("pk", flat=True)
    )
    assert ids(staff.get(url, {"city": "140100"})) == all_ids
    assert ids(staff.get(url, {"city": "140200"})) == set()
    assert ids(staff.get(url, {"industry": "next_gen_it"})) == all_ids
    assert ids(staff.get(url, {"industry": "biotech"})) == set()
    late = w.match(w.need_a, w.product_a)
    Match.objects.filter(pk=late.pk).update(response_deadline=timezone.now() - timezone.timedelta(hours=1))
    assert ids(staff.get(url, {"overdue": "true"})) == {late.pk}
    Match.objects.filter(pk=late.pk).update(status="declined")
    assert ids(staff.get(url, {"status": "declined"})) == {late.pk}
    assert ids(staff.get(url, {"overdue": "true"})) == set()


def test_the_match_list_query_count_does_not_grow_with_rows(cast, api_for, django_assert_max_num_queries):
    staff = api_for(cast.staff)
    f.MatchFactory.create_batch(5, branch=cast.officer_a.branch)
    with django_assert_max_num_queries(6):
        assert len(staff.get("/api/v1/matches/?page_size=100").json()["results"]) == 5
    f.MatchFactory.create_batch(45, branch=cast.officer_a.branch)
    with django_assert_max_num_queries(6):
        assert len(staff.get("/api/v1/matches/?page_size=100").json()["results"]) == 50


def test_only_staff_may_start_a_run_and_get_202_with_its_id(
    cast, api_for, django_capture_on_commit_callbacks
):
    url = "/api/v1/match-runs/"
    for user in (cast.firm_a, cast.officer_a, cast.manager_a):
        assert api_for(user).post(url).status_code == 403
    assert api_for(None).post(url).status_code in (401, 403)
    assert not MatchRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(cast.staff).post(url)
    assert response.status_code == 202
    run = MatchRun.objects.get(pk=response.json()["id"])
    assert (run.trigger, run.created_by) == ("manual", cast.staff)


def test_a_run_shows_its_progress_to_staff_only(cast, api_for):
    run = MatchRun.objects.create(
        trigger="manual",
        status="running",
        total_chunks=4,
        chunks_done=1,
        pairs_total=400,
        pairs_evaluated=100,
    )
    body = api_for(cast.staff).get(f"/api/v1/match-runs/{run.pk}/").json()
    assert (body["status"], body["progress_percent"], body["pairs_evaluated"], body["pairs_total"]) == (
        "running",
        25,
        100,
        400,
    )
    assert api_for(cast.officer_a).get(f"/api/v1/match-runs/{run.pk}/").status_code == 403
    assert api_for(cast.firm_a).get("/api/v1/match-runs/").status_code == 403
    assert [r["id"] for r in api_for(cast.staff).get("/api/v1/match-runs/").json()["results"]] == [run.pk]


def test_amounts_are_yuan_decimal_strings(world, api_for):
    row = api_for(world.firm_a).get("/api/v1/matches/").json()["results"][0]
    assert Decimal(row["need_amount"]) == Decimal("5000000.00") and isinstance(row["need_amount"], str)
