"""seed_demo dated relative to the day it runs: the dashboard's default period (this month), this
quarter and this year have figures on any day; a second run on the same day changes nothing; the
need found on a service visit waits for the firm before it is matched."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command

from dashboard import selectors as dashboard

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
FIRMS = 40


def seed(day: date, firms: int = FIRMS):
    call_command(
        "seed_demo",
        "--password",
        "Demo-pass-2026",
        "--firms",
        str(firms),
        "--today",
        day.isoformat(),
        stdout=open("/dev/null", "w"),
    )


def on(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING))


def every_table_but_the_run_history() -> dict[str, int]:
    skip = {"matching.MatchRun", "matching.MatchRunChunk", "matching.TaskAttempt"}
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.label not in skip and not m._meta.proxy and m._meta.managed
    }


@pytest.mark.parametrize("day", [date(2027, 1, 5), date(2026, 7, 15), date(2026, 12, 1)])
def test_on_any_day_the_dashboards_default_period_has_applications_loans_and_subsidies(day, api_for):
    from portal.models import User

    with on(day):
        seed(day)
        staff = User.objects.get(username="demo_staff")
        figures = api_for(staff).get("/api/v1/dashboard/summary/").json()  # the default period: 本月
        assert figures["applications"] > 0
        assert figures["loans_disbursed_count"] > 0 and float(figures["loans_disbursed_amount"]) > 0
        assert float(figures["subsidy_paid"]) > 0 and figures["leverage"] is not None
        for period in ("month", "quarter", "year"):
            start, end = dashboard.period_bounds(period)
            f = dashboard.Filters(start=start, end=end, period=period)
            chart = dashboard.series(user=staff, filters=f, metric="loans_disbursed_amount", group_by="month")
            assert any(float(p["value"] or 0) > 0 for p in chart["points"]), period
            summary = dashboard.summary(user=staff, filters=f)
            assert summary["applications"] > 0 and summary["loans_disbursed_count"] > 0, period
    assert_the_history_keeps_the_loan_lifecycle_within_the_year_before(day)


def assert_the_history_keeps_the_loan_lifecycle_within_the_year_before(day: date):
    from datetime import timedelta

    from matching.models import Application, Loan, Repayment

    earliest = day - timedelta(days=366)
    for loan in Loan.objects.select_related("application"):
        approved = loan.application.approved_at.astimezone(BEIJING).date()
        assert earliest <= approved <= loan.start_date <= day, loan.pk
        assert loan.maturity_date > loan.start_date
        assert loan.defaulted_on is None or loan.start_date < loan.defaulted_on < day
        assert loan.repaid_on is None or loan.start_date < loan.repaid_on < day
    for repayment in Repayment.objects.select_related("loan"):
        assert repayment.loan.start_date < repayment.paid_on <= day
    for app in Application.objects.all():
        assert earliest <= app.created_at.astimezone(BEIJING).date() <= day
    assert Loan.objects.filter(start_date=day).exists()  # facts on the run day itself
    assert Application.objects.filter(created_at__date=day).exists()


def test_a_second_run_on_the_same_day_changes_no_table_but_the_run_history():
    day = date(2026, 12, 1)
    with on(day):
        seed(day)
        first = every_table_but_the_run_history()
        assert_the_demo_accounts_have_something_to_do(day)
    with on(day, hour=15):
        seed(day)
        assert every_table_but_the_run_history() == first


def test_the_need_found_on_a_visit_waits_for_the_firm_and_is_matched_once_confirmed(
    client, django_capture_on_commit_callbacks
):
    from enterprises.models import FinancingNeed
    from enterprises.visits import visit_need_confirm
    from matching.models import Match
    from matching.services.dispatch import needs_unmatched, start_full_run
    from portal.models import User

    day = date(2026, 12, 1)
    with on(day):
        seed(day)
        need = FinancingNeed.objects.get(enterprise__users__username="demo_firm2", on_behalf=True)
        assert need.status == FinancingNeed.Status.AWAITING_FIRM and need.get_status_display() == "待企业确认"
        assert not Match.objects.filter(need=need).exists()
        assert not needs_unmatched().filter(pk=need.pk).exists()  # the sweep leaves it alone
        with django_capture_on_commit_callbacks(execute=True):
            start_full_run(trigger="manual", user=User.objects.get(username="demo_staff"))
        assert not Match.objects.filter(need=need).exists()  # nor does a full run
        firm = User.objects.get(username="demo_firm2")
        client.force_login(firm)
        page = client.get("/firm/needs/").content.decode()
        assert "待企业确认" in page and f"/staff/visits/needs/{need.pk}/confirm/" in page
        with django_capture_on_commit_callbacks(execute=True):
            visit_need_confirm(user=firm, need=need)
        need.refresh_from_db()
        assert need.status == FinancingNeed.Status.OPEN and need.confirmed_by_firm
        assert Match.objects.filter(need=need).exists()


def assert_the_demo_accounts_have_something_to_do(day: date):
    from datetime import timedelta

    from enterprises.visits import follow_ups_due
    from matching.models import Application, Match
    from portal.models import User
    from subsidies.models import Claim

    officer = User.objects.get(username="demo_officer")
    due = Match.objects.filter(branch=officer.branch, is_lead=True, status="suggested")
    assert due.filter(response_deadline__date=day + timedelta(days=1)).exists()  # a lead due tomorrow
    assert Application.objects.filter(  # an application to review, submitted today
        product__institution_id=officer.institution_id, status="submitted", created_at__date=day
    ).exists()
    firm = User.objects.get(username="demo_firm")
    assert Claim.objects.filter(enterprise=firm.enterprise, status="awaiting").exists()  # to confirm
    assert_demo_firm_compares_two_offers_and_every_loan_was_signed(firm, day)
    staff = User.objects.get(username="demo_staff")
    assert follow_ups_due(user=staff, today=day).filter(follow_up_due__lte=day + timedelta(days=7)).exists()


def assert_demo_firm_compares_two_offers_and_every_loan_was_signed(firm, day: date):
    """demo_firm's open need has two open offers from two banks (its offers page compares them),
    and every demo loan went through the firm's acceptance (签约) before its disbursement."""
    from django.contrib.contenttypes.models import ContentType

    from enterprises.models import FinancingNeed
    from matching.models import Application, Loan
    from portal.models import Transition
    from subsidies.selectors import need_offers

    compared = [
        need_offers(user=firm, need=need, today=day)
        for need in FinancingNeed.objects.filter(enterprise=firm.enterprise, status="open")
    ]
    assert any(len({o.application.product.institution_id for o in offers}) == 2 for offers in compared)
    ct = ContentType.objects.get_for_model(Application)
    signed = set(
        Transition.objects.filter(content_type=ct, to_state="signed").values_list("object_id", flat=True)
    )
    assert set(Loan.objects.values_list("application_id", flat=True)) <= signed
