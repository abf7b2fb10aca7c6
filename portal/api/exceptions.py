"""Turns a service's ServiceError into a 400/403/404/409 answer with its message."""

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.services import ServiceError


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"detail": exc.message}
        if exc.code:
            body["code"] = exc.code
        if exc.field:
            body[exc.field] = [exc.message]
        if getattr(exc, "reasons", None):  # e.g. the renewal pre-check's unmet conditions
            body["reasons"] = exc.reasons
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        data = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Throttled):
        wait = math.ceil(exc.wait) if exc.wait is not None else None
        detail = f"请求过于频繁，请 {wait} 秒后重试。" if wait else "请求过于频繁，请稍后重试。"
        headers = {"Retry-After": str(wait)} if wait else None
        return Response({"detail": detail, "code": "throttled"}, status=429, headers=headers)
    if isinstance(exc, Http404):
        # get_object_or_404's own text names the model in English ("No FinancingNeed matches the
        # given query."): the answer says only that there is nothing here for this user.
        exc = NotFound(_("未找到该记录，或您无权查看。"))
    return drf_exception_handler(exc, context)
