"""A verified firm's change to its legal identity is reviewed (issue 18, item 5): recorded as a
pending change for provincial staff, the verified values kept until approved, a 变更待审核 badge
for banks."""

import pytest
from rest_framework.test import APIClient

from enterprises.models import Enterprise, IdentityChange
from portal.models import Notification, Region
from tests.lenders.conftest import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def product_a(cast):
    from tests import factories

    return factories.ProductFactory(institution=cast.bank_a, name="甲行科创贷")


NEW_NAME = "中国移动通信集团山西有限公司"


@pytest.fixture
def verified(cast):
    firm = cast.firm_a.enterprise
    Enterprise.objects.filter(pk=firm.pk).update(verification_status=Enterprise.Verification.VERIFIED)
    firm.refresh_from_db()
    return firm


def api_for(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_verified_firm_renaming_itself_through_the_api_keeps_its_verified_name(cast, verified):
    old = verified.name
    r = api_for(cast.firm_a).patch(
        "/api/v1/enterprises/me/", {"name": NEW_NAME, "employees": 30}, format="json"
    )
    assert r.status_code == 200
    assert r.json()["name"] == old
    firm = Enterprise.objects.get(pk=verified.pk)
    assert firm.name == old and firm.verification_status == "verified"
    assert firm.latest_figures.employees == 30  # the rest of the edit is applied
    change = IdentityChange.objects.get(enterprise=firm, status="pending")
    assert change.changes == {"name": {"old": old, "new": NEW_NAME}}
    assert Notification.objects.filter(user=cast.staff, title__contains="变更待审核").exists()


def test_the_page_edit_is_recorded_the_same_way_and_merged_into_one_pending_change(
    cast, verified, client_for
):
    from enterprises.services import enterprise_update

    other_city = Region.objects.exclude(pk=verified.city_id).filter(code__endswith="00").first()
    enterprise_update(user=cast.firm_a, enterprise=verified, name=NEW_NAME)
    enterprise_update(user=cast.firm_a, enterprise=verified, legal_representative="王五", city=other_city)
    change = IdentityChange.objects.get(enterprise=verified, status="pending")
    assert set(change.changes) == {"name", "legal_representative", "city"}
    assert change.changes["city"]["new"] == other_city.pk
    firm = Enterprise.objects.get(pk=verified.pk)
    assert firm.city_id != other_city.pk and firm.legal_representative != "王五"


def test_staff_see_old_and_new_side_by_side_and_approve(cast, verified, client_for):
    old = verified.name
    api_for(cast.firm_a).patch("/api/v1/enterprises/me/", {"name": NEW_NAME}, format="json")
    change = IdentityChange.objects.get()
    staff = client_for(cast.staff)
    page = staff.get("/firm/verify/").content.decode()
    assert f'data-identity-change="{change.pk}"' in page and old in page and NEW_NAME in page
    assert (
        client_for(cast.firm_a).post(f"/firm/verify/changes/{change.pk}/", {"action": "approve"}).status_code
        == 403
    )
    assert staff.post(f"/firm/verify/changes/{change.pk}/", {"action": "approve"}).status_code == 302
    assert Enterprise.objects.get(pk=verified.pk).name == NEW_NAME
    assert IdentityChange.objects.get().status == "approved"


def test_a_rejected_change_leaves_the_verified_values_and_needs_a_reason(cast, verified, client_for):
    old = verified.name
    api_for(cast.firm_a).patch("/api/v1/enterprises/me/", {"name": NEW_NAME}, format="json")
    change = IdentityChange.objects.get()
    staff = client_for(cast.staff)
    staff.post(f"/firm/verify/changes/{change.pk}/", {"action": "reject"})
    assert IdentityChange.objects.get().status == "pending"  # no reason given
    staff.post(f"/firm/verify/changes/{change.pk}/", {"action": "reject", "note": "与营业执照不符"})
    assert IdentityChange.objects.get().status == "rejected"
    assert Enterprise.objects.get(pk=verified.pk).name == old


def test_an_unverified_firm_edits_its_identity_directly(cast):
    Enterprise.objects.filter(pk=cast.firm_b.enterprise.pk).update(verification_status="pending")
    r = api_for(cast.firm_b).patch("/api/v1/enterprises/me/", {"name": "乙科技有限公司"}, format="json")
    assert r.status_code == 200 and r.json()["name"] == "乙科技有限公司"
    assert not IdentityChange.objects.exists()


def test_banks_see_the_badge_on_the_lead_while_the_change_is_pending(cast, verified, client_for, product_a):
    lead = make_lead(cast, product_a, enterprise=verified)
    officer = client_for(cast.officer_a)
    assert "变更待审核" not in officer.get(f"/bank/leads/{lead.pk}/").content.decode()
    api_for(cast.firm_a).patch("/api/v1/enterprises/me/", {"name": NEW_NAME}, format="json")
    page = officer.get(f"/bank/leads/{lead.pk}/").content.decode()
    assert "变更待审核" in page and NEW_NAME not in page
