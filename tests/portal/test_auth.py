"""Login, logout and each role's landing page, through HTTP."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "landing", "marker"),
    [
        ("firm_a", "/firm/", 'data-workspace="firm"'),
        ("officer_a", "/bank/", 'data-workspace="bank"'),
        ("manager_a", "/bank/", 'data-workspace="bank"'),
        ("staff", "/staff/", 'data-workspace="staff"'),
    ],
)
def test_each_role_lands_on_its_own_workspace_after_login(client, cast, who, landing, marker):
    response = client.post(reverse("login"), {"username": who, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == landing
    assert marker in response.content.decode()


def test_wrong_password_shows_a_chinese_error_and_logs_nobody_in(client, cast):
    response = client.post(reverse("login"), {"username": "firm_a", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("firm_a", "/bank/"),
        ("firm_a", "/staff/"),
        ("officer_a", "/firm/"),
        ("officer_a", "/staff/"),
        ("staff", "/firm/"),
        ("staff", "/bank/"),
    ],
)
def test_a_workspace_of_another_role_is_forbidden(client_for, cast, who, url):
    assert client_for(getattr(cast, who)).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/firm/", "/bank/", "/staff/", "/notifications/"])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_logout_ends_the_session(client, cast):
    client.force_login(cast.firm_a)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/firm/").status_code == 302


def test_password_change_page_works_for_a_logged_in_user(client_for, cast):
    response = client_for(cast.firm_a).get(reverse("password_change"))
    assert response.status_code == 200
    assert "修改密码" in response.content.decode()


def test_public_pages_render_in_chinese(client, db):
    home = client.get("/")
    assert home.status_code == 200
    assert "科金直通车" in home.content.decode()
    assert client.get("/products/").status_code == 200
    health = client.get("/healthz/")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_api_token_is_issued_for_good_credentials_and_authenticates(client, cast):
    from rest_framework.test import APIClient

    api = APIClient()
    bad = api.post("/api/v1/auth/token/", {"username": "firm_a", "password": "nope"}, format="json")
    assert bad.status_code == 400
    good = api.post("/api/v1/auth/token/", {"username": "firm_a", "password": PASSWORD}, format="json")
    assert good.status_code == 200
    token = good.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/products/").status_code == 200
