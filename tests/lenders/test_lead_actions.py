"""The lead lifecycle table (``matching.services.lead_lifecycle``) is what the lead page offers:
for every state × role, the forms on the rendered page equal ``lead_actions`` and the table's
expected row, for a lead routed by a real match run and moved into the state through the
services; every action not offered, posted anyway, leaves the lead as it was (read back)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from enterprises.services import need_withdraw
from matching.models import Match
from matching.services import leads as lead_services
from matching.services.dispatch import enqueue_need_match
from matching.services.escalation import leads_escalate_overdue
from matching.services.lead_lifecycle import TRANSITIONS, lead_actions
from portal.models import Transition
from tests import factories as f

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUTED = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday: due Thursday 10:00

STATES = ["suggested", "claimed", "contacted", "invited", "declined", "expired", "withdrawn"]
ROLES = ["officer", "colleague", "manager", "staff", "region"]
BANK_ACTIONS = ["claim", "contact", "invite", "decline", "reassign"]

#: The table read as a page: who is offered what. "officer" is officer_a (who claims the lead in
#: every state past suggested), "colleague" officer_a2 of the same branch.
HOLDER_WORK = ["contact", "invite", "decline"]
EXPECTED = {
    "suggested": {
        "officer": ["claim", "decline"],
        "colleague": ["claim", "decline"],
        "manager": ["claim", "decline", "reassign"],
    },
    "claimed": {"officer": HOLDER_WORK, "colleague": [], "manager": [*HOLDER_WORK, "reassign"]},
    "contacted": {"officer": HOLDER_WORK, "colleague": [], "manager": [*HOLDER_WORK, "reassign"]},
    "invited": {"officer": ["contact"], "colleague": [], "manager": ["contact", "reassign"]},
}


def expected(state: str, role: str) -> list[str]:
    return EXPECTED.get(state, {}).get(role, [])


def strong_firm():
    firm = f.EnterpriseFactory()
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=firm)
    return firm


def routed_lead(cast, capture) -> Match:
    """A lead of bank A made by a real match run of a new need."""
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    with capture(execute=True):
        need = f.NeedFactory(enterprise=strong_firm())
        enqueue_need_match(need)
    lead = Match.objects.get(need=need, product=product)
    assert lead.is_lead and lead.status == "suggested" and lead.branch.institution_id == cast.bank_a.pk
    return lead


def move_into(state: str, lead: Match, cast, time_machine) -> Match:
    officer = cast.officer_a
    if state in ("claimed", "contacted", "invited", "declined"):
        lead_services.lead_claim(user=officer, match=lead)
    if state == "contacted":
        lead_services.lead_contact(user=officer, match=lead, channel="phone", note="已电话沟通")
    if state == "invited":
        lead_services.lead_invite(user=officer, match=lead, note="欢迎申请")
    if state == "declined":
        lead_services.lead_decline(user=officer, match=lead, reason_code="years", note="")
    if state == "expired":
        time_machine.move_to(ROUTED + timedelta(days=3), tick=False)
        assert leads_escalate_overdue() == 1
    if state == "withdrawn":
        firm_user = f.FirmUserFactory(enterprise=lead.enterprise)
        need_withdraw(user=firm_user, need=lead.need, note="")
    lead = Match.objects.select_related("assigned_officer").get(pk=lead.pk)
    assert lead.status == state
    return lead


def snapshot(lead: Match) -> tuple:
    row = (
        Match.objects.filter(pk=lead.pk)
        .values_list(
            "status",
            "assigned_officer_id",
            "branch_id",
            "claimed_at",
            "first_response_at",
            "decline_reason",
            "escalated_at",
            "updated_at",
        )
        .get()
    )
    return (
        row,
        Transition.objects.filter(object_id=lead.pk).count(),
        Match.objects.filter(need_id=lead.need_id, is_lead=True).count(),
    )


def offered_on(html: str, lead: Match) -> list[str]:
    """The actions the page's action card offers: its forms' targets, checked against their buttons."""
    if 'id="lead-actions"' not in html:
        return []
    card = html.split('id="lead-actions"', 1)[1].split("处理记录", 1)[0]
    forms = re.findall(rf'<form method="post" action="/bank/leads/{lead.pk}/(\w+)/"', card)
    buttons = re.findall(r'<button[^>]*data-action="(\w+)"', card)
    assert forms == buttons
    return forms


def post_data(action: str, cast) -> dict:
    return {
        "claim": {},
        "contact": {"channel": "phone", "note": "补登"},
        "invite": {"note": "欢迎申请"},
        "decline": {"reason_code": "years", "note": ""},
        "reassign": {"officer": cast.officer_a2.pk, "note": ""},
    }[action]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_the_page_offers_the_tables_actions_and_refuses_the_others(
    state, role, cast, client_for, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(ROUTED, tick=False)
    lead = routed_lead(cast, django_capture_on_commit_callbacks)
    time_machine.move_to(ROUTED + timedelta(hours=1), tick=False)
    lead = move_into(state, lead, cast, time_machine)
    user = {
        "officer": cast.officer_a,
        "colleague": cast.officer_a2,
        "manager": cast.manager_a,
        "staff": cast.staff,
        "region": f.RegionDeskFactory(region=lead.enterprise.city),
    }[role]
    want = expected(state, role)

    assert lead_actions(lead, user) == want
    assert all(user.role in TRANSITIONS[a].roles and state in TRANSITIONS[a].sources for a in want)
    c = client_for(user)
    page = c.get(f"/dashboard/leads/{lead.pk}/" if role == "region" else f"/bank/leads/{lead.pk}/")
    if state == "withdrawn" and role in ("officer", "colleague", "manager"):
        assert page.status_code == 404  # a withdrawn lead is no live business of the bank's
    else:
        assert page.status_code == 200
        html = page.content.decode()
        assert offered_on(html, lead) == want
        if role in ("officer", "colleague", "manager"):
            ended = state in ("declined", "expired")
            held = role == "colleague" and state in ("claimed", "contacted", "invited")
            assert ("该线索已结束，无需进一步处理。" in html) == ended
            assert (f"该线索由 {cast.officer_a.display_name} 负责。" in html) == held
        if role in ("staff", "region"):
            assert f"/bank/leads/{lead.pk}/claim/" not in html

    before = snapshot(lead)
    for action in BANK_ACTIONS:
        if action in want:
            continue
        response = c.post(f"/bank/leads/{lead.pk}/{action}/", post_data(action, cast))
        assert response.status_code in (302, 403, 404), (action, response.status_code)
        assert snapshot(lead) == before, action


def test_the_table_states_every_status_and_every_bank_action_has_a_page_form():
    from lenders.views import LEAD_ACTION_LOOK, LEAD_ACTIONS

    assert set(LEAD_ACTIONS) == set(LEAD_ACTION_LOOK) == {a for a, s in TRANSITIONS.items() if s.roles}
    for spec in TRANSITIONS.values():
        assert set(spec.moves) | set(spec.moves.values()) <= set(Match.Status.values)
