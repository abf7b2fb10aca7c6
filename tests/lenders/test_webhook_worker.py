"""Webhook retries on a real Celery worker: exponential backoff between attempts, one delivery logged."""

import time

import pytest
from django.db import transaction

from lenders.models import WebhookDelivery
from lenders.outbox import outbox_emit
from tests.lenders.test_webhooks import SECRET, Receiver, verify

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_retries_a_failing_receiver_with_backoff_until_it_succeeds(cast, celery_worker_process):
    with Receiver(fail_first=2) as receiver:
        cast.bank_a.webhook_url = receiver.url
        cast.bank_a.webhook_secret = SECRET
        cast.bank_a.save()
        with transaction.atomic():
            outbox_emit(institution=cast.bank_a, event="lead.created", payload={"lead_id": 42})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            delivery = WebhookDelivery.objects.get()
            if delivery.status != "pending":
                break
            time.sleep(0.5)
    assert delivery.status == "succeeded" and delivery.attempts == 3
    assert len(receiver.requests) == 3 and all(verify(r, SECRET) for r in receiver.requests)
    assert WebhookDelivery.objects.count() == 1
