"""The audit log: logins, logouts, failed logins, state changes and refused access are recorded with
who, when, what and from where — never a password or token; staff search it; nobody edits it."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from portal.audit import MASK, audit_event_for_user, scrub
from portal.models import AuditEvent
from portal.services import transition_record
from tests import factories as f
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

A = AuditEvent.Action


def row_text(event: AuditEvent) -> str:
    """Every stored value of the row, as one string."""
    values = {field.attname: getattr(event, field.attname) for field in AuditEvent._meta.fields}
    return json.dumps(values, default=str, ensure_ascii=False)


# --- logins, logouts, failed logins ----------------------------------------------------------------


def test_a_login_is_recorded_with_the_user_ip_and_user_agent_and_no_password(client, cast):
    response = client.post(
        reverse("login"),
        {"username": "firm_a", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="KejinTest/1.0",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=A.LOGIN)
    assert event.user == cast.firm_a and event.username == "firm_a"
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent == "KejinTest/1.0"
    assert PASSWORD not in row_text(event)


def test_a_logout_is_recorded(client, cast):
    client.force_login(cast.officer_a)
    response = client.post(reverse("logout"), REMOTE_ADDR="198.51.100.2")
    assert response.status_code in (200, 302)
    event = AuditEvent.objects.get(action=A.LOGOUT)
    assert event.user == cast.officer_a and event.username == "officer_a"
    assert event.ip_address == "198.51.100.2"


def test_a_failed_login_records_the_username_attempted_and_never_the_password(client, cast):
    secret = "Wrong-Pa55word-xyz"
    response = client.post(
        reverse("login"), {"username": "firm_a", "password": secret}, REMOTE_ADDR="192.0.2.9"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=A.LOGIN_FAILED)
    assert event.username == "firm_a"
    assert event.user is None
    assert event.ip_address == "192.0.2.9"
    text = row_text(event)
    assert secret not in text and PASSWORD not in text
    assert "password" not in json.dumps(event.detail)


def test_x_forwarded_for_is_ignored_unless_the_setting_trusts_it(client, cast, settings):
    client.post(
        reverse("login"),
        {"username": "firm_a", "password": "nope-1"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    assert AuditEvent.objects.get(action=A.LOGIN_FAILED).ip_address == "10.0.0.1"
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    client.post(
        reverse("login"),
        {"username": "firm_b", "password": "nope-2"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.1",
    )
    assert AuditEvent.objects.get(action=A.LOGIN_FAILED, username="firm_b").ip_address == "1.2.3.4"


# --- state changes ---------------------------------------------------------------------------------


def test_an_application_transition_through_the_bank_api_is_recorded_with_the_actor_and_ip(cast, api_for):
    product = f.ProductFactory(institution=cast.bank_a)
    app = f.ApplicationFactory(enterprise=cast.firm_a.enterprise, product=product, status="submitted")
    response = api_for(cast.officer_a).post(
        f"/api/v1/applications/{app.pk}/transition/",
        {"action": "accept", "note": "材料齐全，予以受理"},
        format="json",
        REMOTE_ADDR="203.0.113.50",
        HTTP_USER_AGENT="BankClient/2.0",
    )
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(action=A.STATE_CHANGE, object_type="matching.application")
    assert event.object_id == str(app.pk)
    assert (event.from_state, event.to_state) == ("submitted", "accepted")
    assert event.user == cast.officer_a and event.username == "officer_a"
    assert event.ip_address == "203.0.113.50"
    assert event.user_agent == "BankClient/2.0"


def test_a_state_change_outside_a_request_is_recorded_without_an_address(cast):
    firm = cast.firm_a.enterprise
    transition_record(subject=firm, from_state="pending", to_state="verified", actor=cast.staff)
    event = AuditEvent.objects.filter(action=A.STATE_CHANGE).latest("id")
    assert event.object_type == "enterprises.enterprise" and event.object_id == str(firm.pk)
    assert event.user == cast.staff and event.ip_address is None


def test_secrets_in_a_state_change_detail_are_masked(cast):
    transition_record(
        subject=cast.bank_a,
        from_state="",
        to_state="rotated",
        actor=cast.manager_a,
        data={"webhook_secret": "s3cr3t", "nested": {"api_token": "tok-1", "otp_code": "123456"}, "n": 2},
    )
    event = AuditEvent.objects.filter(action=A.STATE_CHANGE).latest("id")
    text = row_text(event)
    assert "s3cr3t" not in text and "tok-1" not in text and "123456" not in text
    assert event.detail["data"] == {
        "webhook_secret": MASK,
        "nested": {"api_token": MASK, "otp_code": MASK},
        "n": 2,
    }


def test_scrub_masks_password_token_secret_and_otp_keys_at_any_depth():
    assert scrub(
        {"password": "a", "list": [{"Token": "b"}, {"ok": 1}], "client_secret": "c", "otp": "d"}
    ) == {
        "password": MASK,
        "list": [{"Token": MASK}, {"ok": 1}],
        "client_secret": MASK,
        "otp": MASK,
    }


# --- refused access --------------------------------------------------------------------------------


def test_a_404_on_another_firms_need_is_recorded_as_refused_access(cast, client_for, api_for):
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    page = client_for(cast.firm_b).get(f"/firm/needs/{need.pk}/edit/", REMOTE_ADDR="192.0.2.44")
    assert page.status_code == 404
    api = api_for(cast.firm_b).get(f"/api/v1/needs/{need.pk}/")
    assert api.status_code == 404
    events = list(AuditEvent.objects.filter(action=A.ACCESS_REFUSED).order_by("id"))
    assert [(e.object_type, e.object_id, e.detail["status"]) for e in events] == [
        ("enterprises:need_edit", str(need.pk), 404),
        ("need-detail", str(need.pk), 404),
    ]
    assert all(e.user == cast.firm_b for e in events)
    assert events[0].ip_address == "192.0.2.44"


def test_a_403_on_a_wrong_role_page_is_recorded_as_refused_access(cast, client_for, api_for):
    assert client_for(cast.firm_a).get(reverse("portal:staff_workspace")).status_code == 403
    assert api_for(cast.firm_a).get("/api/v1/audit/").status_code == 403
    events = list(AuditEvent.objects.filter(action=A.ACCESS_REFUSED).order_by("id"))
    assert [(e.object_type, e.detail["status"], e.username) for e in events] == [
        ("portal:staff_workspace", 403, "firm_a"),
        ("audit-event-list", 403, "firm_a"),
    ]


def test_a_404_on_a_route_without_an_object_and_anonymous_refusals_are_not_recorded(cast, client, client_for):
    assert client_for(cast.firm_a).get("/no-such-page/").status_code == 404
    assert client.get("/api/v1/audit/").status_code in (401, 403)
    assert not AuditEvent.objects.filter(action=A.ACCESS_REFUSED).exists()


# --- the staff search page and the API -------------------------------------------------------------


@pytest.mark.parametrize("who", ["firm_a", "officer_a", "manager_a"])
def test_the_audit_page_and_api_are_staff_only(cast, client_for, api_for, who):
    user = getattr(cast, who)
    assert client_for(user).get(reverse("portal:audit")).status_code == 403
    assert api_for(user).get("/api/v1/audit/").status_code == 403
    assert not audit_event_for_user(user).exists()


def test_anonymous_users_are_sent_to_login_from_the_audit_page(client):
    response = client.get(reverse("portal:audit"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def seed_events(cast):
    now = timezone.now()
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action=A.LOGIN_FAILED,
                username="intruder",
                ip_address="198.51.100.66",
                at=now - timedelta(days=3),
            ),
            AuditEvent(
                action=A.STATE_CHANGE,
                user=cast.officer_a,
                username="officer_a",
                object_type="matching.application",
                object_id="4242",
                from_state="submitted",
                to_state="accepted",
                ip_address="203.0.113.5",
                at=now,
            ),
            AuditEvent(
                action=A.ACCESS_REFUSED,
                user=cast.firm_b,
                username="firm_b",
                object_type="enterprises:need_edit",
                object_id="77",
                detail={"status": 404},
                ip_address="192.0.2.1",
                at=now,
            ),
        ]
    )


def test_staff_can_search_the_audit_page_by_user_action_object_date_and_ip(cast, client_for):
    seed_events(cast)
    c = client_for(cast.staff)
    url = reverse("portal:audit")

    def rows(**params):
        response = c.get(url, params)
        assert response.status_code == 200
        return {e.username for e in response.context["page"]}

    assert rows(user="officer") == {"officer_a"}
    assert rows(action="login_failed") == {"intruder"}
    assert rows(object_type="application", object_id="4242") == {"officer_a"}
    assert rows(ip="192.0.2.1") == {"firm_b"}
    assert rows(ip="not-an-ip") == set()
    today = timezone.localdate().isoformat()
    assert "intruder" not in rows(date_from=today, date_to=today)
    old = (timezone.localdate() - timedelta(days=3)).isoformat()
    assert rows(date_from=old, date_to=old) == {"intruder"}
    page = c.get(url, {"action": "access_refused"}).content.decode()
    assert "enterprises:need_edit #77" in page


def test_the_staff_workspace_links_to_the_audit_page(cast, client_for):
    page = client_for(cast.staff).get(reverse("portal:staff_workspace")).content.decode()
    assert reverse("portal:audit") in page


def test_the_audit_api_is_filterable_and_paginated_for_staff(cast, api_for):
    seed_events(cast)
    api = api_for(cast.staff)
    body = api.get("/api/v1/audit/", {"action": "state_change", "object_id": "4242"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (
        row["username"] == "officer_a"
        and row["to_state"] == "accepted"
        and row["ip_address"] == "203.0.113.5"
    )
    assert api.get("/api/v1/audit/", {"page_size": 1}).json()["next"]


def test_the_audit_api_has_no_write_route(cast, api_for):
    event = seed_events(cast)[0]
    api = api_for(cast.staff)
    assert api.post("/api/v1/audit/", {"action": "login"}, format="json").status_code == 405
    assert api.delete("/api/v1/audit/").status_code == 405
    assert api.patch(f"/api/v1/audit/{event.pk}/", {"username": "x"}, format="json").status_code == 404
    assert AuditEvent.objects.filter(pk=event.pk, username="intruder").exists()


# --- nobody edits it -------------------------------------------------------------------------------


@pytest.fixture
def admin_client_(client):
    admin = get_user_model().objects.create_superuser("root", "root@kejin.example", PASSWORD)
    client.force_login(admin)
    return client


def test_the_admin_refuses_to_add_change_or_delete_an_audit_event(cast, admin_client_):
    event = seed_events(cast)[1]
    base = "/admin/portal/auditevent/"
    assert admin_client_.get(base).status_code == 200
    assert admin_client_.get(f"{base}add/").status_code == 403
    assert admin_client_.post(f"{base}add/", {"action": "login", "username": "forged"}).status_code == 403
    assert admin_client_.post(f"{base}{event.pk}/change/", {"username": "forged"}).status_code == 403
    assert admin_client_.get(f"{base}{event.pk}/delete/").status_code == 403
    assert admin_client_.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client_.post(
        base, {"action": "delete_selected", "_selected_action": [event.pk]}
    ).status_code in (200, 302)
    event.refresh_from_db()
    assert event.username == "officer_a"
    assert not AuditEvent.objects.filter(username="forged").exists()


def test_a_saved_event_cannot_be_changed_or_deleted_through_the_model(cast):
    event = AuditEvent.objects.create(action=A.LOGIN, username="x")
    event.username = "y"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


# --- query counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 50])
def test_the_audit_list_page_and_api_use_a_constant_number_of_queries(
    cast, client_for, api_for, django_assert_max_num_queries, rows
):
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action=A.STATE_CHANGE,
                user=cast.officer_a,
                username="officer_a",
                object_type="matching.application",
                object_id=str(i),
                from_state="submitted",
                to_state="accepted",
                detail={"note": f"第 {i} 条"},
                ip_address="203.0.113.5",
            )
            for i in range(rows)
        ]
    )
    c = client_for(cast.staff)
    api = api_for(cast.staff)
    with django_assert_max_num_queries(8):
        response = c.get(reverse("portal:audit"))
    assert response.status_code == 200 and len(response.context["page"]) >= rows
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/audit/").json()
    assert body["count"] >= rows
