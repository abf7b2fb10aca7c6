"""The audit log: who did what, when and from where.

``audit_record`` is the one writer. ``portal.services.transition_record`` calls it for every state change;
Django's auth signals record logins, logouts and failed logins; ``portal.audit_middleware`` records refused
access (403, and 404 on an object route) and keeps the current request in a context variable so every
record made while serving it knows the IP address, user agent and user. Nothing here stores a password or
a token: ``scrub`` masks such keys in any detail. Reads go through ``audit_event_for_user`` (staff only).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from contextvars import ContextVar

import django_filters
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, Role

logger = logging.getLogger(__name__)

current_request: ContextVar = ContextVar("kejin_audit_request", default=None)

MASK = "[已隐去]"
SECRET_KEY_RE = re.compile(
    r"pass(word|wd)?|pwd|token|secret|otp|totp|api[_-]?key|authorization|cookie|session|csrf|credential",
    re.IGNORECASE,
)


def scrub(value):
    """A copy of ``value`` (dicts, lists, scalars) with the value of every secret-looking key masked."""
    if isinstance(value, dict):
        return {str(k): (MASK if SECRET_KEY_RE.search(str(k)) else scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def client_ip(request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or the first X-Forwarded-For hop when
    ``settings.AUDIT_TRUST_X_FORWARDED_FOR`` is on (only behind a proxy that sets it)."""
    if request is None:
        return None
    meta = getattr(request, "META", {}) or {}
    candidate = meta.get("REMOTE_ADDR", "")
    if getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False):
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            candidate = forwarded.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return None


def _user_agent(request) -> str:
    if request is None:
        return ""
    return str((getattr(request, "META", {}) or {}).get("HTTP_USER_AGENT", ""))[:255]


def _request_user(request):
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and getattr(user, "is_authenticated", False) and user.pk:
        return user
    return None


def audit_record(
    *,
    action: str,
    user=None,
    username: str = "",
    object_type: str = "",
    object_id="",
    from_state: str = "",
    to_state: str = "",
    detail: dict | None = None,
    request=None,
    strict: bool = False,
) -> AuditEvent | None:
    """Write one audit event. ``user`` defaults to the current request's user; IP address and user agent
    come from ``request`` or the current request. ``detail`` is scrubbed of secrets. With ``strict`` (state
    changes) a failed write fails the act with it; otherwise it is logged and the act goes on."""
    request = request if request is not None else current_request.get()
    if user is None or not getattr(user, "pk", None):
        user = _request_user(request)
    if user is not None and not username:
        username = user.get_username()
    event = AuditEvent(
        action=action,
        user=user,
        username=(username or "")[:150],
        object_type=object_type[:100],
        object_id=str(object_id if object_id is not None else "")[:64],
        from_state=(from_state or "")[:32],
        to_state=(to_state or "")[:32],
        detail=scrub(detail or {}),
        ip_address=client_ip(request),
        user_agent=_user_agent(request),
    )
    if strict:
        event.save()
        return event
    try:
        with transaction.atomic():
            event.save()
        return event
    except DatabaseError:
        logger.exception("audit event %s could not be written", action)
        return None


def audit_state_change(*, subject, from_state: str, to_state: str, actor, note: str = "", data=None):
    """The audit side of ``transition_record``: one state change of ``subject``."""
    detail = {"note": str(note)} if note else {}
    if data:
        detail["data"] = data
    return audit_record(
        action=AuditEvent.Action.STATE_CHANGE,
        user=actor if actor is not None and getattr(actor, "pk", None) else None,
        object_type=subject._meta.label_lower,
        object_id=subject.pk,
        from_state=from_state,
        to_state=to_state,
        detail=detail,
        strict=True,
    )


@receiver(user_logged_in, dispatch_uid="kejin_audit_login")
def _on_login(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.LOGIN, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="kejin_audit_logout")
def _on_logout(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.LOGOUT, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="kejin_audit_login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    username = ""
    for key in ("username", "email", "login"):
        if credentials.get(key):
            username = str(credentials[key])
            break
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED,
        username=username,
        detail={"attempted_username": username[:150]},
        request=request,
    )


