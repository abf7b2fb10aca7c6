"""Idempotency-Key on API POSTs (portal/idempotency.py): the same key and body within 24 hours
replays the first answer and has one effect; another body → 422; two at once → exactly one effect
(the second gets 409 while the first is being served, forced by holding the first inside the act).
The leads come from a real matching run (tests/portal/conftest.py)."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from matching.models import Match
from matching.services import leads as lead_services
from portal.idempotency import idempotency_cleanup
from portal.models import IdempotencyKey, Transition
from tests.portal.test_api_clients import bearer, create_client, token_for

pytestmark = pytest.mark.django_db


def session_api(user) -> APIClient:
    api = APIClient()
    api.force_login(user)  # a real session: the key is scoped to the user DRF authenticates
    return api


def claims(lead) -> int:
    return Transition.objects.filter(object_id=lead.pk, to_state=Match.Status.CLAIMED).count()


def test_the_same_key_twice_claims_once_and_answers_the_same(cast, leads):
    lead = leads[0]
    api = session_api(cast.officer_a)
    url = f"/api/v1/matches/{lead.pk}/claim/"
    first = api.post(url, {"note": "接单"}, format="json", HTTP_IDEMPOTENCY_KEY="claim-1")
    second = api.post(url, {"note": "接单"}, format="json", HTTP_IDEMPOTENCY_KEY="claim-1")
    assert first.status_code == 200 and second.status_code == 200
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert claims(lead) == 1
    without_key = api.post(url, {"note": "接单"}, format="json")
    assert without_key.status_code == 409  # a plain repeat is not replayed: the service refuses it
    assert claims(lead) == 1


def test_the_same_key_with_another_body_is_422_and_does_nothing(cast, leads):
    lead = leads[0]
    api = session_api(cast.officer_a)
    url = f"/api/v1/matches/{lead.pk}/contact/"
    api.post(f"/api/v1/matches/{lead.pk}/claim/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-claim")
    first = api.post(
        url, {"channel": "phone", "note": "已致电"}, format="json", HTTP_IDEMPOTENCY_KEY="k-contact"
    )
    assert first.status_code == 200, first.content
    other = api.post(
        url, {"channel": "visit", "note": "上门"}, format="json", HTTP_IDEMPOTENCY_KEY="k-contact"
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json()["detail"] and "请求" in other.json()["detail"]
    assert Transition.objects.filter(object_id=lead.pk, to_state=Match.Status.CONTACTED).count() == 1
    elsewhere = api.post(
        f"/api/v1/matches/{lead.pk}/invite/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-claim"
    )
    assert elsewhere.status_code == 422  # another path under the same key
    lead.refresh_from_db()
    assert lead.status == Match.Status.CONTACTED


def test_keys_belong_to_one_user_and_token_and_machine_clients_use_them_too(cast, leads):
    lead = leads[0]
    token = Token.objects.create(user=cast.officer_a2)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    refused = api.post(f"/api/v1/matches/{lead.pk}/claim/", {}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    machine = bearer(token_for(create_client(cast, ["leads:read", "leads:write"])))
    won = machine.post(f"/api/v1/matches/{lead.pk}/claim/", {}, format="json", HTTP_IDEMPOTENCY_KEY="other")
    assert refused.status_code == 200 and won.status_code == 409  # officer_a2 claimed first
    again = machine.post(f"/api/v1/matches/{lead.pk}/claim/", {}, format="json", HTTP_IDEMPOTENCY_KEY="other")
    assert again.status_code == 409 and again["Idempotent-Replayed"] == "true" and again.json() == won.json()
    assert IdempotencyKey.objects.filter(key="same", user=cast.officer_a2).exists()
    assert claims(lead) == 1


def test_after_24_hours_the_key_is_forgotten_and_the_nightly_cleanup_deletes_it(cast, leads):
    lead = leads[0]
    api = session_api(cast.officer_a)
    api.post(f"/api/v1/matches/{lead.pk}/claim/", {}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert idempotency_cleanup() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert idempotency_cleanup() == 1
    assert not IdempotencyKey.objects.exists()


def test_an_overlong_key_is_refused(cast, leads):
    response = session_api(cast.officer_a).post(
        f"/api/v1/matches/{leads[0].pk}/claim/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400 and claims(leads[0]) == 0


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_the_same_key_at_once_have_exactly_one_effect(cast, leads, monkeypatch):
    """Forced interleaving on PostgreSQL: the first request holds inside the claim (its key already
    claimed) while the second arrives; the second gets 409 处理中; then the first finishes."""
    lead = leads[0]
    url = f"/api/v1/matches/{lead.pk}/claim/"
    inside, release = threading.Event(), threading.Event()
    real_claim = lead_services.lead_claim

    def held_claim(**kwargs):
        inside.set()
        assert release.wait(10)
        return real_claim(**kwargs)

    monkeypatch.setattr(lead_services, "lead_claim", held_claim)
    answers = {}

    def first():
        try:
            answers["first"] = session_api(cast.officer_a).post(
                url, {}, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(10)
    second = session_api(cast.officer_a).post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="race")
    release.set()
    thread.join(10)
    assert second.status_code == 409 and second.json()["code"] == "idempotency_in_progress"
    assert "处理中" in second.json()["detail"]
    assert answers["first"].status_code == 200
    assert claims(lead) == 1
    replay = session_api(cast.officer_a).post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="race")
    assert replay.status_code == 200 and replay.json() == answers["first"].json()
