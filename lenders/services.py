"""Writes of the bank workspace: incubation pool, webhook settings, lead read marks, API clients.

The webhook events themselves go through the outbox (``lenders/outbox.py``)."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, RefreshToken

from portal.audit import audit_record
from portal.models import Role, User
from portal.services import NotAllowedError, ServiceError, notification_send

from .choices import WEBHOOK_EVENTS
from .models import API_CLIENT_SCOPES, ApiClient, Institution, LeadRead, PoolEntry, WebhookDelivery
from .outbox import outbox_resend
from .selectors import pool_candidates
from .webhook_guard import WebhookURLRefused, webhook_target

# ------------------------------------------------------------------------------------------------
# Access helpers
# ------------------------------------------------------------------------------------------------


def require_bank(user: User, *, manager: bool = False) -> None:
    """The user must be a bank officer or manager (a manager only when ``manager``); else 403."""
    allowed = (Role.MANAGER,) if manager else (Role.OFFICER, Role.MANAGER)
    if not user.is_authenticated or user.role not in allowed:
        raise NotAllowedError(
            _("只有银行管理者可以执行此操作。") if manager else _("只有银行用户可以执行此操作。")
        )


def require_same_institution(user: User, institution_id: int | None) -> None:
    """Another institution's object is hidden: 404, never 403."""
    if institution_id is None or user.institution_id != institution_id:
        raise ServiceError(_("未找到该记录。"), status=404)


def institution_users(institution_id: int, *, roles=(Role.OFFICER, Role.MANAGER)):
    """The institution's people (never a machine client's service user)."""
    return User.objects.filter(
        branch__institution_id=institution_id, role__in=roles, is_active=True, api_client__isnull=True
    )


# ------------------------------------------------------------------------------------------------
# Lead read marks
# ------------------------------------------------------------------------------------------------


def lead_mark_read(*, user: User, match) -> None:
    """Remember that ``user`` opened ``match`` (idempotent)."""
    if not user.is_bank:
        return
    LeadRead.objects.get_or_create(match=match, user=user)


# ------------------------------------------------------------------------------------------------
# Incubation pool 培育库
# ------------------------------------------------------------------------------------------------


@transaction.atomic
def pool_add(*, user: User, enterprise, note: str = "") -> PoolEntry:
    """Add a consenting, verified firm to the user's institution's incubation pool."""
    require_bank(user)
    if not pool_candidates(user=user).filter(pk=enterprise.pk).exists():
        raise ServiceError(_("该企业未认证或未同意向金融机构展示资料，不能加入培育库。"), status=404)
    try:
        with transaction.atomic():
            entry = PoolEntry.objects.create(
                institution_id=user.institution_id, enterprise=enterprise, note=note.strip(), added_by=user
            )
    except IntegrityError:
        raise ServiceError(_("该企业已在本机构培育库中。"), status=409, code="already_pooled")
    return entry


@transaction.atomic
def pool_remove(*, user: User, entry: PoolEntry) -> None:
    """The bank takes a firm out of its own pool."""
    require_bank(user)
    require_same_institution(user, entry.institution_id)
    entry.delete()


@transaction.atomic
def pool_leave(*, user: User, entry: PoolEntry) -> None:
    """A firm leaves an institution's pool; the institution's officers are told."""
    if not user.is_authenticated or user.role != Role.FIRM:
        raise NotAllowedError(_("只有企业用户可以退出培育库。"))
    if entry.enterprise_id != user.enterprise_id:
        raise ServiceError(_("未找到该记录。"), status=404)
    institution_id, name = entry.institution_id, entry.enterprise.name
    entry.delete()
    notification_send(
        users=institution_users(institution_id),
        title=_("%(firm)s 已退出本机构培育库") % {"firm": name},
        url="/bank/pool/",
    )


POOL_EVENTS = {
    "need_posted": _("发布了新的融资需求"),
    "qualification_added": _("新增了资质认定"),
}


def pool_notify(*, enterprise, event: str) -> int:
    """Tell the officers and managers of every institution that pools ``enterprise`` about ``event``
    ('need_posted' or 'qualification_added'). Returns the number of notifications sent."""
    if event not in POOL_EVENTS:
        raise ServiceError(_("未知的培育库事件。"))
    institution_ids = list(
        PoolEntry.objects.filter(enterprise=enterprise).values_list("institution_id", flat=True)
    )
    if not institution_ids:
        return 0
    users = list(
        User.objects.filter(
            branch__institution_id__in=institution_ids, role__in=[Role.OFFICER, Role.MANAGER], is_active=True
        )
    )
    title = _("培育库企业 %(firm)s %(event)s") % {"firm": enterprise.name, "event": POOL_EVENTS[event]}
    return len(notification_send(users=users, title=title, url="/bank/pool/"))