# --------------------------------------------------------------------------------------------------
# Reads: the staff search page and the API share the selector and the FilterSet
# --------------------------------------------------------------------------------------------------


def audit_event_for_user(user):
    """Audit events the user may read: all of them for staff, none for anyone else."""
    if user is None or not user.is_authenticated or user.role != Role.STAFF:
        return AuditEvent.objects.none()
    return AuditEvent.objects.all().order_by("-at", "-id")


class AuditEventFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(method="filter_user", label=_("用户"))
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, label=_("动作"))
    object_type = django_filters.CharFilter(
        field_name="object_type", lookup_expr="icontains", label=_("对象类型")
    )
    object_id = django_filters.CharFilter(field_name="object_id", label=_("对象编号"))
    date_from = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("起始日期"))
    date_to = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("截止日期"))
    ip = django_filters.CharFilter(method="filter_ip", label=_("IP 地址"))

    class Meta:
        model = AuditEvent
        fields = ["user", "action", "object_type", "object_id", "date_from", "date_to", "ip"]

    def filter_user(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(Q(user_id=int(value)) | Q(username__iexact=value))
        return queryset.filter(username__icontains=value)

    def filter_ip(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        try:
            return queryset.filter(ip_address=str(ipaddress.ip_address(value)))
        except ValueError:
            return queryset.none()


# ------------------------------------------------------------------------------------------------
# The log in words: "demo_officer 将 山西晋科智能装备有限公司 · 浦新贷（融资申请）从 已放款 改为 已结清"
# ------------------------------------------------------------------------------------------------


def _model_of(object_type: str):
    from django.apps import apps

    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _state_label(model, code: str) -> str:
    if not code or model is None:
        return code or "—"
    try:
        choices = dict(model._meta.get_field("status").choices or ())
    except Exception:
        return code
    return str(choices.get(code, code))


def audit_rows(events) -> list[dict]:
    """Each event of a page with its sentence: who did what to which object, in words (one query
    per object type on the page for the objects' names)."""
    from django.utils.translation import gettext as _

    events = list(events)
    wanted: dict[str, set] = {}
    for e in events:
        if e.object_type and e.object_id:
            wanted.setdefault(e.object_type, set()).add(e.object_id)
    names: dict[tuple, str] = {}
    for object_type, ids in wanted.items():
        model = _model_of(object_type)
        if model is None:
            continue
        pks = [int(i) for i in ids if str(i).isdigit()]
        for pk, obj in model._base_manager.in_bulk(pks).items():
            names[(object_type, str(pk))] = str(obj)
    rows = []
    for e in events:
        model = _model_of(e.object_type) if e.object_type else None
        kind = str(model._meta.verbose_name) if model else (e.object_type or "")
        name = names.get((e.object_type, e.object_id)) or (f"#{e.object_id}" if e.object_id else "")
        thing = f"{name}（{kind}）" if name and kind else (name or kind)
        who = e.username or _("匿名访问")
        if e.action == AuditEvent.Action.STATE_CHANGE and thing:
            sentence = _("%(who)s 将 %(thing)s 从 %(a)s 改为 %(b)s") % {
                "who": who,
                "thing": thing,
                "a": _state_label(model, e.from_state) if e.from_state else _("（新建）"),
                "b": _state_label(model, e.to_state),
            }
        elif e.action == AuditEvent.Action.ACCESS_REFUSED:
            sentence = _("%(who)s 试图访问 %(thing)s，被拒绝") % {"who": who, "thing": thing or _("受限页面")}
        elif thing:
            sentence = _("%(who)s %(action)s：%(thing)s") % {
                "who": who,
                "action": e.get_action_display(),
                "thing": thing,
            }
        else:
            sentence = _("%(who)s %(action)s") % {"who": who, "action": e.get_action_display()}
        rows.append({"event": e, "sentence": sentence})
    return rows
