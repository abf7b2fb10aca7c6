"""A lead's first-response deadline counts China's working days (domain.md §9): a real lead routed
by the matching service at the worked cases' moments, and a need passed on after an overdue lead."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from matching.models import Match
from matching.services.dispatch import enqueue_need_match
from matching.services.escalation import leads_escalate_overdue
from tests import factories as f

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def strong_firm():
    firm = f.EnterpriseFactory()
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=firm)
    return firm


def bank_product():
    product = f.ProductFactory(institution=f.InstitutionFactory())
    f.BranchFactory(institution=product.institution, is_scitech=True)
    return product


def route_a_lead_at(moment: datetime, django_capture_on_commit_callbacks) -> Match:
    with time_machine.travel(moment, tick=False):
        product = bank_product()
        with django_capture_on_commit_callbacks(execute=True):
            need = f.NeedFactory(enterprise=strong_firm())
            enqueue_need_match(need)
    lead = Match.objects.get(need=need, product=product)
    assert lead.is_lead and lead.routed_at == moment
    return lead


@pytest.mark.parametrize(
    ("routed", "due"),
    [
        # 国庆: 10-01 to 10-07 off; 10-08 and 10-09 are working days.
        (datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI), datetime(2026, 10, 9, 10, 0, tzinfo=SHANGHAI)),
        # Saturday 02-14 is a 调休 working day.
        (datetime(2026, 2, 12, 10, 0, tzinfo=SHANGHAI), datetime(2026, 2, 14, 10, 0, tzinfo=SHANGHAI)),
        # Routed on Saturday 09-19: Sunday 09-20 is a working day, then Monday.
        (datetime(2026, 9, 19, 11, 0, tzinfo=SHANGHAI), datetime(2026, 9, 21, 11, 0, tzinfo=SHANGHAI)),
        # 春节: Friday 02-13, then 调休 Saturday 02-14, then 02-15 to 02-23 off: Tuesday 02-24.
        (datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI), datetime(2026, 2, 24, 10, 0, tzinfo=SHANGHAI)),
    ],
    ids=["national-day", "tiaoxiu-saturday", "tiaoxiu-sunday", "spring-festival"],
)
def test_a_lead_routed_at_the_worked_cases_moment_is_due_on_the_second_working_day(
    routed, due, django_capture_on_commit_callbacks
):
    lead = route_a_lead_at(routed, django_capture_on_commit_callbacks)
    assert lead.response_deadline == due


def test_a_need_passed_on_after_an_overdue_lead_gets_a_working_day_deadline_too(
    django_capture_on_commit_callbacks,
):
    lead = route_a_lead_at(datetime(2026, 9, 24, 10, 0, tzinfo=SHANGHAI), django_capture_on_commit_callbacks)
    second = bank_product()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_need_match(lead.need)  # the second bank's product is matched too, not yet a lead
    Match.objects.filter(need=lead.need).exclude(pk=lead.pk).update(
        is_lead=False, branch=None, routed_at=None, response_deadline=None
    )
    Match.objects.filter(pk=lead.pk).update(response_deadline=datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI))

    escalated_at = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(escalated_at, tick=False):
        assert leads_escalate_overdue() == 1
    passed = Match.objects.get(need=lead.need, product=second)
    assert passed.is_lead and passed.routed_at == escalated_at
    assert passed.response_deadline == datetime(2026, 10, 9, 10, 0, tzinfo=SHANGHAI)
    assert passed.response_deadline - passed.routed_at == timedelta(days=9)
