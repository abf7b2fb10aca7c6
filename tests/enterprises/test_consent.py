"""Consent to share the profile with banks, revocation, and the log of who opened it."""

import pytest
from django.http import Http404

from enterprises.models import ProfileView
from enterprises.selectors import enterprise_profile_for_bank
from enterprises.services import profile_view_record
from matching.models import Match
from portal.models import Transition
from tests import factories as f

pytestmark = pytest.mark.django_db

# Always visible: name, city, industry; plus the view's own description (which groups, what purpose,
# whether staff verified the firm — the 未认证 badge), never a profile field.
BASIC = {
    "id",
    "name",
    "city",
    "city_name",
    "industry",
    "industry_display",
    "restricted",
    "groups",
    "purpose",
    "verified",
    "verification_status",
}


@pytest.fixture
def leads(cast):
    """Firm A has an open lead at bank A and one at bank B."""
    firm = cast.firm_a.enterprise
    need = f.NeedFactory(enterprise=firm)
    lead_a = f.MatchFactory(
        need=need,
        product=f.ProductFactory(institution=cast.bank_a),
        branch=cast.officer_a.branch,
        status="claimed",
        assigned_officer=cast.officer_a,
    )
    lead_b = f.MatchFactory(
        need=need, product=f.ProductFactory(institution=cast.bank_b), branch=cast.officer_b.branch
    )
    return lead_a, lead_b


def test_before_consent_an_officer_sees_only_name_city_and_industry(cast, leads):
    firm = cast.firm_a.enterprise
    firm.shares_profile = False
    firm.save()
    view = enterprise_profile_for_bank(user=cast.officer_a, enterprise=firm, purpose="lead")
    assert view["restricted"] is True
    assert set(view) == BASIC
    assert view["name"] == firm.name and view["city"] == "140100" and view["industry"] == firm.industry


def test_consent_for_one_institution_shows_that_bank_the_full_profile_and_not_the_other(
    cast, client_for, leads
):
    firm = cast.firm_a.enterprise
    firm.shares_profile = False
    firm.save()
    r = client_for(cast.firm_a).post("/firm/consent/", {"action": "grant", "institution": cast.bank_a.pk})
    assert r.status_code == 302
    full = enterprise_profile_for_bank(user=cast.officer_a, enterprise=firm, purpose="lead")
    assert full["restricted"] is False and full["uscc"] == firm.uscc and "revenue_last_year" in full
    assert (
        enterprise_profile_for_bank(user=cast.officer_b, enterprise=firm, purpose="lead")["restricted"]
        is True
    )


def test_revoking_one_institution_withdraws_its_open_leads_and_its_officers_get_404(cast, client_for, leads):
    lead_a, lead_b = leads
    firm = cast.firm_a.enterprise
    assert firm.shares_profile
    r = client_for(cast.firm_a).post("/firm/consent/", {"action": "revoke", "institution": cast.bank_a.pk})
    assert r.status_code == 302
    lead_a.refresh_from_db()
    lead_b.refresh_from_db()
    assert lead_a.status == Match.Status.WITHDRAWN and lead_b.status == Match.Status.SUGGESTED
    assert Transition.objects.filter(object_id=lead_a.pk, from_state="claimed", to_state="withdrawn").exists()
    assert cast.officer_a.notifications.filter(title__contains="线索已撤回").exists()
    with pytest.raises(Http404):
        enterprise_profile_for_bank(user=cast.officer_a, enterprise=firm, purpose="lead")
    assert (
        enterprise_profile_for_bank(user=cast.officer_b, enterprise=firm, purpose="lead")["restricted"]
        is False
    )


def test_revoking_all_withdraws_every_open_lead(cast, api_for, leads):
    _lead_a, _lead_b = leads
    r = api_for(cast.firm_a).put("/api/v1/enterprises/me/consent/", {"shares_profile": False}, format="json")
    assert r.status_code == 200 and r.json()["shares_profile"] is False
    assert all(row["granted"] is False for row in r.json()["institutions"])
    assert set(Match.objects.values_list("status", flat=True)) == {"withdrawn"}


