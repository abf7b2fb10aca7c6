"""Authentication and session security through HTTP: login lockout (django-axes), API throttles,
production cookies, password reset by e-mail, idle timeout, session id rotation, re-authentication
before sensitive acts, the optional TOTP second factor (django-otp) and the CSP header."""

import base64
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from matching.models import Application
from portal.middleware import LAST_SEEN_KEY
from subsidies.models import Claim
from tests import factories as f
from tests.lenders.conftest import make_application
from tests.subsidies.test_pages_and_api import make_claim

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Kejin-pass-2026"
APPROVE = {"action": "approve", "credit_line": "250", "annual_rate": "4.1", "term_months": "12"}
API_APPROVE = {"action": "approve", "credit_line": "2500000.00", "annual_rate": "4.100", "term_months": 12}


def with_password(user):
    user.set_password(PASSWORD)
    user.save()
    return user


def login_post(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


# ------------------------------------------------------------------------------------------------
# Login throttling (django-axes)
# ------------------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_that_username_from_that_address_with_a_chinese_message(cast):
    with_password(cast.officer_a)
    c = Client()
    for _ in range(4):
        assert login_post(c, "officer_a", "wrong").status_code == 200
    locked = login_post(c, "officer_a", "wrong")
    assert locked.status_code == 429
    assert "连续 5 次输入错误的密码" in locked.content.decode() and "15 分钟" in locked.content.decode()
    # Even the right password is refused while locked, and the user is not logged in.
    right = login_post(c, "officer_a")
    assert right.status_code == 429 and "_auth_user_id" not in c.session
    # Another address, or another username from the same address, is not locked.
    assert login_post(Client(), "officer_a", ip="10.0.0.2").status_code == 302
    with_password(cast.firm_a)
    assert login_post(Client(), "firm_a", ip="10.0.0.1").status_code == 302


def test_the_lock_lifts_after_fifteen_minutes(cast):
    with_password(cast.officer_a)
    c = Client()
    for _ in range(5):
        login_post(c, "officer_a", "wrong")
    assert login_post(c, "officer_a").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert login_post(c, "officer_a").status_code == 302


def test_a_successful_login_resets_the_failure_count(cast):
    with_password(cast.officer_a)
    c = Client()
    for _ in range(4):
        login_post(c, "officer_a", "wrong")
    assert login_post(c, "officer_a").status_code == 302
    c.post("/accounts/logout/")
    for _ in range(4):
        assert login_post(c, "officer_a", "wrong").status_code == 200
    assert login_post(c, "officer_a").status_code == 302


def test_the_api_token_endpoint_still_authenticates_through_axes(cast):
    with_password(cast.firm_a)
    api = APIClient()
    assert api.post("/api/v1/auth/token/", {"username": "firm_a", "password": "nope"}).status_code == 400
    ok = api.post("/api/v1/auth/token/", {"username": "firm_a", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["token"]


# ------------------------------------------------------------------------------------------------
# API throttling
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def throttled(settings):
    settings.API_THROTTLE_DISABLED = False
    cache.clear()
    yield settings
    cache.clear()


def test_the_eleventh_token_request_in_a_minute_gets_429_in_chinese(cast, throttled):
    with_password(cast.firm_a)
    api = APIClient()
    for _ in range(10):
        assert (
            api.post("/api/v1/auth/token/", {"username": "firm_a", "password": PASSWORD}).status_code == 200
        )
    eleventh = api.post("/api/v1/auth/token/", {"username": "firm_a", "password": PASSWORD})
    assert eleventh.status_code == 429
    assert "请求过于频繁" in eleventh.json()["detail"] and eleventh.json()["code"] == "throttled"
    assert int(eleventh["Retry-After"]) > 0


def test_anonymous_and_user_rates_come_from_settings_and_can_be_switched_off(cast, throttled):
    throttled.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "3/min", "api-token": "10/min"},
    }
    anon = APIClient()
    assert [anon.get("/api/v1/products/").status_code for _ in range(3)][-1] == 429
    user = APIClient()
    user.force_authenticate(cast.firm_a)
    codes = [user.get("/api/v1/products/").status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    throttled.API_THROTTLE_DISABLED = True
    assert anon.get("/api/v1/products/").status_code != 429


# ------------------------------------------------------------------------------------------------
# Cookies in production
# ------------------------------------------------------------------------------------------------


def test_production_cookies_are_secure_httponly_and_lax():
    code = (
        "import sys, django; django.setup(); from django.conf import settings as s; "
        "sys.stdout.write(' '.join(map(str, (s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SECURE, s.AXES_ENABLED, s.API_THROTTLE_DISABLED, "
        "s.IDLE_TIMEOUT_MINUTES))))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(
        {"DEBUG": "0", "SECRET_KEY": "k3j1n-" + "x7Qp9zR2vT5wY8bN4mL6" * 3, "ALLOWED_HOSTS": "kejin.cn"}
    )
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-7:] == ["True", "True", "Lax", "True", "True", "False", "30"]


# ------------------------------------------------------------------------------------------------
# Password reset by e-mail
# ------------------------------------------------------------------------------------------------


def test_password_reset_mails_a_link_that_sets_a_new_password(cast):
    user = cast.officer_a
    user.email = "officer_a@bank-a.example"
    user.save()
    c = Client()
    assert "忘记密码？" in c.get("/accounts/login/").content.decode()
    form = c.get("/accounts/password_reset/")
    assert form.status_code == 200 and "重设密码" in form.content.decode()
    done = c.post("/accounts/password_reset/", {"email": "officer_a@bank-a.example"}, follow=True)
    assert "请查收邮件" in done.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["officer_a@bank-a.example"] and "重设密码" in message.subject
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)
    confirm = c.get(link, follow=True)
    assert "设置新密码" in confirm.content.decode()
    set_url = confirm.redirect_chain[-1][0]
    new = "Brand-new-Pass-77"
    complete = c.post(set_url, {"new_password1": new, "new_password2": new}, follow=True)
    assert "密码已重设" in complete.content.decode()
    user.refresh_from_db()
    assert user.check_password(new)
    assert login_post(Client(), "officer_a", new).status_code == 302
    # The link works once.
    assert "已失效" in Client().get(link, follow=True).content.decode()


