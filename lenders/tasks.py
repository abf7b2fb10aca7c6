"""Background work of the bank workspace: delivering webhook events."""

from __future__ import annotations

import http.client
import logging
import ssl
import time

from celery import shared_task

from .models import WebhookDelivery
from .services import webhook_body, webhook_record_attempt, webhook_signature
from .webhook_guard import WebhookURLRefused, webhook_connection, webhook_target

logger = logging.getLogger(__name__)

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