def test_api_consent_per_institution(cast, api_for, leads):
    api = api_for(cast.firm_a)
    body = api.get("/api/v1/enterprises/me/consent/").json()
    assert body["shares_profile"] is True
    r = api.put(
        "/api/v1/enterprises/me/consent/",
        {"shares_profile": True, "institutions": [{"institution": cast.bank_b.pk, "granted": False}]},
        format="json",
    )
    assert r.status_code == 200
    rows = {row["institution"]: row["granted"] for row in r.json()["institutions"]}
    assert rows[cast.bank_b.pk] is False and rows[cast.bank_a.pk] is True
    assert Match.objects.get(institution=cast.bank_b).status == "withdrawn"
    assert api_for(cast.officer_a).get("/api/v1/enterprises/me/consent/").status_code == 403


def test_every_profile_view_is_logged_and_shown_to_the_firm(cast, api_for, client_for, leads):
    firm = cast.firm_a.enterprise
    profile_view_record(viewer=cast.officer_a, enterprise=firm)
    profile_view_record(viewer=cast.officer_a, enterprise=firm)
    profile_view_record(viewer=cast.officer_b, enterprise=firm)
    profile_view_record(viewer=cast.firm_a, enterprise=firm)  # the firm itself is not logged
    assert ProfileView.objects.filter(enterprise=firm).count() == 3
    rows = api_for(cast.firm_a).get("/api/v1/enterprises/me/views/").json()["results"]
    assert {r["institution"] for r in rows} == {cast.bank_a.pk, cast.bank_b.pk}
    assert rows[0]["viewer_name"]
    assert api_for(cast.firm_b).get("/api/v1/enterprises/me/views/").json()["count"] == 0
    page = client_for(cast.firm_a).get("/firm/consent/").content.decode()
    # officer A's two opens within the hour are one row with a count
    assert cast.bank_a.name in page and page.count("data-view=") == 2 and 'data-count="2"' in page


def test_a_view_without_consent_is_logged_as_restricted(cast, leads):
    firm = cast.firm_a.enterprise
    firm.shares_profile = False
    firm.save()
    profile_view_record(viewer=cast.officer_a, enterprise=firm)
    assert ProfileView.objects.get().restricted is True


def test_a_bank_without_a_lead_or_application_gets_404_and_staff_see_everything(cast):
    firm = cast.firm_b.enterprise
    with pytest.raises(Http404):
        enterprise_profile_for_bank(user=cast.officer_a, enterprise=firm, purpose="lead")
    with pytest.raises(Http404):
        enterprise_profile_for_bank(user=cast.firm_a, enterprise=firm, purpose="lead")
    assert (
        enterprise_profile_for_bank(user=cast.staff, enterprise=firm, purpose="lead")["restricted"] is False
    )


def test_consent_at_registration_is_the_all_institutions_switch(api_for):
    body = {
        "username": "consenting",
        "password": "Kejin-reg-2026!",
        "mobile": "13912345678",
        "shares_profile": True,
        "enterprise": {
            "name": "同意企业",
            "uscc": "914403001922038216",
            "legal_representative": "甲",
            "city": "140100",
        },
    }
    r = api_for().post("/api/v1/register/", body, format="json")
    assert r.status_code == 201 and r.json()["shares_profile"] is True


def test_through_the_bank_lead_page_consent_shapes_what_the_officer_sees_and_revoking_gives_404(
    cast, client_for, leads
):
    lead_a, _lead_b = leads
    firm = cast.firm_a.enterprise
    firm.shares_profile = False
    firm.contact_mobile = "13911112222"
    firm.save()
    officer = client_for(cast.officer_a)
    page = officer.get(f"/bank/leads/{lead_a.pk}/").content.decode()
    assert firm.name in page and firm.uscc not in page and "13911112222" not in page
    client_for(cast.firm_a).post("/firm/consent/", {"action": "grant", "institution": cast.bank_a.pk})
    page = officer.get(f"/bank/leads/{lead_a.pk}/").content.decode()
    assert firm.uscc in page
    client_for(cast.firm_a).post("/firm/consent/", {"action": "revoke", "institution": cast.bank_a.pk})
    # Revoking withdraws the lead; its page keeps the history but shows name, city and industry only.
    after = officer.get(f"/bank/leads/{lead_a.pk}/")
    assert after.status_code == 200
    page = after.content.decode()
    assert firm.name in page and firm.uscc not in page and "13911112222" not in page
    assert ProfileView.objects.filter(enterprise=firm, viewer=cast.officer_a).count() == 3
    assert list(
        ProfileView.objects.filter(enterprise=firm).order_by("viewed_at").values_list("restricted", flat=True)
    ) == [
        True,
        False,
        True,
    ]
