"""Cached API lists (portal/api/caching.py): the product catalogue and the match lists are served
from the cache until their rows change, and a cached page only ever goes to the scope it was
built for."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from matching.services.leads import lead_claim
from products import services as product_services
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def list_cache(settings):
    settings.API_LIST_CACHE_SECONDS = 15
    cache.clear()
    yield
    cache.clear()


def lead(cast, officer, score=80):
    now = timezone.now()
    return f.MatchFactory(
        need=f.NeedFactory(enterprise=cast.firm_a.enterprise, amount=Decimal("3000000")),
        product=f.ProductFactory(institution=officer.branch.institution),
        score=score,
        branch=officer.branch,
        routed_at=now,
        response_deadline=now + timedelta(days=2),
    )


def test_the_second_read_of_the_catalogue_comes_from_the_cache_without_a_query(
    list_cache, api_for, django_assert_num_queries
):
    f.ProductFactory(name="晋科贷")
    api = api_for(None)
    first = api.get("/api/v1/products/")
    assert first.status_code == 200 and first["X-List-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = api.get("/api/v1/products/")
    assert second["X-List-Cache"] == "hit"
    assert second.content == first.content
    assert second.json()["results"][0]["name"] == "晋科贷"


def test_a_changed_product_is_shown_at_once(list_cache, api_for, cast, django_capture_on_commit_callbacks):
    product = f.ProductFactory(institution=cast.bank_a, name="旧名称")
    api = api_for(None)
    assert api.get("/api/v1/products/").json()["results"][0]["name"] == "旧名称"
    with django_capture_on_commit_callbacks(execute=True):
        product_services.product_update(user=cast.manager_a, product=product, name="新名称")
    fresh = api.get("/api/v1/products/")
    assert fresh["X-List-Cache"] == "miss"
    assert fresh.json()["results"][0]["name"] == "新名称"


def test_filters_and_pages_are_cached_apart(list_cache, api_for):
    f.ProductFactory(name="甲产品", fully_online=True)
    f.ProductFactory(name="乙产品", fully_online=False)
    api = api_for(None)
    everything = api.get("/api/v1/products/").json()
    online = api.get("/api/v1/products/?online=true").json()
    assert everything["count"] == 2 and online["count"] == 1
    assert api.get("/api/v1/products/?online=true").json() == online


def test_a_cached_inbox_never_reaches_another_bank_or_officer(list_cache, api_for, cast):
    mine = lead(cast, cast.officer_a)
    theirs = lead(cast, cast.officer_b)
    a = api_for(cast.officer_a).get("/api/v1/matches/?status=suggested")
    assert [m["id"] for m in a.json()["results"]] == [mine.pk]
    b = api_for(cast.officer_b).get("/api/v1/matches/?status=suggested")
    assert b["X-List-Cache"] == "miss"
    assert [m["id"] for m in b.json()["results"]] == [theirs.pk]
    firm = api_for(cast.firm_b).get("/api/v1/matches/?status=suggested")
    assert firm.json()["results"] == []
    again = api_for(cast.officer_a).get("/api/v1/matches/?status=suggested")
    assert again["X-List-Cache"] == "hit" and [m["id"] for m in again.json()["results"]] == [mine.pk]


def test_a_claimed_lead_leaves_the_cached_suggested_list_at_once(
    list_cache, api_for, cast, django_capture_on_commit_callbacks
):
    match = lead(cast, cast.officer_a)
    api = api_for(cast.officer_a)
    assert [m["id"] for m in api.get("/api/v1/matches/?status=suggested").json()["results"]] == [match.pk]
    with django_capture_on_commit_callbacks(execute=True):
        lead_claim(user=cast.officer_a, match=match)
    assert api.get("/api/v1/matches/?status=suggested").json()["results"] == []
    claimed = api.get("/api/v1/matches/?status=claimed").json()["results"]
    assert [(m["id"], m["status"]) for m in claimed] == [(match.pk, "claimed")]


def test_a_matching_run_makes_the_cached_lists_stale(
    list_cache, api_for, cast, django_capture_on_commit_callbacks
):
    from matching.services.dispatch import start_full_run

    api = api_for(cast.staff)
    assert api.get("/api/v1/matches/").json()["count"] == 0
    product = f.ProductFactory(institution=cast.bank_a)
    f.NeedFactory(enterprise=cast.firm_a.enterprise, amount=Decimal("3000000"))
    with django_capture_on_commit_callbacks(execute=True):
        start_full_run(trigger="manual", user=cast.staff)
    listed = api.get("/api/v1/matches/").json()
    assert listed["count"] >= 1 and {m["product"] for m in listed["results"]} == {product.pk}


def test_the_browsable_api_and_a_zero_lifetime_are_never_cached(list_cache, api_for, client, settings):
    f.ProductFactory()
    page = client.get("/api/v1/products/", HTTP_ACCEPT="text/html")
    assert "X-List-Cache" not in page
    settings.API_LIST_CACHE_SECONDS = 0
    assert "X-List-Cache" not in api_for(None).get("/api/v1/products/")


# --- cached token lookups (portal/api/authentication.py) ----------------------------------------


@pytest.fixture
def token_cache(settings, list_cache):
    settings.API_TOKEN_CACHE_SECONDS = 60


def token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api


def test_a_polled_inbox_costs_no_query_once_token_and_page_are_cached(
    token_cache, cast, django_assert_num_queries
):
    match = lead(cast, cast.officer_a)
    api = token_client(cast.officer_a)
    assert [m["id"] for m in api.get("/api/v1/matches/?status=suggested").json()["results"]] == [match.pk]
    with django_assert_num_queries(0):
        again = api.get("/api/v1/matches/?status=suggested")
    assert again.status_code == 200 and again["X-List-Cache"] == "hit"


def test_a_deleted_token_is_refused_at_once(token_cache, cast):
    from rest_framework.authtoken.models import Token

    api = token_client(cast.officer_a)
    assert api.get("/api/v1/matches/").status_code == 200
    Token.objects.filter(user=cast.officer_a).delete()
    assert api.get("/api/v1/matches/").status_code == 403  # refused (session auth comes first: 403, not 401)


def test_a_deactivated_user_is_refused_at_once_and_a_moved_officer_sees_the_new_branch(token_cache, cast):
    mine = lead(cast, cast.officer_a)
    theirs = lead(cast, cast.officer_b)
    api = token_client(cast.officer_a)
    assert [m["id"] for m in api.get("/api/v1/matches/").json()["results"]] == [mine.pk]
    cast.officer_a.branch = cast.officer_b.branch
    cast.officer_a.save()
    assert [m["id"] for m in api.get("/api/v1/matches/").json()["results"]] == [theirs.pk]
    cast.officer_a.is_active = False
    cast.officer_a.save()
    assert api.get("/api/v1/matches/").status_code == 403  # refused (session auth comes first: 403, not 401)
