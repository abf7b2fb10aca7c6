"""The public home page: what the portal is, headline figures cached for five minutes, entry points."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from dashboard.home import HOME_FIGURES_KEY
from subsidies.models import LedgerEntry, Policy
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.delete(HOME_FIGURES_KEY)
    yield
    cache.delete(HOME_FIGURES_KEY)


def test_the_home_page_shows_the_figures_and_the_entry_points(client):
    f.EnterpriseFactory.create_batch(2)
    f.EnterpriseFactory(verification_status="pending")
    f.LoanFactory(principal=Decimal("150000000"))  # a credit loan of 2026-01-10
    f.ProductFactory(status="draft")
    policy = Policy.objects.create(
        series="tiexi",
        kind="interest",
        name="贷款贴息",
        effective_from=date(2026, 1, 1),
        budget=Decimal("10000000"),
        parameters={"eligible_product_types": ["credit"]},
    )
    LedgerEntry.objects.create(
        policy=policy,
        kind="pay",
        amount=Decimal("500000"),
        year=2026,
        at=timezone.make_aware(datetime(2026, 3, 1, 10)),
    )
    with time_machine.travel(timezone.make_aware(datetime(2026, 6, 1, 10)), tick=False):
        html = client.get("/").content.decode()
    assert 'data-figure="firms_verified" data-value="3">3</div>' in html  # 2 + the loan's firm
    assert "1.50亿元" in html and "50.00万元" in html and "300.00×" in html  # this year's 撬动
    assert 'data-figure="products">1<' in html  # the loan's product, not the draft
    for path in ("/firm/register/", "/products/", "/subsidies/calculator/", "/accounts/login/"):
        assert f'href="{path}"' in html


def test_the_figures_are_cached_for_five_minutes_and_not_the_page(
    client, cast, client_for, django_assert_num_queries
):
    client.get("/")
    assert cache.get(HOME_FIGURES_KEY) is not None
    f.EnterpriseFactory.create_batch(3)
    with django_assert_num_queries(0):
        html = client.get("/").content.decode()
    assert (
        'data-figure="firms_verified" data-value="2">2<' in html
    )  # cast's two firms, new ones not yet counted
    logged_in = client_for(cast.firm_a).get("/").content.decode()
    assert "进入我的工作台" in logged_in and "进入我的工作台" not in html
    cache.delete(HOME_FIGURES_KEY)
    assert 'data-figure="firms_verified" data-value="5">5<' in client.get("/").content.decode()


def test_the_cache_lives_five_minutes(client, monkeypatch):
    calls = {}
    real_set = cache.set

    def spy(key, value, timeout=None, **kw):
        calls[key] = timeout
        return real_set(key, value, timeout, **kw)

    monkeypatch.setattr(cache, "set", spy)
    client.get("/")
    assert calls[HOME_FIGURES_KEY] == 300
