"""Webhooks: a local receiver gets each event signed with HMAC-SHA256 over timestamp + "." + body;
failed deliveries are retried with backoff and logged once; a manager sees and replays them."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lenders.models import WebhookDelivery
from lenders.outbox import outbox_emit
from matching.services.leads import lead_claim
from matching.services.review import application_transition
from tests.lenders.conftest import make_application

pytestmark = pytest.mark.django_db
SECRET = "test-secret-0123456789"


@pytest.fixture(autouse=True)
def _local_receiver_allowed(settings):
    """These tests post to a receiver on 127.0.0.1 over plain http: allowed only by these settings
    (off in production; tests/lenders/test_webhook_ssrf.py checks the refusals)."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.WEBHOOK_ALLOW_HTTP = True


class Receiver:
    """An http.server on 127.0.0.1 that answers ``fail_first`` requests with 500, then 200."""

    def __init__(self, fail_first: int = 0):
        self.requests: list[dict] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                code = 500 if len(receiver.requests) <= receiver.fail_first else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kejin/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def verify(request: dict, secret: str) -> bool:
    timestamp = request["headers"]["X-KeJin-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(request["headers"]["X-KeJin-Signature"], "sha256=" + expected)


@pytest.fixture
def eager_retries():
    """Eager tasks re-run a retry at once (no countdown) when their exceptions are not propagated."""
    from portal.celery import app

    old = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = old


@pytest.fixture
def hooked(cast):
    def set_url(url):
        cast.bank_a.webhook_url = url
        cast.bank_a.webhook_secret = SECRET
        cast.bank_a.save()

    return set_url


def test_a_claim_is_posted_signed_to_the_bank_receiver(
    cast, lead, hooked, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        hooked(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            lead_claim(user=cast.officer_a, match=lead)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert verify(request, SECRET)
    assert not verify(request, "wrong-secret")
    doc = json.loads(request["body"])
    assert doc["event"] == "lead.claimed" and doc["data"]["lead_id"] == lead.pk
    assert request["headers"]["X-KeJin-Event"] == "lead.claimed"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 1


def test_application_events_are_posted(cast, product_a, hooked, django_capture_on_commit_callbacks):
    app = make_application(cast, product_a)
    with Receiver() as receiver:
        hooked(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            application_transition(user=cast.officer_a, application=app, action="accept", note="受理")
    doc = json.loads(receiver.requests[0]["body"])
    assert doc["event"] == "application.accept"
    assert doc["data"]["status"] == "accepted" and doc["data"]["application_id"] == app.pk
    assert verify(receiver.requests[0], SECRET)


def test_a_receiver_failing_twice_gets_exactly_one_successful_delivery_after_retries(
    cast, hooked, django_capture_on_commit_callbacks, eager_retries
):
    with Receiver(fail_first=2) as receiver:
        hooked(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            outbox_emit(institution=cast.bank_a, event="lead.created", payload={"lead_id": 1})
    assert len(receiver.requests) == 3
    assert all(verify(r, SECRET) for r in receiver.requests)
    assert WebhookDelivery.objects.count() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 3 and delivery.response_status == 200


def test_no_url_means_no_delivery(cast, lead):
    assert outbox_emit(institution=cast.bank_a, event="lead.created", payload={}) is None
    assert not WebhookDelivery.objects.exists()


def test_the_manager_sets_the_url_sees_the_secret_once_and_replays(
    cast, client_for, django_capture_on_commit_callbacks
):
    c = client_for(cast.manager_a)
    with Receiver() as receiver:
        first = c.post("/bank/webhook/", {"url": receiver.url})
        assert first.status_code == 200 and "data-secret-once" in first.content.decode()
        cast.bank_a.refresh_from_db()
        assert cast.bank_a.webhook_secret and cast.bank_a.webhook_secret in first.content.decode()
        assert cast.bank_a.webhook_secret not in c.get("/bank/webhook/").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            outbox_emit(institution=cast.bank_a, event="lead.created", payload={"lead_id": 7})
        original = WebhookDelivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            assert c.post(f"/bank/webhook/deliveries/{original.pk}/replay/").status_code == 302
    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.filter(replay_of=original, status="succeeded").count() == 1


def test_webhook_pages_are_for_the_own_institution_manager_only(cast, client_for):
    assert client_for(cast.officer_a).get("/bank/webhook/").status_code == 403
    other = WebhookDelivery.objects.create(institution=cast.bank_b, event="x", url="http://127.0.0.1:9/")
    assert client_for(cast.manager_a).post(f"/bank/webhook/deliveries/{other.pk}/replay/").status_code == 404


def test_new_leads_are_emitted_only_to_institutions_with_a_url(
    cast, lead, product_b, hooked, django_capture_on_commit_callbacks
):
    from matching.services.events import webhook_leads_created
    from tests.lenders.conftest import make_lead

    other = make_lead(cast, product_b, branch=cast.officer_b.branch)
    with Receiver() as receiver:
        hooked(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_leads_created(match_ids=[lead.pk, other.pk]) == 1
    doc = json.loads(receiver.requests[0]["body"])
    assert doc["event"] == "lead.created" and doc["data"]["lead_id"] == lead.pk
