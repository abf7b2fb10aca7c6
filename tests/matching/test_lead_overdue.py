"""One definition of an overdue lead (``portal.kpi.lead_overdue``): the queryset and the property
agree before, at and after the deadline, and the inbox filter, the API filter, the dashboard's
count and list and the escalation all select the same leads — real leads routed by match runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard import selectors as dashboard
from matching.models import Match
from matching.services import leads as lead_services
from matching.services.dispatch import enqueue_need_match
from matching.services.escalation import escalation_candidates, leads_escalate_overdue
from tests import factories as f
from tests.lenders.test_inbox import rows_of

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUTED = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday
DUE = datetime(2026, 3, 12, 10, 0, tzinfo=SHANGHAI)  # two working days later


def strong_firm():
    firm = f.EnterpriseFactory()
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=firm)
    return firm


def route(product, capture) -> Match:
    with capture(execute=True):
        need = f.NeedFactory(enterprise=strong_firm())
        enqueue_need_match(need)
    lead = Match.objects.get(need=need, product=product)
    assert lead.is_lead
    return lead


def leads_in_three_states(cast, capture) -> dict[str, Match]:
    """Three leads of bank A routed at ROUTED: one untouched, one claimed, one contacted."""
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    leads = {state: route(product, capture) for state in ("suggested", "claimed", "contacted")}
    lead_services.lead_claim(user=cast.officer_a, match=leads["claimed"])
    lead_services.lead_claim(user=cast.officer_a, match=leads["contacted"])
    lead_services.lead_contact(user=cast.officer_a, match=leads["contacted"], channel="phone")
    return leads


def test_the_queryset_and_the_property_agree_before_at_and_after_the_deadline(
    cast, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(ROUTED, tick=False)
    leads = leads_in_three_states(cast, django_capture_on_commit_callbacks)
    assert {
        lead.response_deadline for lead in Match.objects.filter(pk__in=[m.pk for m in leads.values()])
    } == {DUE}
    moments = {"before": DUE - timedelta(seconds=1), "at": DUE, "after": DUE + timedelta(seconds=1)}
    for when, moment in moments.items():
        time_machine.move_to(moment, tick=False)
        for state, lead in leads.items():
            lead = Match.objects.get(pk=lead.pk)
            in_queryset = Match.objects.overdue().filter(pk=lead.pk).exists()
            assert lead.is_overdue == in_queryset, (when, state)
            assert in_queryset == (when == "after" and state != "contacted"), (when, state)
            assert Match.objects.overdue(moment).filter(pk=lead.pk).exists() == in_queryset


def test_the_inbox_the_api_the_dashboard_and_the_escalation_select_the_same_leads(
    cast, client_for, api_for, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(ROUTED, tick=False)
    leads = leads_in_three_states(cast, django_capture_on_commit_callbacks)
    time_machine.move_to(DUE, tick=False)
    later = route(leads["suggested"].product, django_capture_on_commit_callbacks)  # due in two days
    time_machine.move_to(DUE + timedelta(hours=1), tick=False)
    overdue = {leads["suggested"].pk, leads["claimed"].pk}
    everything = overdue | {leads["contacted"].pk, later.pk}

    inbox = set(rows_of(client_for(cast.manager_a).get("/bank/leads/?overdue=true").content.decode()))
    not_overdue = set(rows_of(client_for(cast.manager_a).get("/bank/leads/?overdue=false").content.decode()))
    body = api_for(cast.manager_a).get("/api/v1/matches/?overdue=true").json()
    api = {row["id"] for row in (body["results"] if isinstance(body, dict) else body)}
    flt = dashboard.Filters(start=date(2026, 3, 1), end=date(2026, 3, 31))
    listed = {m.pk for m in dashboard.overdue_leads(user=cast.staff, filters=flt)}
    counted = dashboard.desk_figures(user=cast.staff)["leads_overdue"]
    candidates = set(escalation_candidates().values_list("pk", flat=True))
    flagged = {m.pk for m in Match.objects.filter(pk__in=everything) if m.is_overdue}

    assert inbox == api == listed == candidates == flagged == overdue
    assert counted == len(overdue)
    assert not_overdue == everything - overdue

    assert leads_escalate_overdue() == len(overdue)
    assert set(Match.objects.filter(status="expired").values_list("pk", flat=True)) == overdue
    assert (
        not Match.objects.overdue().exists() and dashboard.desk_figures(user=cast.staff)["leads_overdue"] == 0
    )


def test_row_meets_reads_only_what_it_can_read_as_the_database_would():
    from types import SimpleNamespace

    from django.db.models import F, Q

    from portal.kpi import row_meets

    row = SimpleNamespace(a=None, b=3, s="claimed")
    assert row_meets(Q(a__isnull=True, b__lt=4, s__in=("claimed",)), row)
    assert not row_meets(Q(a__lt=1), row)  # NULL compares false
    assert not row_meets(Q(b__gte=4), row)
    for unreadable in (Q(b=1) | Q(b=3), ~Q(b=1), Q(b__lt=F("a")), Q(b__range=(1, 4)), Q(x__y__lt=1)):
        with pytest.raises(ValueError):
            row_meets(unreadable, row)
