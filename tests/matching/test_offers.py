"""Offers (issue 17 item 1): an approved credit line is an offer with a validity date; the firm sees
its open offers for a need side by side at their cost after subsidy (the subsidies quote, the
firm's yearly cap included), accepts one (签约确认), which releases the others (withdrawn,
chose_other, each bank told the winning terms in aggregate only); the bank disburses only a signed
offer; an offer past its validity expires.

The clock is frozen on 2026-01-01 10:00 (Beijing), the day of domain.md §4's worked example 1:
500万元 at 3.10% for 6 months from 2026-01-01 → 181 days, interest 77,930.56, subsidy 38,965.28,
after subsidy 38,965.28, effective annual rate 1.5500%."""

import threading
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from matching.models import Application, Loan
from matching.services.applications import application_offer_accept, application_submit
from matching.services.review import application_transition, offers_expire
from portal.celery import ensure_periodic_tasks
from portal.models import Notification, Transition
from portal.services import ConflictError
from subsidies.models import Claim
from tests import factories as f

BJ = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 1, 1, 10, 0, tzinfo=BJ)


@pytest.fixture
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(cast):
    """Firm A's need, two banks' products (credit loans), the demo interest-subsidy policy."""
    f.PolicyFactory(effective_from=date(2025, 1, 1))
    return {
        "need": f.NeedFactory(enterprise=cast.firm_a.enterprise, amount=Decimal("5000000"), term_months=6),
        "product_a": f.ProductFactory(institution=cast.bank_a, name="甲行科创贷"),
        "product_b": f.ProductFactory(institution=cast.bank_b, name="乙行科创贷"),
    }


def offer(cast, need, product, officer, *, rate: str, line="5000000.00", term=6, **approve):
    """The firm applies for ``product`` for ``need``; ``officer`` accepts and approves it."""
    app = application_submit(
        user=cast.firm_a,
        product=product,
        amount=Decimal("5000000"),
        term_months=term,
        purpose="rd",
        need=need,
        share_profile=True,
    )
    application_transition(user=officer, application=app, action="accept")
    return application_transition(
        user=officer,
        application=app,
        action="approve",
        credit_line=line,
        annual_rate=rate,
        term_months=term,
        **approve,
    )


@pytest.fixture
def two_offers(cast, world, today):
    a = offer(cast, world["need"], world["product_a"], cast.officer_a, rate="3.100")
    b = offer(cast, world["need"], world["product_b"], cast.officer_b, rate="3.500")
    return a, b


