"""People's API tokens (issue 18, item 4): the second factor on the token endpoint, expiry,
revocation on a password change or reset and on deactivation, the password-reset throttle and its
constant work, X-Forwarded-For only behind trusted proxies, and the confirmation's own throttle."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portal.clientip import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "Kejin-pass-2026"
REFUSED = (401, 403)  # DRF answers a refused token 403 when session authentication comes first


def with_password(user):
    user.set_password(PASSWORD)
    user.save()
    return user


def device_for(user):
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def token_post(body, **extra):
    return APIClient().post("/api/v1/auth/token/", body, format="json", **extra)


def inbox(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get("/api/v1/matches/")


# ---------------------------------------------------------------- second factor


def test_a_user_with_a_confirmed_device_gets_no_token_without_the_code(cast):
    with_password(cast.officer_a)
    device = device_for(cast.officer_a)
    refused = token_post({"username": "officer_a", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["code"] == "otp_required"
    assert not Token.objects.filter(user=cast.officer_a).exists()
    wrong = token_post({"username": "officer_a", "password": PASSWORD, "otp": "000000"})
    assert wrong.status_code == 401 and not Token.objects.filter(user=cast.officer_a).exists()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows down guessing after a wrong code
    ok = token_post({"username": "officer_a", "password": PASSWORD, "otp": code(device)})
    assert ok.status_code == 200 and ok.json()["token"] == Token.objects.get(user=cast.officer_a).key
    assert inbox(ok.json()["token"]).status_code == 200


def test_staff_without_a_device_get_no_token_where_the_second_factor_is_required(cast, settings):
    with_password(cast.staff)
    settings.OTP_REQUIRED_FOR_STAFF = True
    refused = token_post({"username": "staff", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["code"] == "otp_required"
    assert not Token.objects.filter(user=cast.staff).exists()
    settings.OTP_REQUIRED_FOR_STAFF = False
    assert token_post({"username": "staff", "password": PASSWORD}).status_code == 200


def test_a_user_without_a_device_still_gets_a_token_with_the_password(cast):
    with_password(cast.firm_a)
    r = token_post({"username": "firm_a", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["expires_at"]
    assert token_post({"username": "firm_a", "password": "nope"}).status_code == 400


# ---------------------------------------------------------------- expiry and revocation


def test_a_token_expires_after_the_configured_days_and_a_new_one_is_issued(cast, settings):
    settings.API_TOKEN_DAYS = 30
    settings.API_TOKEN_CACHE_SECONDS = 60
    cache.clear()
    with_password(cast.officer_a)
    key = token_post({"username": "officer_a", "password": PASSWORD}).json()["token"]
    assert inbox(key).status_code == 200  # the lookup is cached now
    with time_machine.travel(timezone.now() + timedelta(days=30, minutes=1)):
        expired = inbox(key)
        assert expired.status_code in (401, 403) and expired.json()["code"] == "token_expired"
        assert not Token.objects.filter(key=key).exists()
        fresh = token_post({"username": "officer_a", "password": PASSWORD}).json()["token"]
        assert fresh != key and inbox(fresh).status_code == 200
    cache.clear()


def test_a_password_change_ends_the_token_at_once_even_cached(cast, settings):
    settings.API_TOKEN_CACHE_SECONDS = 60
    cache.clear()
    with_password(cast.officer_a)
    key = token_post({"username": "officer_a", "password": PASSWORD}).json()["token"]
    assert inbox(key).status_code == 200
    c = Client()
    c.force_login(cast.officer_a)
    r = c.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "Another-pass-99", "new_password2": "Another-pass-99"},
    )
    assert r.status_code == 302
    assert inbox(key).status_code in REFUSED
    assert not Token.objects.filter(user=cast.officer_a).exists()
    cache.clear()


def test_a_password_reset_and_a_deactivation_end_the_token(cast):
    with_password(cast.officer_a)
    key = token_post({"username": "officer_a", "password": PASSWORD}).json()["token"]
    cast.officer_a.set_password("Reset-by-mail-88")  # what the reset confirmation form does
    cast.officer_a.save()
    assert inbox(key).status_code in REFUSED
    with_password(cast.firm_a)
    key = token_post({"username": "firm_a", "password": PASSWORD}).json()["token"]
    cast.firm_a.is_active = False
    cast.firm_a.save(update_fields=["is_active"])
    assert inbox(key).status_code in REFUSED and not Token.objects.filter(user=cast.firm_a).exists()


def test_saving_a_user_otherwise_keeps_the_token(cast):
    with_password(cast.firm_a)
    key = token_post({"username": "firm_a", "password": PASSWORD}).json()["token"]
    cast.firm_a.first_name = "甲"
    cast.firm_a.save()
    assert inbox(key).status_code == 200


# ---------------------------------------------------------------- password reset


@pytest.fixture
def throttled(settings):
    settings.API_THROTTLE_DISABLED = False
    cache.clear()
    yield settings
    cache.clear()


def reset(email, ip="10.0.0.1", **extra):
    return Client().post("/accounts/password_reset/", {"email": email}, REMOTE_ADDR=ip, **extra)


def test_password_reset_mails_an_address_at_most_three_times_an_hour(cast, throttled):
    cast.officer_a.email = "officer_a@bank-a.example"
    cast.officer_a.save()
    answers = [reset("officer_a@bank-a.example", ip=f"10.0.1.{i}") for i in range(6)]
    assert {r.status_code for r in answers} == {302}
    assert {r["Location"] for r in answers} == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == 3


def test_password_reset_refuses_a_client_after_ten_requests_an_hour(db, throttled):
    answers = [reset(f"nobody{i}@nowhere.example").status_code for i in range(11)]
    assert answers == [302] * 10 + [429]
    assert "过于频繁" in reset("again@nowhere.example").content.decode()
    assert reset("other@nowhere.example", ip="10.0.0.2").status_code == 302


def test_password_reset_does_the_same_work_for_a_known_and_an_unknown_address(cast):
    cast.officer_a.email = "officer_a@bank-a.example"
    cast.officer_a.save()
    with mock.patch("portal.tasks.password_reset_send.delay") as send:
        known = reset("officer_a@bank-a.example")
        unknown = reset("nobody@nowhere.example")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    # The request only enqueues: the lookup and the mail happen in the worker for both.
    assert [c.args[0] for c in send.call_args_list] == ["officer_a@bank-a.example", "nobody@nowhere.example"]
    assert mail.outbox == []


# ---------------------------------------------------------------- client address


def test_a_spoofed_forwarded_for_does_not_escape_the_token_throttle(cast, throttled):
    with_password(cast.firm_a)
    for i in range(10):
        token_post({"username": "firm_a", "password": "nope"}, HTTP_X_FORWARDED_FOR=f"1.2.3.{i}")
    r = token_post({"username": "firm_a", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert r.status_code == 429


def test_forwarded_for_counts_only_behind_the_trusted_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.9"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # what our proxy saw, not what the client wrote
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"


def test_axes_counts_failures_by_the_same_address(cast):
    from axes.models import AccessAttempt

    with_password(cast.officer_a)
    Client().post(
        "/accounts/login/",
        {"username": "officer_a", "password": "x"},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="1.1.1.1",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.0.0.5"]


# ---------------------------------------------------------------- the confirmation's throttle


def test_the_password_confirmation_has_its_own_throttle(cast, throttled):
    with_password(cast.officer_a)
    api = APIClient()
    api.force_authenticate(cast.officer_a)
    answers = [api.post("/api/v1/auth/confirm/", {"password": PASSWORD}).status_code for _ in range(6)]
    assert answers == [204] * 5 + [429]
    # The token endpoint's budget is untouched by the confirmations.
    assert token_post({"username": "officer_a", "password": PASSWORD}).status_code == 200
