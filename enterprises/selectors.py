"""Reads of firm data, scoped to what each user may see."""

from django.db.models import QuerySet

from portal.models import Role

from .models import Enterprise, FinancingNeed


def enterprise_for_user(user) -> QuerySet[Enterprise]:
    """A firm user sees its own enterprise; staff see all; others see none here (banks see leads)."""
    qs = Enterprise.objects.select_related("city")
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.FIRM:
        return qs.filter(pk=user.enterprise_id)
    return qs.none()


def need_for_user(user) -> QuerySet[FinancingNeed]:
    qs = FinancingNeed.objects.select_related("enterprise", "enterprise__city")
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    return qs.none()
