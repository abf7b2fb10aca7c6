"""The webhook outbox: the events an institution's own system receives.

Whoever has something to tell a bank's system — the lead and application services of matching —
builds the payload itself and calls :func:`outbox_emit` with the institution, the event name
(``lenders.choices.WEBHOOK_EVENTS``) and the payload. The outbox records the event (a
:class:`~lenders.models.WebhookDelivery`, the log a manager reads and replays) and, after the
caller's transaction commits, delivers it: POSTed signed (``X-KeJin-Signature``) to the checked
address (``lenders/webhook_guard.py``), retried with exponential backoff by the Celery task
:func:`webhook_deliver`. It imports nothing of the apps above lenders."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import ssl
import time

from celery import shared_task
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .choices import webhook_event_selected
from .models import Institution, WebhookDelivery
from .webhook_guard import WebhookURLRefused, webhook_connection, webhook_target

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


# ------------------------------------------------------------------------------------------------
# Recording and enqueueing
# ------------------------------------------------------------------------------------------------


def outbox_emit(*, institution: Institution | int, event: str, payload: dict) -> WebhookDelivery | None:
    """Queue ``event`` for the institution's webhook (after commit). Nothing when no URL is set."""
    if not isinstance(institution, Institution):
        institution = Institution.objects.get(pk=institution)
    if not institution.webhook_url or not institution.webhook_active:
        return None
    if not webhook_event_selected(event, institution.webhook_events or []):
        return None
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False))
    delivery = WebhookDelivery.objects.create(
        institution=institution, event=event, url=institution.webhook_url, payload=data
    )
    _enqueue(delivery)
    return delivery


def outbox_resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """A logged event sent again, as a new delivery to the institution's current URL (after commit)."""
    institution = delivery.institution
    replay = WebhookDelivery.objects.create(
        institution=institution,
        event=delivery.event,
        url=institution.webhook_url,
        payload=delivery.payload,
        replay_of=delivery,
    )
    _enqueue(replay)
    return replay


def _enqueue(delivery: WebhookDelivery) -> None:
    def send():
        # A failing receiver must never break the action that emitted the event: with a broker the
        # task retries on its own; run eagerly (the embedded demo) the attempt is logged for replay.
        try:
            webhook_deliver.delay(delivery.pk)
        except Exception:
            logger.warning("webhook delivery %s not sent", delivery.pk, exc_info=True)

    transaction.on_commit(send)


# ------------------------------------------------------------------------------------------------
# Delivering
# ------------------------------------------------------------------------------------------------


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed for a delivery (and signed)."""
    doc = {
        "id": delivery.pk,
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``timestamp + "." + body``, as sent in ``X-KeJin-Signature``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_record_attempt(
    *, delivery: WebhookDelivery, ok: bool, response_status: int | None, error: str = "", final: bool = False
) -> None:
    """Store the outcome of one attempt (conditional on the delivery still being pending)."""
    fields = {"response_status": response_status, "last_error": error[:2000]}
    if ok:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=timezone.now(), last_error="")
    elif final:
        fields.update(status=WebhookDelivery.Status.FAILED)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        attempts=F("attempts") + 1, **fields
    )


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
        target = webhook_target(delivery.url)  # checked again now: the name may resolve elsewhere
    except WebhookURLRefused as refused:
        webhook_record_attempt(
            delivery=delivery, ok=False, response_status=None, error=f"未发送：{refused.message}", final=True
        )
        return "refused"
    # The log a manager reads says what kind of failure it was, never the remote's own words
    # (an error text or a body would make the webhook a probe of other hosts).
    try:
        status = _post(target, body=body, headers=headers)
    except TimeoutError as exc:
        logger.info("webhook delivery %s: timeout", delivery.pk, exc_info=True)
        error = "推送失败：接收地址在 10 秒内没有响应。"
        webhook_record_attempt(delivery=delivery, ok=False, response_status=None, error=error, final=final)
        raise WebhookDeliveryError("timeout") from exc
    except ssl.SSLError as exc:
        logger.info("webhook delivery %s: TLS error", delivery.pk, exc_info=True)
        error = "推送失败：无法与接收地址建立安全连接（证书或 TLS 错误）。"
        webhook_record_attempt(delivery=delivery, ok=False, response_status=None, error=error, final=final)
        raise WebhookDeliveryError("tls") from exc
    except (OSError, http.client.HTTPException) as exc:
        logger.info("webhook delivery %s: connection failed", delivery.pk, exc_info=True)
        error = "推送失败：无法连接接收地址。"
        webhook_record_attempt(delivery=delivery, ok=False, response_status=None, error=error, final=final)
        raise WebhookDeliveryError("connection") from exc
    if not 200 <= status < 300:
        error = f"推送失败：接收方返回 HTTP {status}。"
        webhook_record_attempt(delivery=delivery, ok=False, response_status=status, error=error, final=final)
        raise WebhookDeliveryError(f"HTTP {status}")
    webhook_record_attempt(delivery=delivery, ok=True, response_status=status)
    return "delivered"


def _post(target, *, body: bytes, headers: dict) -> int:
    """POST to the checked address with the header names exactly as documented; returns the status."""
    conn = webhook_connection(target, timeout=TIMEOUT_SECONDS)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(1024)
        return response.status
    finally:
        conn.close()
