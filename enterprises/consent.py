"""The consent vocabulary and the one question every bank read asks: which of a firm's profile groups
may this institution see, for this purpose, today?

``consent_scope`` is the only place that answers it for one firm, ``consenting_q`` the same rule as a
queryset filter over many firms (the pool); the bank view of a firm
(``enterprises.selectors.enterprise_profile_for_bank``) and everything built on it call them.

The rule, on records of :class:`enterprises.models.ProfileConsent`:

- a record is live on a day when its status is active and the day is not after ``expires_on``
  (an expired or revoked record counts as none);
- the institution's own live record gives its scope, for the purposes it ticks;
- the "share with all" switch (``Enterprise.shares_profile`` on, with its own live record, the one
  with no institution) adds its scope for every institution — except one the firm revoked: a
  revoked record of that institution refuses it even while the switch is on.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
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

# What each group shows a bank, in one line (the apply form and the consent page say it so).
GROUP_CONTENTS = {
    ProfileGroup.BASIC: _(
        "统一社会信用代码、法定代表人、地址、成立日期、注册资本、发展阶段、联系人与企业简介"
    ),
    ProfileGroup.FINANCIALS: _("职工与研发人员、上年营业收入、研发投入、资产总额、出口情况、科创积分"),
    ProfileGroup.IP: _("专利、软件著作权等知识产权"),
    ProfileGroup.QUALIFICATIONS: _("高新技术企业、科技型中小企业等有效资质"),
    ProfileGroup.DOCUMENTS: _("营业执照、财务报表等上传的证明材料"),
}


def group_rows(groups=None) -> list[dict]:
    """``[{code, label, contents}]`` for the groups given (all when None), in the vocabulary's order."""
    wanted = ALL_GROUPS if groups is None else set(groups)
    return [
        {"code": g.value, "label": g.label, "contents": GROUP_CONTENTS[g]}
        for g in ProfileGroup
        if g.value in wanted
    ]


ALL_PURPOSES: tuple[str, ...] = tuple(ConsentPurpose.values)


def one_year_after(day: date) -> date:
    """The same day a year later (29 February → 28 February): a grant's default and latest expiry."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def ordered_groups(groups) -> list[str]:
    """Group codes in the vocabulary's order (how records store and pages show them)."""
    return [g for g in ProfileGroup.values if g in set(groups)]


def _purpose_filter(purpose: str | None) -> Q:
    if purpose is None:
        return Q(for_lead=True) | Q(for_application=True) | Q(for_pool=True)
    if purpose not in ALL_PURPOSES:
        raise ValueError(f"unknown consent purpose {purpose!r}")
    return Q(**{f"for_{purpose}": True})


def consent_scope(
    *, enterprise, institution_id: int | None, purpose: str | None = None, on: date | None = None
) -> frozenset[str]:
    """The profile groups the firm lets ``institution_id`` see for ``purpose`` (any purpose when
    None) on day ``on`` (today by default): empty when there is no live consent."""
    from .models import ProfileConsent

    if institution_id is None:
        return frozenset()
    day = on or timezone.localdate()
    rows = list(
        ProfileConsent.objects.filter(enterprise_id=enterprise.pk).filter(
            Q(institution_id=institution_id) | Q(institution__isnull=True)
        )
    )
    own = next((r for r in rows if r.institution_id == institution_id), None)
    switch = next((r for r in rows if r.institution_id is None), None)
    if own is not None and own.status == ProfileConsent.Status.REVOKED:
        return frozenset()
    groups: set[str] = set()
    if own is not None and own.is_live(day) and own.covers(purpose):
        groups |= set(own.scope)
    if enterprise.shares_profile and switch is not None and switch.is_live(day) and switch.covers(purpose):
        groups |= set(switch.scope)
    return frozenset(groups & ALL_GROUPS)


def consenting_q(*, institution_id: int | None, purpose: str | None = None, on: date | None = None) -> Q:
    """The rule of :func:`consent_scope` as a filter on ``Enterprise``: the firms that let
    ``institution_id`` see at least one profile group for ``purpose`` on day ``on``."""
    from .models import ProfileConsent

    if institution_id is None:
        return Q(pk__in=[])
    day = on or timezone.localdate()
    live = Q(status=ProfileConsent.Status.ACTIVE, expires_on__gte=day) & _purpose_filter(purpose)
    rows = ProfileConsent.objects.filter(enterprise_id=OuterRef("pk"))
    own_live = rows.filter(live, institution_id=institution_id)
    switch_live = rows.filter(live, institution__isnull=True)
    revoked = ProfileConsent.objects.filter(
        enterprise_id=OuterRef("pk"), institution_id=institution_id, status=ProfileConsent.Status.REVOKED
    )
    return Q(Exists(own_live)) | (Q(shares_profile=True) & Q(Exists(switch_live)) & ~Q(Exists(revoked)))