def test_an_unknown_email_sends_nothing_but_says_the_same(db):
    done = Client().post("/accounts/password_reset/", {"email": "nobody@nowhere.example"}, follow=True)
    assert "请查收邮件" in done.content.decode() and mail.outbox == []


# ------------------------------------------------------------------------------------------------
# Sessions: new id at login, logout kills the cookie, idle timeout
# ------------------------------------------------------------------------------------------------


def test_login_gives_a_new_session_id_and_logout_invalidates_the_old_cookie(cast):
    with_password(cast.officer_a)
    c = Client()
    c.get("/accounts/login/")
    session = c.session
    session["probe"] = 1
    session.save()
    before = c.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert login_post(c, "officer_a").status_code == 302
    after = c.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert c.get("/bank/").status_code == 200
    c.post("/accounts/logout/")
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = after
    response = replay.get("/bank/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _idle(client, minutes):
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - minutes * 60
    session.save()


@pytest.mark.parametrize("who", ["officer_a", "manager_a", "staff"])
def test_bank_and_staff_users_are_logged_out_after_thirty_idle_minutes(cast, client_for, who):
    c = client_for(getattr(cast, who))
    assert c.get("/notifications/").status_code == 200
    _idle(c, 29)
    assert c.get("/notifications/").status_code == 200
    _idle(c, 31)
    response = c.get("/notifications/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/?next=/notifications/")
    assert "30 分钟未操作" in response.content.decode()
    assert "_auth_user_id" not in c.session


def test_firm_users_are_not_affected_by_the_idle_timeout(cast, client_for):
    c = client_for(cast.firm_a)
    c.get("/notifications/")
    _idle(c, 120)
    assert c.get("/notifications/").status_code == 200


def test_the_idle_timeout_answers_the_api_with_401(cast, client_for):
    c = client_for(cast.officer_a)
    c.get("/notifications/")
    _idle(c, 31)
    response = c.get("/api/v1/products/")
    assert response.status_code == 401 and response.json()["code"] == "session_expired"


# ------------------------------------------------------------------------------------------------
# Re-authentication before approving a credit line, a subsidy claim or rotating a webhook secret
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def accepted(cast):
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    return make_application(cast, product, status="accepted")


def test_approving_a_credit_line_asks_for_the_password_then_goes_back(cast, client_for, accepted):
    with_password(cast.officer_a)
    c = client_for(cast.officer_a)
    detail = f"/bank/applications/{accepted.pk}/"
    first = c.post(f"{detail}transition/", APPROVE, HTTP_REFERER=f"http://testserver{detail}")
    assert first.status_code == 302 and first["Location"].startswith("/accounts/confirm/?next=")
    accepted.refresh_from_db()
    assert accepted.status == Application.Status.ACCEPTED
    page = c.get(first["Location"])
    assert page.status_code == 200 and "确认密码" in page.content.decode()
    wrong = c.post(first["Location"], {"password": "wrong", "next": f"http://testserver{detail}"})
    assert wrong.status_code == 400 and "密码不正确" in wrong.content.decode()
    ok = c.post("/accounts/confirm/", {"password": PASSWORD, "next": f"http://testserver{detail}"})
    assert ok.status_code == 302 and ok["Location"] == f"http://testserver{detail}"
    assert c.post(f"{detail}transition/", APPROVE).status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == Application.Status.APPROVED


def test_other_actions_do_not_need_a_confirmation(cast, client_for, accepted):
    c = client_for(cast.officer_a)
    response = c.post(
        f"/bank/applications/{accepted.pk}/transition/", {"action": "reject", "reason": "资料不全"}
    )
    assert not response.get("Location", "").startswith("/accounts/confirm/")


def test_the_confirmation_expires_after_ten_minutes(cast, client_for, accepted, reauthed):
    from portal.reauth import SESSION_KEY

    c = reauthed(client_for(cast.officer_a))
    session = c.session
    session[SESSION_KEY]["at"] -= 11 * 60
    session.save()
    response = c.post(f"/bank/applications/{accepted.pk}/transition/", APPROVE)
    assert response["Location"].startswith("/accounts/confirm/")


def test_a_password_login_counts_as_a_fresh_confirmation(cast, accepted):
    with_password(cast.officer_a)
    c = Client()
    login_post(c, "officer_a")
    assert c.post(f"/bank/applications/{accepted.pk}/transition/", APPROVE)["Location"].endswith(
        f"/bank/applications/{accepted.pk}/"
    )
    accepted.refresh_from_db()
    assert accepted.status == Application.Status.APPROVED


def test_the_confirmation_page_only_goes_back_to_this_site(cast, client_for):
    with_password(cast.officer_a)
    c = client_for(cast.officer_a)
    response = c.post("/accounts/confirm/", {"password": PASSWORD, "next": "https://evil.example/steal"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_api_needs_a_password_confirmation_before_approving_a_credit_line(cast, accepted):
    with_password(cast.officer_a)
    api = APIClient()
    api.force_authenticate(cast.officer_a)
    url = f"/api/v1/applications/{accepted.pk}/transition/"
    refused = api.post(url, API_APPROVE, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "reauth_required"
    assert "auth/confirm" in refused.json()["detail"]
    assert api.post("/api/v1/auth/confirm/", {"password": "wrong"}).status_code == 400
    assert api.post("/api/v1/auth/confirm/", {"password": PASSWORD}).status_code == 204
    assert api.post(url, API_APPROVE, format="json").status_code == 200


def test_a_token_confirmation_counts_for_that_token_only(cast, accepted):
    with_password(cast.officer_a)
    token = Token.objects.create(user=cast.officer_a)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/v1/applications/{accepted.pk}/transition/"
    assert api.post(url, API_APPROVE, format="json").json()["code"] == "reauth_required"
    assert api.post("/api/v1/auth/confirm/", {"password": PASSWORD}).status_code == 204
    api.cookies.clear()  # a token client sends no cookie: the confirmation lives with the token
    other = APIClient()
    other.force_authenticate(cast.officer_a)
    assert other.post(url, API_APPROVE, format="json").status_code == 403
    assert api.post(url, API_APPROVE, format="json").status_code == 200


def test_approving_a_subsidy_claim_needs_a_confirmation_on_the_page_and_the_api(cast, client_for, reauthed):
    from subsidies import services

    claim = services.claim_review(user=cast.staff, claim=make_claim())
    c = client_for(cast.finance)
    response = c.post(f"/subsidies/claims/{claim.pk}/approve/")
    assert response["Location"].startswith("/accounts/confirm/")
    api = APIClient()
    api.force_authenticate(cast.finance)
    refused = api.post(f"/api/v1/subsidies/claims/{claim.pk}/approve/")
    assert refused.status_code == 403 and refused.json()["code"] == "reauth_required"
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REVIEWED
    assert reauthed(api).post(f"/api/v1/subsidies/claims/{claim.pk}/approve/").status_code == 200


def test_rotating_the_webhook_secret_needs_a_confirmation(cast, client_for, reauthed):
    c = client_for(cast.manager_a)
    response = c.post("/bank/webhook/rotate/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/confirm/")
    cast.bank_a.refresh_from_db()
    before = cast.bank_a.webhook_secret
    assert reauthed(c).post("/bank/webhook/rotate/").status_code == 200
    cast.bank_a.refresh_from_db()
    assert cast.bank_a.webhook_secret != before


# ------------------------------------------------------------------------------------------------
# TOTP second factor
# ------------------------------------------------------------------------------------------------


def _code(device, steps_ahead=0):
    return (
        f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead):06d}"
    )


def _enable(client, user):
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200 and "otpauth://totp/" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert base64.b32encode(device.bin_key).decode() in page.content.decode()
    assert client.post("/accounts/2fa/", {"code": "12"}).status_code == 400  # not 6 digits
    assert client.post("/accounts/2fa/", {"code": _code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_an_officer_enables_totp_and_then_logs_in_with_password_and_code(cast, client_for):
    with_password(cast.officer_a)
    device = _enable(client_for(cast.officer_a), cast.officer_a)
    c = Client()
    step1 = login_post(c, "officer_a")
    assert step1.status_code == 302 and step1["Location"] == "/accounts/2fa/verify/"
    assert "_auth_user_id" not in c.session
    assert c.get("/bank/")["Location"].startswith("/accounts/login/")
    wrong = c.post("/accounts/2fa/verify/", {"code": "12345"})
    assert wrong.status_code == 400 and "6 位数字" in wrong.content.decode()
    ok = c.post("/accounts/2fa/verify/", {"code": _code(device, steps_ahead=1)})
    assert ok.status_code == 302
    assert c.get("/bank/").status_code == 200


def test_a_user_without_a_device_logs_in_with_the_password_alone(cast):
    with_password(cast.officer_a)
    c = Client()
    assert login_post(c, "officer_a")["Location"] != "/accounts/2fa/verify/"
    assert c.get("/bank/").status_code == 200


def test_firm_users_have_no_second_factor_page(cast, client_for):
    assert client_for(cast.firm_a).get("/accounts/2fa/").status_code == 403


def test_staff_are_sent_to_set_up_totp_when_the_setting_requires_it(cast, client_for, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    c = client_for(cast.staff)
    response = c.get("/staff/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert c.get("/api/v1/products/").json()["code"] == "otp_required"
    _enable(c, cast.staff)
    assert c.get("/staff/").status_code == 200
    # Bank users stay optional.
    assert client_for(cast.officer_a).get("/bank/").status_code == 200


# ------------------------------------------------------------------------------------------------
# Content Security Policy
# ------------------------------------------------------------------------------------------------

CSP = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)


@pytest.mark.parametrize(
    ("who", "url"),
    [
        (None, "/"),
        (None, "/accounts/login/"),
        (None, "/products/"),
        ("firm_a", "/firm/"),
        ("officer_a", "/bank/"),
        ("officer_a", "/bank/leads/"),
        ("staff", "/staff/"),
        ("staff", "/dashboard/"),
    ],
)
def test_every_main_page_carries_the_csp_header(cast, client_for, who, url):
    c = client_for(getattr(cast, who)) if who else Client()
    response = c.get(url)
    assert response.status_code == 200
    header = response["Content-Security-Policy"]
    for directive in CSP:
        assert directive in header
    assert "'unsafe-inline'" not in header.replace("style-src-attr 'unsafe-inline'", "")


def test_only_the_swagger_page_is_exempt_from_the_csp(db):
    assert "Content-Security-Policy" not in Client().get("/api/docs/")
