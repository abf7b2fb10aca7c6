"""Background work of the bank workspace: delivering webhook events."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

from celery import shared_task

from .models import WebhookDelivery
from .services import webhook_body, webhook_record_attempt, webhook_signature

TIMEOUT_SECONDS = 10


class WebhookDeliveryError(Exception):
    """The receiver did not answer 2xx: the task retries with exponential backoff."""


@shared_task(
    name="lenders.webhook_deliver",
    bind=True,
    autoretry_for=(WebhookDeliveryError,),
    retry_backoff=5,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    max_retries=6,
)
def webhook_deliver(self, delivery_id: int) -> str:
    """POST one logged event, signed, to its URL. Idempotent: a delivered event is not sent again."""
    delivery = WebhookDelivery.objects.select_related("institution").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return "skipped"
    body = webhook_body(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "KeJin-Webhook/1.0",
        "X-KeJin-Event": delivery.event,
        "X-KeJin-Delivery": str(delivery.pk),
        "X-KeJin-Timestamp": timestamp,
        "X-KeJin-Signature": webhook_signature(
            secret=delivery.institution.webhook_secret, timestamp=timestamp, body=body
        ),
    }
    final = self.request.retries >= self.max_retries
    try:
        status = _post(delivery.url, body=body, headers=headers)
    except (OSError, http.client.HTTPException) as exc:
        webhook_record_attempt(delivery=delivery, ok=False, response_status=None, error=str(exc), final=final)
        raise WebhookDeliveryError(str(exc)) from exc
    if not 200 <= status < 300:
        webhook_record_attempt(
            delivery=delivery, ok=False, response_status=status, error=f"HTTP {status}", final=final
        )
        raise WebhookDeliveryError(f"HTTP {status}")
    webhook_record_attempt(delivery=delivery, ok=True, response_status=status)
    return "delivered"


def _post(url: str, *, body: bytes, headers: dict) -> int:
    """POST with the header names exactly as documented; returns the HTTP status."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OSError(f"unsupported webhook URL: {url}")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(1024)
        return response.status
    finally:
        conn.close()
