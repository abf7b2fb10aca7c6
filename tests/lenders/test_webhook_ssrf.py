"""Webhook URLs cannot point inside (issue 18, item 3): https only (http only in development), no
host resolving to a loopback, private, link-local, multicast or reserved address — checked when
saved (page and API) and again at delivery, connecting to the address that was checked."""

import socket
from unittest import mock

import pytest
from rest_framework.test import APIClient

from lenders.models import WebhookDelivery
from lenders.outbox import outbox_emit
from lenders.webhook_guard import WebhookURLRefused, webhook_target

pytestmark = pytest.mark.django_db

PUBLIC_IP = "93.184.215.14"


def resolving(mapping):
    """Patch name resolution: host → list of addresses."""

    def fake(host, port, *args, **kwargs):
        if host not in mapping:
            raise socket.gaierror("unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in mapping[host]]

    return mock.patch("lenders.webhook_guard.socket.getaddrinfo", side_effect=fake)


@pytest.fixture(autouse=True)
def _production_rules(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    settings.WEBHOOK_ALLOW_HTTP = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/",
        "https://127.0.0.1:1/",
        "https://localhost:8102/healthz/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://224.0.0.1/hook",
        "https://240.0.0.1/hook",
        "https://0.0.0.0/hook",
        "ftp://bank.example/hook",
        "https://user:pw@bank.example/hook",
    ],
)
def test_internal_or_non_https_urls_are_refused_on_the_api_with_a_chinese_field_error(cast, url):
    api = APIClient()
    api.force_authenticate(cast.manager_a)
    with resolving({"bank.example": [PUBLIC_IP], "localhost": ["127.0.0.1"]}):
        r = api.put("/api/v1/webhook/", {"url": url, "events": [], "active": True}, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["url"] and any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["url"][0])
    cast.bank_a.refresh_from_db()
    assert cast.bank_a.webhook_url == ""


def test_a_name_resolving_to_a_private_address_among_public_ones_is_refused(cast):
    with resolving({"mixed.example": [PUBLIC_IP, "10.0.0.7"]}), pytest.raises(WebhookURLRefused):
        webhook_target("https://mixed.example/hook")


def test_the_page_refuses_an_internal_url_with_the_message_on_the_field(cast, client_for):
    with resolving({"localhost": ["127.0.0.1"]}):
        r = client_for(cast.manager_a).post("/bank/webhook/", {"url": "https://localhost:8102/healthz/"})
    assert r.status_code == 200 and "不能指向内部网络" in r.content.decode()
    cast.bank_a.refresh_from_db()
    assert cast.bank_a.webhook_url == ""


def test_the_manager_reads_and_sets_the_webhook_through_the_api(cast):
    api = APIClient()
    api.force_authenticate(cast.manager_a)
    assert api.get("/api/v1/webhook/").json() == {"url": "", "events": [], "active": True}
    body = {
        "url": "https://hooks.bank-a.example/kejin",
        "events": ["lead.created", "application.*"],
        "active": True,
    }
    with resolving({"hooks.bank-a.example": [PUBLIC_IP]}):
        r = api.put("/api/v1/webhook/", body, format="json")
    assert r.status_code == 200 and r.json() == body
    cast.bank_a.refresh_from_db()
    assert cast.bank_a.webhook_url == body["url"] and cast.bank_a.webhook_secret
    assert api.put("/api/v1/webhook/", {**body, "events": ["nope"]}, format="json").status_code == 400
    officer = APIClient()
    officer.force_authenticate(cast.officer_a)
    assert officer.get("/api/v1/webhook/").status_code == 403


def test_unsubscribed_events_and_an_inactive_webhook_are_not_emitted(cast):
    cast.bank_a.webhook_url = "https://hooks.bank-a.example/kejin"
    cast.bank_a.webhook_events = ["lead.created", "application.*"]
    cast.bank_a.save()
    assert outbox_emit(institution=cast.bank_a, event="lead.claimed", payload={}) is None
    assert outbox_emit(institution=cast.bank_a, event="application.accept", payload={}) is not None
    cast.bank_a.webhook_active = False
    cast.bank_a.save()
    assert outbox_emit(institution=cast.bank_a, event="lead.created", payload={}) is None


def test_a_url_that_resolves_inside_at_delivery_is_not_posted_and_the_log_says_so_in_chinese(
    cast, django_capture_on_commit_callbacks
):
    cast.bank_a.webhook_url = "https://rebind.example/hook"
    cast.bank_a.webhook_secret = "s"
    cast.bank_a.save()
    with (
        resolving({"rebind.example": ["127.0.0.1"]}),
        mock.patch("lenders.webhook_guard.socket.create_connection") as connect,
        django_capture_on_commit_callbacks(execute=True),
    ):
        outbox_emit(institution=cast.bank_a, event="lead.created", payload={"lead_id": 1})
    connect.assert_not_called()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.response_status is None
    assert "未发送" in delivery.last_error and "内部网络" in delivery.last_error


def test_delivery_connects_to_the_checked_address_and_logs_failures_without_the_remotes_details(
    cast, django_capture_on_commit_callbacks
):
    from portal.celery import app

    cast.bank_a.webhook_url = "https://hooks.bank-a.example/kejin"
    cast.bank_a.webhook_secret = "s"
    cast.bank_a.save()
    refused = ConnectionRefusedError(111, "Connection refused by 10.9.9.9:8443 secret-banner")
    old = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    try:
        with (
            resolving({"hooks.bank-a.example": [PUBLIC_IP]}),
            mock.patch("lenders.webhook_guard.socket.create_connection", side_effect=refused) as connect,
            mock.patch("lenders.outbox.webhook_deliver.retry", side_effect=RuntimeError("no retry here")),
            django_capture_on_commit_callbacks(execute=True),
        ):
            outbox_emit(institution=cast.bank_a, event="lead.created", payload={"lead_id": 1})
    finally:
        app.conf.task_eager_propagates = old
    assert connect.call_args.args[0] == (PUBLIC_IP, 443)  # the checked address, not a new lookup
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error == "推送失败：无法连接接收地址。"
    assert "10.9.9.9" not in delivery.last_error and "banner" not in delivery.last_error


def test_plain_http_is_accepted_only_in_development(cast, settings):
    with resolving({"hooks.bank-a.example": [PUBLIC_IP]}):
        with pytest.raises(WebhookURLRefused):
            webhook_target("http://hooks.bank-a.example/kejin")
        settings.WEBHOOK_ALLOW_HTTP = True
        assert webhook_target("http://hooks.bank-a.example/kejin").address == PUBLIC_IP


def test_private_hosts_are_allowed_only_with_the_setting(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    assert webhook_target("https://127.0.0.1:8443/hook").address == "127.0.0.1"


def test_the_setting_is_off_by_default_also_under_debug():
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "1"}
    env.pop("WEBHOOK_ALLOW_PRIVATE_HOSTS", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='portal.settings';"
            "django.setup();from django.conf import settings;import sys;sys.stdout.write(str(settings.WEBHOOK_ALLOW_PRIVATE_HOSTS))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
