"""Consent records: purposes, scope, expiry and status; the nightly expiry and its 30-day notice;
revoking; the consent API's fields; the consent page; applying shares the profile explicitly; the
collapsed profile-view log."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from enterprises import tasks
from enterprises.consent import ALL_GROUPS
from enterprises.models import Enterprise, ProfileConsent, ProfileView
from enterprises.selectors import consent_scope, consenting_q, profile_views_collapsed
from enterprises.services import (
    consent_grant,
    consent_granted,
    consent_revoke,
    consents_expire,
    profile_view_record,
)
from matching.models import Application
from portal.celery import ensure_periodic_tasks
from portal.services import ServiceError
from tests import factories as f

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def firm(cast):
    """Firm A without the share-with-all switch: only its own records count."""
    enterprise = cast.firm_a.enterprise
    consent_revoke(user=cast.firm_a, enterprise=enterprise, institution=None)
    ProfileConsent.objects.filter(enterprise=enterprise).delete()
    enterprise.refresh_from_db()
    return enterprise


def scope(firm, institution, purpose=None, on=None):
    return consent_scope(enterprise=firm, institution_id=institution.pk, purpose=purpose, on=on)


# -- purposes and scope ----------------------------------------------------------------------------


def test_a_grant_gives_exactly_its_groups_for_its_purposes_and_nothing_for_another(cast, firm):
    with time_machine.travel(DAY, tick=False):
        consent_grant(
            user=cast.firm_a,
            enterprise=firm,
            institution=cast.bank_a,
            purposes=["lead"],
            scope=["basic", "financials"],
        )
        assert scope(firm, cast.bank_a, "lead") == {"basic", "financials"}
        assert scope(firm, cast.bank_a, "application") == frozenset()
        assert scope(firm, cast.bank_a, "pool") == frozenset()
        assert scope(firm, cast.bank_a) == {"basic", "financials"}  # any purpose
        assert scope(firm, cast.bank_b, "lead") == frozenset()
        assert consent_granted(enterprise=firm, institution_id=cast.bank_a.pk) is True
        assert consent_granted(enterprise=firm, institution_id=cast.bank_b.pk) is False
        record = ProfileConsent.objects.get(enterprise=firm, institution=cast.bank_a)
        assert record.status == "active" and record.purposes == ["lead"]
        assert record.granted_at == DAY and record.expires_on == date(2027, 3, 2)


def test_the_expiry_defaults_to_one_year_and_a_longer_one_is_refused_in_chinese(cast, firm):
    with time_machine.travel(DAY, tick=False):
        with pytest.raises(ServiceError) as exc:
            consent_grant(
                user=cast.firm_a, enterprise=firm, institution=cast.bank_a, expires_on=date(2027, 3, 3)
            )
        assert (
            exc.value.field == "expires_on"
            and "最长一年" in exc.value.message
            and "2027-03-02" in exc.value.message
        )
        assert not ProfileConsent.objects.filter(enterprise=firm).exists()
        short = consent_grant(
            user=cast.firm_a, enterprise=firm, institution=cast.bank_a, expires_on=date(2026, 6, 30)
        )
        assert short.expires_on == date(2026, 6, 30)
    with time_machine.travel(datetime(2028, 2, 29, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a).expires_on == date(
            2029, 2, 28
        )


def test_unknown_purposes_or_groups_are_refused_under_their_field(cast, firm):
    with pytest.raises(ServiceError) as exc:
        consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, purposes=["marketing"])
    assert exc.value.field == "purposes"
    with pytest.raises(ServiceError) as exc:
        consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, scope=[])
    assert exc.value.field == "scope"


def test_another_firms_user_cannot_grant(cast, firm):
    with pytest.raises(ServiceError):
        consent_grant(user=cast.firm_b, enterprise=firm, institution=cast.bank_a)
    assert not ProfileConsent.objects.filter(enterprise=firm).exists()


def test_the_share_with_all_switch_covers_every_institution_but_one_revoked(cast):
    firm = cast.firm_a.enterprise  # made with shares_profile on
    assert scope(firm, cast.bank_a, "pool") == ALL_GROUPS and scope(firm, cast.bank_b, "lead") == ALL_GROUPS
    consent_revoke(user=cast.firm_a, enterprise=firm, institution=cast.bank_b)
    assert scope(firm, cast.bank_b) == frozenset() and scope(firm, cast.bank_a) == ALL_GROUPS
    firm.shares_profile = False  # the switch's flag off: its record no longer counts
    assert scope(firm, cast.bank_a) == frozenset()


# -- expiry and the nightly task -------------------------------------------------------------------


def test_an_expired_grant_counts_as_none_and_the_nightly_task_marks_it_expired(cast, firm):
    with time_machine.travel(DAY, tick=False):
        consent_grant(
            user=cast.firm_a, enterprise=firm, institution=cast.bank_a, expires_on=date(2026, 4, 30)
        )
    with time_machine.travel(datetime(2026, 4, 30, 23, 0, tzinfo=SHANGHAI), tick=False):
        assert scope(firm, cast.bank_a, "lead") == ALL_GROUPS  # the last day still counts
    with time_machine.travel(datetime(2026, 5, 1, 1, 30, tzinfo=SHANGHAI), tick=False):
        assert scope(firm, cast.bank_a, "lead") == frozenset()  # before the task runs, already none
        assert Enterprise.objects.filter(consenting_q(institution_id=cast.bank_a.pk), pk=firm.pk).count() == 0
        assert tasks.consents_expire.delay().get()["expired"] == 1
        record = ProfileConsent.objects.get(enterprise=firm, institution=cast.bank_a)
        assert record.status == "expired"
        assert consents_expire()["expired"] == 0  # idempotent


def test_the_switch_expires_too_and_turns_off(cast):
    firm = cast.firm_a.enterprise
    switch = ProfileConsent.objects.get(enterprise=firm, institution__isnull=True)
    with time_machine.travel(
        datetime.combine(switch.expires_on + timedelta(days=1), datetime.min.time(), SHANGHAI)
    ):
        assert scope(firm, cast.bank_a) == frozenset()
        consents_expire()
        firm.refresh_from_db()
        switch.refresh_from_db()
        assert switch.status == "expired" and firm.shares_profile is False


def test_the_firm_is_told_once_30_days_before_its_consent_expires(cast, firm):
    with time_machine.travel(DAY, tick=False):
        consent_grant(
            user=cast.firm_a, enterprise=firm, institution=cast.bank_a, expires_on=date(2026, 12, 31)
        )
    with time_machine.travel(datetime(2026, 11, 30, 1, 30, tzinfo=SHANGHAI), tick=False):
        assert consents_expire()["notified"] == 0  # 31 days before: not yet
    with time_machine.travel(datetime(2026, 12, 1, 1, 30, tzinfo=SHANGHAI), tick=False):
        assert consents_expire()["notified"] == 1
        assert consents_expire()["notified"] == 0
    with time_machine.travel(datetime(2026, 12, 2, 1, 30, tzinfo=SHANGHAI), tick=False):
        assert consents_expire()["notified"] == 0  # the next night: still once
    notes = list(cast.firm_a.notifications.filter(title__contains="资料授权即将到期"))
    assert len(notes) == 1 and cast.bank_a.name in notes[0].title and "2026-12-31" in notes[0].title
    assert notes[0].url == "/firm/consent/"
    assert not cast.firm_b.notifications.filter(title__contains="资料授权即将到期").exists()
    # extending starts a new grant period: a notice again before the new expiry
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        record = consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a)
        assert record.expires_on == date(2027, 12, 5) and record.expiry_notified_on is None


def test_the_nightly_schedule_is_declared_with_the_others(cast):
    PeriodicTask.objects.all().delete()
    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)
    task = PeriodicTask.objects.get(task="enterprises.consents_expire")
    assert (task.crontab.hour, task.crontab.minute) == ("1", "30")
    assert str(task.crontab.timezone) == "Asia/Shanghai"


# -- revoking --------------------------------------------------------------------------------------


def test_revoking_empties_the_scope_at_once(cast, firm):
    consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a)
    assert scope(firm, cast.bank_a, "lead") == ALL_GROUPS
    consent_revoke(user=cast.firm_a, enterprise=firm, institution=cast.bank_a)
    assert scope(firm, cast.bank_a, "lead") == frozenset() and scope(firm, cast.bank_a) == frozenset()
    record = ProfileConsent.objects.get(enterprise=firm, institution=cast.bank_a)
    assert record.status == "revoked" and record.revoked_at is not None


# -- the API ---------------------------------------------------------------------------------------


def test_the_api_shows_each_institutions_purposes_scope_dates_and_status(cast, api_for, firm):
    with time_machine.travel(DAY, tick=False):
        consent_grant(
            user=cast.firm_a,
            enterprise=firm,
            institution=cast.bank_a,
            purposes=["lead", "pool"],
            scope=["ip", "basic"],
        )
        body = api_for(cast.firm_a).get("/api/v1/enterprises/me/consent/").json()
    assert body["shares_profile"] is False
    rows = {r["institution"]: r for r in body["institutions"]}
    a = rows[cast.bank_a.pk]
    assert a["granted"] is True and a["purposes"] == ["lead", "pool"] and a["scope"] == ["basic", "ip"]
    assert (
        a["granted_at"].startswith("2026-03-02")
        and a["expires_on"] == "2027-03-02"
        and a["status"] == "active"
    )
    b = rows[cast.bank_b.pk]
    assert b["granted"] is False and b["purposes"] == [] and b["status"] == "none" and b["expires_on"] is None


def test_the_api_put_grants_with_purposes_scope_and_expiry_and_revokes(cast, api_for, firm):
    api = api_for(cast.firm_a)
    with time_machine.travel(DAY, tick=False):
        r = api.put(
            "/api/v1/enterprises/me/consent/",
            {
                "shares_profile": False,
                "institutions": [
                    {
                        "institution": cast.bank_a.pk,
                        "purposes": ["application"],
                        "scope": ["financials"],
                        "expires_on": "2026-09-30",
                    }
                ],
            },
            format="json",
        )
        assert r.status_code == 200, r.json()
        a = {row["institution"]: row for row in r.json()["institutions"]}[cast.bank_a.pk]
        assert (a["granted"], a["purposes"], a["scope"], a["expires_on"]) == (
            True,
            ["application"],
            ["financials"],
            "2026-09-30",
        )
        assert scope(firm, cast.bank_a, "application") == {"financials"}
        # sending back what GET returned changes nothing
        again = api.put("/api/v1/enterprises/me/consent/", r.json(), format="json")
        assert again.status_code == 200 and again.json() == r.json()
        r = api.put(
            "/api/v1/enterprises/me/consent/",
            {"shares_profile": False, "institutions": [{"institution": cast.bank_a.pk, "granted": False}]},
            format="json",
        )
        a = {row["institution"]: row for row in r.json()["institutions"]}[cast.bank_a.pk]
        assert a["granted"] is False and a["status"] == "revoked"


@pytest.mark.parametrize(
    "row, field",
    [
        ({"purposes": ["marketing"]}, "purposes"),
        ({"scope": ["salary"]}, "scope"),
        ({"purposes": []}, "purposes"),
        ({"expires_on": "2027-03-03"}, "expires_on"),
        ({"expires_on": "not-a-date"}, "expires_on"),
    ],
)
def test_the_api_put_refuses_bad_values_under_the_field_and_saves_nothing(cast, api_for, firm, row, field):
    with time_machine.travel(DAY, tick=False):
        r = api_for(cast.firm_a).put(
            "/api/v1/enterprises/me/consent/",
            {"shares_profile": False, "institutions": [{"institution": cast.bank_a.pk, **row}]},
            format="json",
        )
    assert r.status_code == 400
    body = r.json()
    assert field in body or field in body["institutions"]["0"], body
    assert not ProfileConsent.objects.filter(enterprise=firm).exists()


def test_the_api_log_names_each_views_purpose(cast, api_for):
    firm = cast.firm_a.enterprise
    profile_view_record(viewer=cast.officer_a, enterprise=firm, purpose="application")
    profile_view_record(viewer=cast.officer_a, enterprise=firm)  # the old call still works
    rows = api_for(cast.firm_a).get("/api/v1/enterprises/me/views/").json()["results"]
    assert sorted(r["purpose"] for r in rows) == ["", "application"]


# -- the consent page ------------------------------------------------------------------------------


def test_the_page_shows_each_institutions_record_and_revokes_with_one_click(cast, client_for, firm):
    with time_machine.travel(DAY, tick=False):
        consent_grant(
            user=cast.firm_a,
            enterprise=firm,
            institution=cast.bank_a,
            purposes=["lead"],
            scope=["basic", "ip"],
        )
        c = client_for(cast.firm_a)
        page = c.get("/firm/consent/").content.decode()
        row = page[page.index(f'data-institution="{cast.bank_a.pk}"') :]
        row = row[: row.index("</details>")]
        assert 'data-status="active"' in row and "线索跟进" in row and 'data-purposes="lead"' in row
        assert 'data-scope="basic,ip"' in row and "基本信息、知识产权" in row
        assert "2026-03-02" in row and "2027-03-02" in row
        assert 'value="revoke"' in row and "data-confirm=" in row
        assert f'data-institution="{cast.bank_b.pk}" data-status="none"' in page
        r = c.post("/firm/consent/", {"action": "revoke", "institution": cast.bank_a.pk})
        assert r.status_code == 302
        assert scope(firm, cast.bank_a) == frozenset()
        assert (
            f'data-institution="{cast.bank_a.pk}" data-status="revoked"'
            in c.get("/firm/consent/").content.decode()
        )


def test_the_page_grants_with_chosen_purposes_scope_and_expiry(cast, client_for, firm):
    c = client_for(cast.firm_a)
    with time_machine.travel(DAY, tick=False):
        r = c.post(
            "/firm/consent/",
            {
                "action": "grant",
                "custom": "1",
                "institution": cast.bank_b.pk,
                "purposes": ["pool"],
                "scope": ["basic", "qualifications"],
                "expires_on": "2026-12-31",
            },
        )
        assert r.status_code == 302
        assert scope(firm, cast.bank_b, "pool") == {"basic", "qualifications"}
        assert scope(firm, cast.bank_b, "lead") == frozenset()
        assert ProfileConsent.objects.get(enterprise=firm, institution=cast.bank_b).expires_on == date(
            2026, 12, 31
        )
        # too long: refused with a Chinese message, nothing changed
        r = c.post(
            "/firm/consent/",
            {
                "action": "grant",
                "custom": "1",
                "institution": cast.bank_b.pk,
                "purposes": ["pool"],
                "scope": ["basic"],
                "expires_on": "2028-01-01",
            },
            follow=True,
        )
        assert "最长一年" in r.content.decode()
        assert ProfileConsent.objects.get(enterprise=firm, institution=cast.bank_b).expires_on == date(
            2026, 12, 31
        )


# -- applying shares the profile explicitly --------------------------------------------------------


APPLY = {"amount": "3000000.00", "term_months": 12, "purpose": "working_capital"}


@pytest.mark.parametrize("share", [None, False])
def test_applying_through_the_api_without_share_profile_is_400_and_saves_nothing(cast, api_for, firm, share):
    product = f.ProductFactory(institution=cast.bank_a)
    body = {"product": product.pk, **APPLY}
    if share is not None:
        body["share_profile"] = share
    r = api_for(cast.firm_a).post("/api/v1/applications/", body, format="json")
    assert r.status_code == 400 and "share_profile" in r.json()
    assert not Application.objects.exists()
    assert not ProfileConsent.objects.filter(enterprise=firm).exists()


def test_applying_with_share_profile_grants_the_application_consent_to_that_institution(cast, api_for, firm):
    product = f.ProductFactory(institution=cast.bank_a)
    with time_machine.travel(DAY, tick=False):
        r = api_for(cast.firm_a).post(
            "/api/v1/applications/", {"product": product.pk, **APPLY, "share_profile": True}, format="json"
        )
        assert r.status_code == 201, r.json()
        record = ProfileConsent.objects.get(enterprise=firm, institution=cast.bank_a)
        assert record.status == "active" and record.purposes == ["application"]
        assert record.expires_on == date(2027, 3, 2)
        assert scope(firm, cast.bank_a, "application") == ALL_GROUPS
        assert scope(firm, cast.bank_a, "lead") == frozenset()
        assert scope(firm, cast.bank_b) == frozenset()


def test_applying_extends_a_live_consent_and_keeps_its_other_purposes(cast, client_for, firm):
    product = f.ProductFactory(institution=cast.bank_a)
    with time_machine.travel(DAY, tick=False):
        consent_grant(
            user=cast.firm_a,
            enterprise=firm,
            institution=cast.bank_a,
            purposes=["lead"],
            expires_on=date(2026, 5, 1),
        )
    with time_machine.travel(datetime(2026, 4, 1, 10, 0, tzinfo=SHANGHAI), tick=False):
        c = client_for(cast.firm_a)
        page = c.get(f"/firm/apply/{product.pk}/").content.decode()
        assert (
            'id="share-profile"' in page and 'data-share-group="financials"' in page and "2027-04-01" in page
        )
        data = {"amount": "300", "term_months": "12", "purpose": "working_capital"}
        r = c.post(f"/firm/apply/{product.pk}/", data)
        assert r.status_code == 200 and "请勾选同意向该机构展示企业资料" in r.content.decode()
        assert not Application.objects.exists()
        assert c.post(f"/firm/apply/{product.pk}/", {**data, "share_profile": "on"}).status_code == 302
        record = ProfileConsent.objects.get(enterprise=firm, institution=cast.bank_a)
        assert record.purposes == ["lead", "application"] and record.expires_on == date(2027, 4, 1)
        assert Application.objects.count() == 1


def test_the_service_refuses_an_application_that_does_not_share_the_profile(cast, firm):
    from matching.services.applications import application_submit

    with pytest.raises(ServiceError) as exc:
        application_submit(
            user=cast.firm_a,
            product=f.ProductFactory(institution=cast.bank_a),
            amount=Decimal("1000000"),
            term_months=12,
            purpose="rd",
        )
    assert exc.value.field == "share_profile"
    assert not Application.objects.exists()


# -- the view log ----------------------------------------------------------------------------------


def test_opens_by_one_officer_within_an_hour_are_one_row_and_a_later_one_a_second(cast, client_for):
    firm = cast.firm_a.enterprise
    for minute in (0, 20, 50):
        with time_machine.travel(datetime(2026, 3, 2, 10, minute, tzinfo=SHANGHAI), tick=False):
            profile_view_record(viewer=cast.officer_a, enterprise=firm, purpose="lead")
    rows = profile_views_collapsed(firm)
    assert [(r["count"], r["purpose"]) for r in rows] == [(3, "lead")]
    with time_machine.travel(datetime(2026, 3, 2, 11, 5, tzinfo=SHANGHAI), tick=False):
        profile_view_record(viewer=cast.officer_a, enterprise=firm, purpose="lead")
    with time_machine.travel(datetime(2026, 3, 2, 11, 6, tzinfo=SHANGHAI), tick=False):
        profile_view_record(viewer=cast.officer_b, enterprise=firm, purpose="lead")
    rows = profile_views_collapsed(firm)
    assert [(r["viewer"], r["count"]) for r in rows] == [
        (cast.officer_b, 1),
        (cast.officer_a, 1),
        (cast.officer_a, 3),
    ]
    assert ProfileView.objects.filter(enterprise=firm).count() == 5
    page = client_for(cast.firm_a).get("/firm/consent/").content.decode()
    assert page.count("data-view=") == 3 and 'data-count="3"' in page and "线索跟进" in page
    assert "2026-03-02 10:00–10:50" in page


def test_a_view_records_whether_it_was_restricted_for_its_purpose(cast, firm):
    consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, purposes=["lead"])
    profile_view_record(viewer=cast.officer_a, enterprise=firm, purpose="lead")
    profile_view_record(viewer=cast.officer_a, enterprise=firm, purpose="application")
    assert list(ProfileView.objects.order_by("id").values_list("purpose", "restricted")) == [
        ("lead", False),
        ("application", True),
    ]


def test_a_record_shown_while_the_switch_also_covers_the_institution_says_so(cast, api_for):
    firm = cast.firm_a.enterprise  # the switch is on
    consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, purposes=["application"])
    rows = {
        r["institution"]: r
        for r in api_for(cast.firm_a).get("/api/v1/enterprises/me/consent/").json()["institutions"]
    }
    assert rows[cast.bank_a.pk]["source"] == "institution" and rows[cast.bank_a.pk]["via_all"] is True
    assert rows[cast.bank_b.pk]["source"] == "all" and rows[cast.bank_b.pk]["via_all"] is False
    assert scope(firm, cast.bank_a, "lead") == ALL_GROUPS  # the switch still gives the lead purpose