# ------------------------------------------------------------------------------------------------
# Webhooks
# ------------------------------------------------------------------------------------------------


def webhook_url_check(url: str) -> str:
    """The URL as stored, or ServiceError (field ``url``) when it may not be used
    (lenders/webhook_guard.py: https only, never an internal address). Empty clears the URL."""
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > 200:
        raise ServiceError(_("推送地址不能超过 200 个字符。"), field="url")
    try:
        webhook_target(url)
    except WebhookURLRefused as refused:
        raise ServiceError(refused.message, field="url") from None
    return url


@transaction.atomic
def webhook_settings_update(
    *, user: User, url: str, events: list[str] | None = None, active: bool | None = None
) -> Institution:
    """A manager sets (or clears) the institution's webhook URL, and optionally which events it gets
    and whether delivery is on. The URL is checked (:func:`webhook_url_check`). A first URL gets a
    secret."""
    require_bank(user, manager=True)
    url = webhook_url_check(url)
    if events is not None:
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            raise ServiceError(
                _("未知的推送事件：%(events)s。") % {"events": "、".join(unknown)}, field="events"
            )
    institution = Institution.objects.select_for_update().get(pk=user.institution_id)
    institution.webhook_url = url
    fields = ["webhook_url"]
    if events is not None:
        institution.webhook_events = list(dict.fromkeys(events))
        fields.append("webhook_events")
    if active is not None:
        institution.webhook_active = bool(active)
        fields.append("webhook_active")
    if institution.webhook_url and not institution.webhook_secret:
        institution.webhook_secret = secrets.token_hex(32)
        fields.append("webhook_secret")
    institution.save(update_fields=fields)
    return institution


@transaction.atomic
def webhook_secret_rotate(*, user: User) -> str:
    """A new signing secret for the institution; returned once, to be shown once."""
    require_bank(user, manager=True)
    secret = secrets.token_hex(32)
    Institution.objects.filter(pk=user.institution_id).update(webhook_secret=secret)
    return secret


@transaction.atomic
def webhook_replay(*, user: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a logged event again, as a new delivery to the institution's current URL."""
    require_bank(user, manager=True)
    require_same_institution(user, delivery.institution_id)
    institution = delivery.institution
    if not institution.webhook_url:
        raise ServiceError(_("请先设置事件推送地址。"), field="url")
    return outbox_resend(delivery)


# ------------------------------------------------------------------------------------------------
# Machine clients (OAuth2 client credentials, lenders/oauth.py)
# ------------------------------------------------------------------------------------------------


@transaction.atomic
def api_client_create(*, user: User, name: str, scopes: list[str], expires_at=None) -> tuple[ApiClient, str]:
    """A manager creates an API client for the institution: an OAuth2 confidential application
    (client credentials) and its service user, a manager of the institution with no usable
    password named after the client. Returns the client and its secret — the only time the secret
    is seen (the application stores a hash)."""
    require_bank(user, manager=True)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("请填写客户端名称。"), field="name")
    scopes = list(dict.fromkeys(scopes or []))
    unknown = [s for s in scopes if s not in API_CLIENT_SCOPES]
    if unknown:
        raise ServiceError(_("未知的权限范围：%(scopes)s。") % {"scopes": "、".join(unknown)}, field="scopes")
    if not scopes:
        raise ServiceError(_("请至少选择一项权限范围。"), field="scopes")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError(_("有效期须晚于当前时间。"), field="expires_at")
    secret = generate_client_secret()
    application = Application(
        name=name[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    application.save()
    service_user = User(
        username=f"api-{name[:100]}-{application.client_id[:8]}",
        first_name=name[:150],
        role=Role.MANAGER,
        branch_id=user.branch_id,
    )
    service_user.set_unusable_password()
    service_user.save()
    client = ApiClient.objects.create(
        institution_id=user.institution_id,
        name=name,
        scopes=scopes,
        application=application,
        user=service_user,
        created_by=user,
        expires_at=expires_at,
    )
    audit_record(
        action="api_client.create",
        user=user,
        object_type="lenders.apiclient",
        object_id=client.pk,
        detail={"name": name, "scopes": scopes, "client_id": application.client_id},
    )
    return client, secret


@transaction.atomic
def api_client_revoke(*, user: User, client: ApiClient) -> ApiClient:
    """Revoke a client: its tokens are deleted and refused at once (401), no new token is issued."""
    require_bank(user, manager=True)
    require_same_institution(user, client.institution_id)
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        RefreshToken.objects.filter(application_id=client.application_id).delete()
        AccessToken.objects.filter(application_id=client.application_id).delete()
        User.objects.filter(pk=client.user_id).update(is_active=False)
        audit_record(
            action="api_client.revoke",
            user=user,
            object_type="lenders.apiclient",
            object_id=client.pk,
            detail={"name": client.name},
        )
    return client
