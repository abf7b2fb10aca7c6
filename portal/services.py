"""Writes shared by every app: the audit trail of transitions and notifications."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .api.caching import lists_changed
from .audit import audit_state_change
from .models import Notification, Transition, User

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A business rule refused an action. ``status`` is the HTTP status the API answers with
    (400 bad input, 403 not allowed, 404 hidden, 409 conflicting state); ``field`` names the input."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, field: str | None = None, code: str = ""):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.field = field
        self.code = code


class ConflictError(ServiceError):
    status = 409


class NotAllowedError(ServiceError):
    status = 403


def transition_record(
    *, subject: models.Model, from_state: str, to_state: str, actor: User | None, note: str = "", data=None
) -> Transition:
    """Record one state change of ``subject`` in the audit trail (and the audit log)."""
    transition = Transition.objects.create(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        from_state=from_state or "",
        to_state=to_state,
        actor=actor if actor is not None and actor.pk else None,
        note=note,
        data=data or {},
    )
    audit_state_change(
        subject=subject, from_state=from_state, to_state=to_state, actor=actor, note=note, data=data
    )
    lists_changed(subject._meta.label_lower)
    return transition


def notification_email(*, user: User, title: str, body: str = "", url: str = "") -> tuple[str, str, str]:
    """The e-mail of one notification: (subject, text body, HTML body), written by the templates
    ``portal/email/notification_{subject.txt,body.txt,body.html}``. A relative ``url`` is made
    absolute with ``SITE_URL`` (the portal's public address), when it is set."""
    link = url
    if url.startswith("/") and settings.SITE_URL:
        link = settings.SITE_URL.rstrip("/") + url
    context = {"user": user, "title": title, "body": body, "link": link}
    subject = " ".join(render_to_string("portal/email/notification_subject.txt", context).split())
    text = render_to_string("portal/email/notification_body.txt", context)
    html = render_to_string("portal/email/notification_body.html", context)
    return subject, text, html


def notification_send(*, users, title: str, body: str = "", url: str = "") -> list[Notification]:
    """Send an in-site notification to each user; e-mail those with an address after commit."""
    users = [u for u in users if u is not None]
    notes = Notification.objects.bulk_create(
        [Notification(user=u, title=title, body=body, url=url) for u in users]
    )
    recipients = [u for u in users if u.email]
    if recipients:

        def _mail():
            for user in recipients:
                try:
                    subject, text, html = notification_email(user=user, title=title, body=body, url=url)
                    send_mail(subject, text, None, [user.email], html_message=html, fail_silently=False)
                except Exception:  # mail is best effort: the in-site message is the record
                    logger.exception("notification e-mail failed for user %s", user.pk)

        transaction.on_commit(_mail)
    return notes


def notification_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
