"""Working a lead: claim, contact, invite, decline, reassign — through the API and the pages."""

from datetime import timedelta

import pytest

from matching.models import Match
from portal.models import Notification, Transition
from tests import factories as f
from tests.lenders.conftest import make_lead

pytestmark = pytest.mark.django_db


def test_an_officer_claims_a_lead_and_the_firm_is_told(cast, lead, api_for):
    response = api_for(cast.officer_a).post(f"/api/v1/matches/{lead.pk}/claim/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "claimed"
    assert response.json()["assigned_officer"] == "officer_a"
    lead.refresh_from_db()
    assert lead.assigned_officer == cast.officer_a and lead.claimed_at is not None
    assert Transition.objects.filter(object_id=lead.pk, to_state="claimed", actor=cast.officer_a).exists()
    assert Notification.objects.filter(user=cast.firm_a, title__contains="认领").exists()


def test_a_second_claim_gets_409_naming_who_holds_the_lead(cast, lead, api_for):
    assert api_for(cast.officer_a).post(f"/api/v1/matches/{lead.pk}/claim/").status_code == 200
    response = api_for(cast.officer_a2).post(f"/api/v1/matches/{lead.pk}/claim/")
    assert response.status_code == 409
    assert cast.officer_a.display_name in response.json()["detail"]


def test_the_first_contact_stops_the_clock_and_later_contacts_do_not_move_it(cast, lead, api_for):
    api = api_for(cast.officer_a)
    api.post(f"/api/v1/matches/{lead.pk}/claim/")
    first = api.post(f"/api/v1/matches/{lead.pk}/contact/", {"channel": "phone", "note": "已电话沟通"})
    assert first.status_code == 200 and first.json()["status"] == "contacted"
    lead.refresh_from_db()
    stopped = lead.first_response_at
    assert stopped is not None
    second = api.post(f"/api/v1/matches/{lead.pk}/contact/", {"channel": "visit", "note": "上门拜访"})
    assert second.status_code == 200
    lead.refresh_from_db()
    assert lead.first_response_at == stopped
    assert Transition.objects.filter(object_id=lead.pk, data__channel="visit").exists()


def test_contact_needs_a_known_channel_and_a_claim(cast, lead, api_for):
    api = api_for(cast.officer_a)
    assert api.post(f"/api/v1/matches/{lead.pk}/contact/", {"channel": "phone"}).status_code == 409
    api.post(f"/api/v1/matches/{lead.pk}/claim/")
    assert api.post(f"/api/v1/matches/{lead.pk}/contact/", {"channel": "fax"}).status_code == 400


def test_only_the_holder_may_work_a_claimed_lead(cast, lead, api_for):
    api_for(cast.officer_a).post(f"/api/v1/matches/{lead.pk}/claim/")
    response = api_for(cast.officer_a2).post(f"/api/v1/matches/{lead.pk}/contact/", {"channel": "phone"})
    assert response.status_code == 409


def test_inviting_notifies_the_firm_with_the_product_link(cast, lead, api_for):
    api = api_for(cast.officer_a)
    api.post(f"/api/v1/matches/{lead.pk}/claim/")
    response = api.post(f"/api/v1/matches/{lead.pk}/invite/", {"note": "欢迎申请"})
    assert response.status_code == 200 and response.json()["status"] == "invited"
    note = Notification.objects.get(user=cast.firm_a, title__contains="邀请")
    assert note.url == f"/products/{lead.product_id}/"
    lead.refresh_from_db()
    assert lead.first_response_at is not None


def test_a_decline_shows_the_firm_the_category_and_what_to_do_and_counts_as_answered(cast, lead, api_for):
    response = api_for(cast.officer_a).post(
        f"/api/v1/matches/{lead.pk}/decline/", {"reason_code": "collateral", "note": "内部评级不足"}
    )
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.status == "declined" and lead.decline_reason == "collateral"
    assert lead.first_response_at is not None
    note = Notification.objects.filter(user=cast.firm_a, title__contains="缺少抵质押物").get()
    assert "知识产权质押" in note.body
    assert "内部评级" not in note.title + note.body  # the officer's free text stays with the bank


def test_a_decline_passes_the_need_to_the_next_ranked_product(cast, lead, api_for):
    other = f.ProductFactory(institution=f.InstitutionFactory())
    f.BranchFactory(institution=other.institution, is_provincial=True)
    nxt = f.MatchFactory(need=lead.need, product=other, score=70, is_lead=False)
    api_for(cast.officer_a).post(f"/api/v1/matches/{lead.pk}/decline/", {"reason_code": "revenue"})
    nxt.refresh_from_db()
    assert nxt.is_lead and nxt.response_deadline is not None


def test_other_with_no_note_is_refused(cast, lead, api_for):
    response = api_for(cast.officer_a).post(f"/api/v1/matches/{lead.pk}/decline/", {"reason_code": "other"})
    assert response.status_code == 400
    assert Match.objects.get(pk=lead.pk).status == "suggested"


def test_a_manager_reassigns_within_the_institution_only(cast, lead, api_for):
    api = api_for(cast.manager_a)
    ok = api.post(f"/api/v1/matches/{lead.pk}/reassign/", {"officer": cast.officer_a2.pk})
    assert ok.status_code == 200 and ok.json()["assigned_officer"] == "officer_a2"
    assert Notification.objects.filter(user=cast.officer_a2, title__contains="转派").exists()
    outsider = api.post(f"/api/v1/matches/{lead.pk}/reassign/", {"officer": cast.officer_b.pk})
    assert outsider.status_code == 404


def test_an_officer_cannot_reassign(cast, lead, api_for):
    response = api_for(cast.officer_a).post(
        f"/api/v1/matches/{lead.pk}/reassign/", {"officer": cast.officer_a2.pk}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("action", ["claim", "contact", "invite", "decline"])
def test_bank_b_gets_404_on_bank_a_leads(cast, lead, api_for, client_for, action):
    body = {"channel": "phone", "reason_code": "revenue"}
    assert api_for(cast.officer_b).post(f"/api/v1/matches/{lead.pk}/{action}/", body).status_code == 404
    assert client_for(cast.officer_b).get(f"/bank/leads/{lead.pk}/").status_code == 404


@pytest.mark.parametrize("action", ["claim", "contact", "invite", "decline"])
def test_staff_read_the_lead_but_every_bank_action_is_403(cast, lead, api_for, client_for, action):
    assert client_for(cast.staff).get(f"/bank/leads/{lead.pk}/").status_code == 200
    body = {"channel": "phone", "reason_code": "revenue"}
    assert api_for(cast.staff).post(f"/api/v1/matches/{lead.pk}/{action}/", body).status_code == 403
    assert client_for(cast.staff).post(f"/bank/leads/{lead.pk}/{action}/", body).status_code == 403


def test_a_firm_cannot_call_bank_actions_even_on_its_own_lead(cast, lead, api_for, client_for):
    assert api_for(cast.firm_a).post(f"/api/v1/matches/{lead.pk}/claim/").status_code == 403
    assert client_for(cast.firm_a).get("/bank/leads/").status_code == 403
    assert api_for(None).post(f"/api/v1/matches/{lead.pk}/claim/").status_code in (401, 403)


def test_the_lead_page_shows_profile_reasons_and_logs_the_view(cast, lead, client_for):
    from enterprises.models import ProfileView

    lead.reasons = [{"code": "city", "label": "所在地区", "met": True, "reason": "企业位于太原市"}]
    lead.save()
    page = client_for(cast.officer_a).get(f"/bank/leads/{lead.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "企业位于太原市" in html and lead.product.name in html
    assert 'data-profile="full"' in html and lead.enterprise.uscc in html
    assert ProfileView.objects.filter(enterprise=lead.enterprise, viewer=cast.officer_a).count() == 1


def test_a_firm_that_does_not_share_shows_only_name_city_and_industry(cast, product_a, client_for):
    firm = f.EnterpriseFactory(shares_profile=False)
    lead = make_lead(cast, product_a, enterprise=firm)
    html = client_for(cast.officer_a).get(f"/bank/leads/{lead.pk}/").content.decode()
    assert 'data-profile="restricted"' in html and firm.uscc not in html


def test_claiming_from_the_page_then_logging_contact(cast, lead, client_for):
    c = client_for(cast.officer_a)
    assert c.post(f"/bank/leads/{lead.pk}/claim/").status_code == 302
    assert (
        c.post(f"/bank/leads/{lead.pk}/contact/", {"channel": "online", "note": "微信沟通"}).status_code
        == 302
    )
    lead.refresh_from_db()
    assert lead.status == "contacted"
    loser = client_for(cast.officer_a2).post(f"/bank/leads/{lead.pk}/claim/", follow=True)
    assert cast.officer_a.display_name in loser.content.decode()


def test_an_officer_of_another_branch_does_not_see_the_lead_until_reassigned(cast, lead, api_for, client_for):
    elsewhere = f.OfficerFactory(branch=f.BranchFactory(institution=cast.bank_a, name="甲银行大同支行"))
    assert client_for(elsewhere).get(f"/bank/leads/{lead.pk}/").status_code == 404
    api_for(cast.manager_a).post(f"/api/v1/matches/{lead.pk}/reassign/", {"officer": elsewhere.pk})
    assert client_for(elsewhere).get(f"/bank/leads/{lead.pk}/").status_code == 200


def test_overdue_leads_are_marked(cast, product_a, client_for):
    late = make_lead(cast, product_a, deadline_in=-timedelta(hours=5))
    html = client_for(cast.officer_a).get("/bank/leads/").content.decode()
    assert f'data-lead="{late.pk}" class="table-danger"' in html
    assert "已超时" in html
