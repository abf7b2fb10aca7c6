"""Idempotent API writes: ``Idempotency-Key`` on every POST under /api/v1/.

One mechanism, a middleware limited to POSTs under ``/api/v1/`` (so every POST action of every API
view, present and future, gets it without each view opting in). The key is per user — a person, or
a machine client's service user (lenders/oauth.py), resolved through DRF's own authentication
classes — and lives ``settings.IDEMPOTENCY_HOURS`` (24) hours:

- the first request claims the key by inserting its row (unique on user + key) *before* the view
  runs; the row records the method, path and a SHA-256 of the body, and then the answer's status
  and body;
- the same key with the same method, path and body → the first answer again (status and body, with
  ``Idempotent-Replayed: true``), and nothing is done a second time;
- the same key with anything else → 422 with a Chinese message;
- the same key while the first request is still being served → 409 "处理中" (the unique insert
  decides who is first, so two requests at once have exactly one effect);
- an answer of 5xx (or an exception) releases the key, so the client may retry with it.

Anonymous POSTs (registration, the token endpoint) ignore the header. A body larger than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a document upload) is passed through without the key.
Rows older than 24 hours are deleted nightly (``portal.idempotency_cleanup``).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_MAX = 255
PREFIX = "/api/v1/"


def _api_user(request):
    """The user DRF would authenticate this request as (None when anonymous or refused), leaving the
    Django request as it was (DRF's Request sets ``request.user`` as a side effect)."""
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    had_user = "user" in request.__dict__
    original = request.__dict__.get("user")
    try:
        drf = Request(request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
        user = drf.user
    except APIException:
        user = None
    finally:
        if had_user:
            request.user = original
        else:
            request.__dict__.pop("user", None)
    return user if user is not None and user.is_authenticated else None


def _error(status: int, message: str, code: str) -> JsonResponse:
    return JsonResponse(
        {"detail": message, "code": code}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def idempotency_window() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_HOURS)


def idempotency_cleanup() -> int:
    """Delete keys older than the window; returns how many."""

    deleted, _rows = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - idempotency_window()
    ).delete()
    return deleted


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path.startswith(PREFIX) or HEADER not in request.headers:
            return self.get_response(request)
        key = request.headers[HEADER].strip()
        if not key or len(key) > KEY_MAX:
            return _error(
                400, _("Idempotency-Key 须为 1 到 %(n)d 个字符。") % {"n": KEY_MAX}, "idempotency_key_invalid"
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return self.get_response(request)
        user = _api_user(request)
        if user is None:
            return self.get_response(request)
        return self._once(request, user=user, key=key, body=body)

    def _once(self, request, *, user, key: str, body: bytes):

        digest = hashlib.sha256(
            b"%s\n%s\n" % (request.method.encode(), request.path.encode()) + body
        ).hexdigest()
        now = timezone.now()
        IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=now - idempotency_window()).delete()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    key=key, user=user, method=request.method, path=request.path[:500], body_hash=digest
                )
        except IntegrityError:
            first = IdempotencyKey.objects.filter(user=user, key=key).first()
            if first is None or first.status is None:
                return _error(
                    409, _("使用该 Idempotency-Key 的请求正在处理中，请稍后重试。"), "idempotency_in_progress"
                )
            if first.body_hash != digest:
                return _error(
                    422,
                    _("该 Idempotency-Key 已用于另一个请求（地址或内容不同），请为新的请求使用新的键。"),
                    "idempotency_key_reused",
                )
            replay = HttpResponse(
                first.response_body, status=first.status, content_type=first.content_type or None
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            return response
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status=response.status_code,
            response_body=response.content.decode("utf-8", errors="replace"),
            content_type=response.get("Content-Type", "")[:100],
        )
        return response
