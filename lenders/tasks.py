"""Background work of the bank workspace: delivering webhook events."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from urllib.parse import urlsplit

from celery import shared_task
from django.utils.translation import gettext as _

from .models import WebhookDelivery
from .services import webhook_body, webhook_record_attempt, webhook_signature

TIMEOUT_SECONDS = 10


class WebhookDeliveryError(Exception):
    """The receiver did not answer 2xx: the task retries with exponential backoff."""


def delivery_error_text(exc: BaseException | None = None, *, status: int | None = None) -> str:
    """What the bank's webhook page shows for a failed attempt, in Chinese (the technical detail
    in brackets for the bank's IT staff)."""
    if status is not None:
        return _("接收方返回 HTTP %(s)s（应为 2xx），将自动重试。") % {"s": status}
    if isinstance(exc, TimeoutError):
        return _("连接超时（%(n)s 秒内无响应），将自动重试。") % {"n": TIMEOUT_SECONDS}
    if isinstance(exc, ConnectionRefusedError):
        return _("接收方拒绝连接，请检查地址和端口。")
    if isinstance(exc, ssl.SSLError):
        return _("TLS 证书校验失败（%(d)s）。") % {"d": exc}
    if isinstance(exc, socket.gaierror):
        return _("无法解析接收方域名，请检查地址。")
    if isinstance(exc, http.client.HTTPException):
        return _("接收方的响应无法识别（%(d)s）。") % {"d": type(exc).__name__}
    return _("投递失败（%(d)s）。") % {"d": exc}


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
        webhook_record_attempt(
            delivery=delivery, ok=False, response_status=None, error=delivery_error_text(exc), final=final
        )
        raise WebhookDeliveryError(str(exc)) from exc
    if not 200 <= status < 300:
        webhook_record_attempt(
            delivery=delivery,
            ok=False,
            response_status=status,
            error=delivery_error_text(status=status),
            final=final,
        )
        raise WebhookDeliveryError(f"HTTP {status}")
    webhook_record_attempt(delivery=delivery, ok=True, response_status=status)
    return "delivered"


def _post(url: str, *, body: bytes, headers: dict) -> int:
    """POST with the header names exactly as documented; returns the HTTP status."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OSError(_("不支持的回调地址（须为 http 或 https）：%(u)s") % {"u": url})
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
