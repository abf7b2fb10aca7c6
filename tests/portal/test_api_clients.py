"""Banks' systems as OAuth2 clients (client credentials): created by a manager with a password
confirmation, the secret shown once, a Bearer token that acts as the institution within its
scopes, no password step for its acts, audited as the client, and dead at once when revoked or
expired. The leads come from a real matching run."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import Application
from rest_framework.test import APIClient

from lenders.models import ApiClient
from matching.models import Match
from portal.models import AuditEvent, Transition
from tests import factories as f

pytestmark = pytest.mark.django_db


def manager_api(cast, *, confirm=True):
    api = APIClient()
    api.force_authenticate(cast.manager_a)
    if confirm:
        assert api.post("/api/v1/auth/confirm/", {"password": f.PASSWORD}, format="json").status_code == 204
    return api


def create_client(cast, scopes, **extra):
    response = manager_api(cast).post(
        "/api/v1/api-clients/", {"name": "甲行信贷系统", "scopes": scopes, **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def token_for(created) -> str:
    basic = base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()
    response = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    return body["access_token"]


def bearer(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_creating_a_client_needs_the_managers_password_confirmation(cast):
    refused = manager_api(cast, confirm=False).post(
        "/api/v1/api-clients/", {"name": "甲行信贷系统", "scopes": ["leads:read"]}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["code"] == "reauth_required"
    assert not ApiClient.objects.exists()


def test_officers_and_other_roles_cannot_create_clients(cast):
    api = APIClient()
    api.force_authenticate(cast.officer_a)
    response = api.post("/api/v1/api-clients/", {"name": "x", "scopes": ["leads:read"]}, format="json")
    assert response.status_code == 403 and not ApiClient.objects.exists()


def test_the_secret_is_only_in_the_creation_response(cast, client_for):
    created = create_client(cast, ["leads:read"])
    assert set(created) >= {"client_id", "client_secret", "scopes"} and created["scopes"] == ["leads:read"]
    secret = created["client_secret"]
    listed = manager_api(cast).get("/api/v1/api-clients/")
    assert listed.status_code == 200
    assert created["client_id"] in listed.content.decode() and secret not in listed.content.decode()
    assert "client_secret" not in listed.json()["results"][0]
    page = client_for(cast.manager_a).get("/bank/api-clients/")
    assert page.status_code == 200 and "甲行信贷系统" in page.content.decode()
    assert secret not in page.content.decode()
    assert Application.objects.get(client_id=created["client_id"]).client_secret != secret  # stored hashed
    assert secret not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def test_a_client_with_leads_read_lists_only_its_institutions_leads_and_cannot_claim(cast, leads):
    lead_a, lead_b = leads
    api = bearer(token_for(create_client(cast, ["leads:read"])))
    listed = api.get("/api/v1/matches/")
    assert listed.status_code == 200
    ids = {row["id"] for row in listed.json()["results"]}
    assert lead_a.pk in ids and lead_b.pk not in ids
    assert api.get(f"/api/v1/matches/{lead_b.pk}/").status_code == 404
    refused = api.post(f"/api/v1/matches/{lead_a.pk}/claim/", {}, format="json")
    assert refused.status_code == 403
    lead_a.refresh_from_db()
    assert lead_a.status == Match.Status.SUGGESTED and lead_a.assigned_officer_id is None


def test_a_client_with_leads_write_claims_without_a_password_and_is_audited_as_the_client(cast, leads):
    lead_a, _lead_b = leads
    created = create_client(cast, ["leads:read", "leads:write"])
    client = ApiClient.objects.get(application__client_id=created["client_id"])
    api = bearer(token_for(created))
    claimed = api.post(f"/api/v1/matches/{lead_a.pk}/claim/", {"note": "系统自动认领"}, format="json")
    assert claimed.status_code == 200, claimed.content
    lead_a.refresh_from_db()
    assert lead_a.status == Match.Status.CLAIMED and lead_a.assigned_officer_id == client.user_id
    transition = Transition.objects.get(object_id=lead_a.pk, to_state=Match.Status.CLAIMED)
    assert transition.actor_id == client.user_id
    event = AuditEvent.objects.filter(to_state=Match.Status.CLAIMED).latest("id")
    assert event.user_id == client.user_id and "甲行信贷系统" in event.username
    client.refresh_from_db()
    assert client.last_used_at is not None


def test_a_client_with_applications_write_approves_without_the_password_step(cast, leads):
    from tests.lenders.conftest import make_application

    application = make_application(cast, leads[0].product, status="accepted")
    api = bearer(token_for(create_client(cast, ["applications:read", "applications:write"])))
    response = api.post(
        f"/api/v1/applications/{application.pk}/transition/",
        {"action": "approve", "credit_line": "3000000.00", "annual_rate": "4.000", "term_months": 12},
        format="json",
    )
    assert response.status_code == 200, response.content
    application.refresh_from_db()
    assert application.status == "approved"


def test_a_missing_scope_and_an_unscoped_route_are_refused(cast, leads):
    api = bearer(token_for(create_client(cast, ["leads:read"])))
    assert api.get("/api/v1/applications/").status_code == 403
    assert api.get("/api/v1/webhook/").status_code == 403
    assert api.get("/api/v1/pools/").status_code == 403  # no client_scope: never open to machines
    assert api.get("/api/v1/api-clients/").status_code == 403  # a client cannot mint clients
    assert api.post("/api/v1/auth/confirm/", {"password": "x"}, format="json").status_code == 403


def test_a_revoked_clients_token_is_refused_and_it_gets_no_new_one(cast, leads):
    created = create_client(cast, ["leads:read"])
    token = token_for(created)
    assert bearer(token).get("/api/v1/matches/").status_code == 200
    client = ApiClient.objects.get(application__client_id=created["client_id"])
    revoked = manager_api(cast).post(f"/api/v1/api-clients/{client.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    refused = bearer(token).get("/api/v1/matches/")
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    basic = base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()
    again = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert again.status_code == 401


def test_an_expired_clients_token_is_refused(cast, leads):
    created = create_client(cast, ["leads:read"], expires_at=(timezone.now() + timedelta(days=1)).isoformat())
    token = token_for(created)
    ApiClient.objects.filter(application__client_id=created["client_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert bearer(token).get("/api/v1/matches/").status_code == 401


def test_a_bogus_bearer_token_is_401_and_people_keep_their_session_and_token_auth(cast, leads):
    assert bearer("not-a-token").get("/api/v1/matches/").status_code == 401
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=cast.officer_a)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert leads[0].pk in {row["id"] for row in api.get("/api/v1/matches/").json()["results"]}


def test_the_page_creates_after_confirmation_shows_the_secret_once_and_revokes_after_confirming(
    cast, client_for
):
    from tests.conftest import reauth_session

    page = reauth_session(client_for(cast.manager_a))
    created = page.post(
        "/bank/api-clients/", {"name": "甲行网页建", "scopes": ["leads:read", "webhooks:write"]}
    )
    assert created.status_code == 200
    client = ApiClient.objects.get(name="甲行网页建")
    assert client.scopes == ["leads:read", "webhooks:write"]
    assert "data-client-secret" in created.content.decode()
    assert "data-client-secret" not in page.get("/bank/api-clients/").content.decode()
    confirm = page.get(f"/bank/api-clients/{client.pk}/revoke/")
    assert confirm.status_code == 200 and "确定吊销" in confirm.content.decode()
    client.refresh_from_db()
    assert client.revoked_at is None  # the GET only asks
    page.post(f"/bank/api-clients/{client.pk}/revoke/")
    client.refresh_from_db()
    assert client.revoked_at is not None and not client.user.is_active
