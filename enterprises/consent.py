"""The consent vocabulary and the one question every bank read asks: which of a firm's profile groups
may this institution see, for this purpose, today?

``consent_scope`` is the only place that answers it; the bank view of a firm
(``enterprises.selectors.enterprise_profile_for_bank``) and everything built on it call it."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsentPurpose(models.TextChoices):
    """Why an institution may read the firm's profile."""

    LEAD = "lead", _("线索跟进")
    APPLICATION = "application", _("申请审查")
    POOL = "pool", _("培育库")


class ProfileGroup(models.TextChoices):
    """The parts of a firm's profile a consent can cover."""

    BASIC = "basic", _("基本信息")
    FINANCIALS = "financials", _("财务数据")
    IP = "ip", _("知识产权")
    QUALIFICATIONS = "qualifications", _("资质")
    DOCUMENTS = "documents", _("证明材料")


ALL_GROUPS: frozenset[str] = frozenset(ProfileGroup.values)


def consent_scope(
    *, enterprise, institution_id: int | None, purpose: str | None = None, on: date | None = None
) -> frozenset[str]:
    """The profile groups the firm lets ``institution_id`` see for ``purpose`` (any purpose when
    None) on day ``on`` (today by default): empty when there is no live consent."""
    from .services import consent_granted

    if institution_id is None:
        return frozenset()
    return (
        ALL_GROUPS if consent_granted(enterprise=enterprise, institution_id=institution_id) else frozenset()
    )
