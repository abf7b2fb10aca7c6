"""List pages and API lists keep a constant number of SQL queries as rows grow (5 and 50 rows)."""

import pytest

from enterprises.models import ProfileView
from tests import factories as f

pytestmark = pytest.mark.django_db


def fill(cast, rows):
    firm = cast.firm_a.enterprise
    for i in range(rows):
        f.NeedFactory(enterprise=firm)
        product = f.ProductFactory(institution=cast.bank_a)
        f.ApplicationFactory(enterprise=firm, product=product)
        ProfileView.objects.create(
            enterprise=firm, institution=cast.bank_a, viewer=cast.officer_a, restricted=False
        )
        f.IPAssetFactory(enterprise=firm)
        f.EnterpriseFactory(verification_status="pending", name=f"待审{i}")


PAGES = [
    ("firm_a", "/firm/needs/", 12),
    ("firm_a", "/firm/applications/", 12),
    ("firm_a", "/firm/consent/", 14),
    ("firm_a", "/firm/", 18),
    ("staff", "/firm/verify/", 10),
]
API = [
    ("firm_a", "/api/v1/needs/", 8),
    ("firm_a", "/api/v1/applications/", 8),
    ("officer_a", "/api/v1/applications/", 8),
    ("firm_a", "/api/v1/enterprises/me/views/", 8),
    ("firm_a", "/api/v1/enterprises/me/ip-assets/", 8),
    ("firm_a", "/api/v1/documents/", 8),
]


@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize(("who", "url", "bound"), PAGES)
def test_list_pages_keep_constant_queries(
    cast, client_for, django_assert_max_num_queries, rows, who, url, bound
):
    fill(cast, rows)
    c = client_for(getattr(cast, who))
    with django_assert_max_num_queries(bound):
        assert c.get(url).status_code == 200


@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize(("who", "url", "bound"), API)
def test_api_lists_keep_constant_queries(cast, api_for, django_assert_max_num_queries, rows, who, url, bound):
    fill(cast, rows)
    api = api_for(getattr(cast, who))
    with django_assert_max_num_queries(bound):
        r = api.get(url)
        assert r.status_code == 200
