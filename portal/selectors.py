"""Reads for the portal app: transitions of an object, a user's notifications."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from .models import Notification, Transition, User


def transitions_for(subject) -> QuerySet[Transition]:
    """The timeline of one object, oldest first, with the actor loaded."""
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    ).select_related("actor")


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