def quote_api(api, app) -> dict:
    response = api.get(
        "/api/v1/subsidies/quote/",
        {
            "product": app.product_id,
            "amount": str(app.credit_line),
            "term_months": app.approved_term_months,
            "annual_rate": str(app.approved_rate),
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


COSTS = ("interest", "subsidy", "interest_after_subsidy", "effective_annual_rate")


# ---------------------------------------------------------------------------------------------------
# The offers side by side
# ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_banks_approve_and_the_firm_sees_both_offers_at_the_quotes_costs(
    cast, world, two_offers, api_for, client_for, today
):
    a, b = two_offers
    assert a.valid_until == b.valid_until == date(2026, 1, 31)  # default: 30 days after approval
    api = api_for(cast.firm_a)
    response = api.get(f"/api/v1/needs/{world['need'].pk}/offers/")
    assert response.status_code == 200, response.content
    rows = {row["application"]: row for row in response.json()}
    assert set(rows) == {a.pk, b.pk}
    assert set(rows[a.pk]) == {
        "application",
        "institution_name",
        "product_name",
        "credit_line",
        "annual_rate",
        "term_months",
        *COSTS,
        "valid_until",
    }
    assert rows[a.pk] == {
        "application": a.pk,
        "institution_name": cast.bank_a.name,
        "product_name": "甲行科创贷",
        "credit_line": "5000000.00",
        "annual_rate": "3.100",
        "term_months": 6,
        "interest": "77930.56",  # worked example 1, by hand
        "subsidy": "38965.28",
        "interest_after_subsidy": "38965.28",
        "effective_annual_rate": "1.5500",
        "valid_until": "2026-01-31",
    }
    assert rows[b.pk]["institution_name"] == cast.bank_b.name and rows[b.pk]["interest"] == "87986.11"
    for app in (a, b):  # the same figures as the quote API's for the same terms, for this firm
        quote = quote_api(api, app)
        assert {k: rows[app.pk][k] for k in COSTS} == {k: quote[k] for k in COSTS}

    page = client_for(cast.firm_a).get(f"/subsidies/needs/{world['need'].pk}/offers/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-application="{a.pk}" class="table-success" data-cheapest' in html  # lowest after subsidy
    assert f'data-application="{b.pk}">' in html
    assert 'data-offer="effective_annual_rate" data-value="1.5500"' in html
    assert 'data-offer="subsidy" data-value="38965.28">3.90<' in html  # 万元
    assert "甲行科创贷" in html and "乙行科创贷" in html and "2026-01-31" in html

    # another firm: 404 on the API and the page; the need list and application list link here
    assert api_for(cast.firm_b).get(f"/api/v1/needs/{world['need'].pk}/offers/").status_code == 404
    assert client_for(cast.firm_b).get(f"/subsidies/needs/{world['need'].pk}/offers/").status_code == 404
    offers_url = f"/subsidies/needs/{world['need'].pk}/offers/"
    assert offers_url in client_for(cast.firm_a).get("/firm/needs/").content.decode()
    assert offers_url in client_for(cast.firm_a).get("/firm/applications/").content.decode()


@pytest.mark.django_db
def test_the_firms_yearly_cap_already_used_is_counted_as_the_quote_counts_it(
    cast, world, two_offers, api_for, today
):
    a, _b = two_offers
    loan = f.LoanFactory(application__enterprise=cast.firm_a.enterprise)
    Claim.objects.create(
        policy=f.PolicyFactory(),
        kind="interest",
        loan=loan,
        enterprise=cast.firm_a.enterprise,
        year=2026,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        amount=Decimal("190000.00"),
        status=Claim.Status.APPROVED,
    )
    api = api_for(cast.firm_a)
    row = next(
        r for r in api.get(f"/api/v1/needs/{world['need'].pk}/offers/").json() if r["application"] == a.pk
    )
    assert row["subsidy"] == "10000.00"  # 200,000 cap − 190,000 already received this year
    assert row["interest_after_subsidy"] == "67930.56"
    quote = quote_api(api, a)
    assert {k: row[k] for k in COSTS} == {k: quote[k] for k in COSTS}


@pytest.mark.django_db
def test_a_need_without_offers_says_what_to_do_next(cast, world, client_for, api_for, today):
    assert api_for(cast.firm_a).get(f"/api/v1/needs/{world['need'].pk}/offers/").json() == []
    html = client_for(cast.firm_a).get(f"/subsidies/needs/{world['need'].pk}/offers/").content.decode()
    assert "data-empty" in html and "暂无有效的授信方案" in html


@pytest.mark.django_db
def test_the_bank_sets_the_validity_date_within_limits(cast, world, api_for, reauthed, today):
    app = offer(
        cast, world["need"], world["product_a"], cast.officer_a, rate="3.100", valid_until="2026-02-15"
    )
    assert app.valid_until == date(2026, 2, 15)
    other = application_submit(
        user=cast.firm_a,
        product=world["product_b"],
        amount=Decimal("5000000"),
        term_months=6,
        purpose="rd",
        need=world["need"],
        share_profile=True,
    )
    application_transition(user=cast.officer_b, application=other, action="accept")
    api = reauthed(api_for(cast.officer_b))
    body = {"action": "approve", "credit_line": "5000000", "annual_rate": "3.5", "term_months": 6}
    past = api.post(f"/api/v1/applications/{other.pk}/transition/", {**body, "valid_until": "2025-12-31"})
    assert past.status_code == 400 and "不能早于今天" in past.json()["valid_until"][0]
    other.refresh_from_db()
    assert other.status == "accepted" and other.valid_until is None


# ---------------------------------------------------------------------------------------------------
# Accepting one releases the others
# ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_accepting_one_withdraws_the_others_and_tells_each_bank_the_terms_without_the_winner(
    cast, world, two_offers, api_for, client_for, today
):
    a, b = two_offers
    third_product = f.ProductFactory(institution=cast.bank_b, name="乙行知识产权贷")
    pending = application_submit(
        user=cast.firm_a,
        product=third_product,
        amount=Decimal("5000000"),
        term_months=6,
        purpose="rd",
        need=world["need"],
        share_profile=True,
    )
    unrelated = application_submit(  # another need's application is not touched
        user=cast.firm_a,
        product=f.ProductFactory(institution=cast.bank_b),
        amount=Decimal("1000000"),
        term_months=12,
        purpose="rd",
        share_profile=True,
    )
    Notification.objects.all().delete()

    response = api_for(cast.firm_a).post(f"/api/v1/applications/{a.pk}/accept/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "signed"
    for app in (a, b, pending, unrelated):
        app.refresh_from_db()
    assert a.status == "signed" and a.signed_at is not None
    assert (b.status, b.withdraw_reason) == ("withdrawn", "chose_other")
    assert (pending.status, pending.withdraw_reason) == ("withdrawn", "chose_other")
    assert unrelated.status == "submitted"
    step = Transition.objects.filter(object_id=b.pk, to_state="withdrawn").get()
    assert step.actor == cast.firm_a and step.data["reason"] == "chose_other"
    assert Transition.objects.filter(object_id=a.pk, from_state="approved", to_state="signed").count() == 1

    told = list(Notification.objects.filter(user=cast.officer_b))
    assert len(told) == 2  # the offer and the pending application
    about_offer = next(n for n in told if "乙行科创贷" in n.title)
    assert "年利率低 0.40 个百分点" in about_offer.body
    for note in told:
        text = note.title + note.body
        assert cast.bank_a.name not in text and cast.bank_a.short_name not in text and "甲行" not in text
    assert Notification.objects.filter(user=cast.officer_a, title__contains="签约确认").exists()

    # the offers page is empty now; the released offer cannot be signed
    assert api_for(cast.firm_a).get(f"/api/v1/needs/{world['need'].pk}/offers/").json() == []
    again = api_for(cast.firm_a).post(f"/api/v1/applications/{b.pk}/accept/", {}, format="json")
    assert again.status_code == 409 and "其他机构" in again.json()["detail"]
    b.refresh_from_db()
    assert b.status == "withdrawn"
    # only the firm signs: a bank on the firm's route gets 403, another firm 404
    assert api_for(cast.officer_a).post(f"/api/v1/applications/{a.pk}/accept/").status_code == 403
    assert api_for(cast.firm_b).post(f"/api/v1/applications/{a.pk}/accept/").status_code == 404


@pytest.mark.django_db
def test_the_firm_signs_on_its_page_after_a_confirmation(cast, world, two_offers, client_for, today):
    a, b = two_offers
    c = client_for(cast.firm_a)
    confirm = c.get(f"/firm/applications/{a.pk}/accept/")
    assert confirm.status_code == 200 and "自动撤回" in confirm.content.decode()
    a.refresh_from_db()
    assert a.status == "approved"  # nothing happens on GET
    done = c.post(f"/firm/applications/{a.pk}/accept/")
    assert done.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == "signed" and b.status == "withdrawn"


# ---------------------------------------------------------------------------------------------------
# Disbursement only of a signed offer; expiry
# ---------------------------------------------------------------------------------------------------

DISBURSE = {
    "action": "disburse",
    "principal": "5000000.00",
    "annual_rate": "3.100",
    "start_date": "2026-01-01",
    "maturity_date": "2026-07-01",
}


def assert_unchanged(app, status):
    before = app.status_changed_at
    app.refresh_from_db()
    assert app.status == status and app.status_changed_at == before
    assert not Loan.objects.filter(application=app).exists()
    assert not Transition.objects.filter(object_id=app.pk, to_state="disbursed").exists()


@pytest.mark.django_db
def test_disbursing_an_unaccepted_offer_is_409_on_the_api_and_the_page(
    cast, world, two_offers, api_for, client_for, today
):
    a, _b = two_offers
    api = api_for(cast.officer_a).post(f"/api/v1/applications/{a.pk}/transition/", DISBURSE, format="json")
    assert api.status_code == 409 and "企业尚未签约确认" in api.json()["detail"]
    assert_unchanged(a, "approved")
    page = client_for(cast.officer_a).post(
        f"/bank/applications/{a.pk}/transition/", {**DISBURSE, "principal": "500"}
    )
    assert page.status_code == 409 and "企业尚未签约确认" in page.content.decode()
    assert_unchanged(a, "approved")
    detail = client_for(cast.officer_a).get(f"/bank/applications/{a.pk}/").content.decode()
    assert "等待企业签约确认" in detail and 'data-action-panel="disburse"' not in detail

    f.sign_offer(a, cast.firm_a)
    ok = api_for(cast.officer_a).post(f"/api/v1/applications/{a.pk}/transition/", DISBURSE, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "disbursed"


@pytest.mark.django_db
def test_an_offer_past_its_validity_cannot_be_signed_or_disbursed_and_expires(
    cast, world, two_offers, api_for, client_for
):
    a, b = two_offers
    with time_machine.travel(datetime(2026, 2, 1, 9, 0, tzinfo=BJ), tick=False):  # valid until 01-31
        # before the sweep has run: the check at accept and disburse time refuses anyway
        sign = api_for(cast.firm_a).post(f"/api/v1/applications/{a.pk}/accept/", {}, format="json")
        assert sign.status_code == 409 and "已过期" in sign.json()["detail"]
        assert_unchanged(a, "approved")
        body = {**DISBURSE, "start_date": "2026-02-01", "maturity_date": "2026-08-01"}
        api = api_for(cast.officer_a).post(f"/api/v1/applications/{a.pk}/transition/", body, format="json")
        assert api.status_code == 409 and "已过期" in api.json()["detail"]
        assert_unchanged(a, "approved")
        assert api_for(cast.firm_a).get(f"/api/v1/needs/{world['need'].pk}/offers/").json() == []

        Notification.objects.all().delete()
        assert offers_expire() == 2
        assert offers_expire() == 0  # idempotent: once
        a.refresh_from_db()
        assert a.status == "expired"
        step = Transition.objects.get(object_id=a.pk, to_state="expired")
        assert step.actor is None and step.from_state == "approved"
        assert Notification.objects.filter(user=cast.firm_a, title__contains="授信已过期").count() == 2
        assert Notification.objects.filter(user=cast.officer_b, title__contains="授信已过期").count() == 1
        page = client_for(cast.officer_a).post(
            f"/bank/applications/{a.pk}/transition/", {**body, "principal": "500"}
        )
        assert page.status_code == 409 and "已过期" in page.content.decode()
        assert_unchanged(a, "expired")
    b.refresh_from_db()
    assert b.status == "expired"


@pytest.mark.django_db
def test_the_expiry_sweep_is_declared_with_the_other_schedules(cast):
    PeriodicTask.objects.all().delete()
    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)
    task = PeriodicTask.objects.get(task="matching.offers_expire")
    assert (task.crontab.hour, task.crontab.minute) == ("0", "20")


# ---------------------------------------------------------------------------------------------------
# Two acceptances at once on one need: exactly one wins
# ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_racing_on_one_need_exactly_one_wins(cast, world):
    with time_machine.travel(TODAY, tick=False):
        a = offer(cast, world["need"], world["product_a"], cast.officer_a, rate="3.100")
        b = offer(cast, world["need"], world["product_b"], cast.officer_b, rate="3.500")
    second = f.FirmUserFactory(username="firm_a2", enterprise=cast.firm_a.enterprise)
    people, apps = [cast.firm_a, second], [a, b]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i):
        try:
            barrier.wait()
            results[i] = ("ok", application_offer_accept(user=people[i], application=apps[i]))
        except Exception as exc:  # the loser's ConflictError, checked below
            results[i] = ("error", exc)
        finally:
            connection.close()

    with time_machine.travel(TODAY, tick=False):  # time_machine's clock holds in every thread
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    loser = next(r[1] for r in results if r[0] == "error")
    assert isinstance(loser, ConflictError)
    statuses = sorted(Application.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))
    assert statuses == ["signed", "withdrawn"]
    assert Application.objects.filter(need=world["need"], status="signed").count() == 1
