"""The consent vocabulary: why an institution may read a firm's profile (:class:`ConsentPurpose`)
and which parts of it (:class:`ProfileGroup`). Plain values, imported by the models.

The one question every bank read asks — which of a firm's profile groups may this institution see,
for this purpose, today? — is answered on the records (:class:`enterprises.models.ProfileConsent`)
by ``enterprises.selectors.consent_scope`` for one firm and ``enterprises.selectors.consenting_q``,
the same rule as a queryset filter over many firms (the pool). The rule:

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
    ProfileGroup.FINANCIALS: _(
        "最近一个年度的经营数据（营业收入、研发投入、职工与科技人员、专利与科技成果等）、资产总额、出口情况、科创积分、"
        "是否首贷户（从未获得银行贷款）"
    ),
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
