"""Writes of the enterprises app: registration and verification, the profile, qualifications, IP,
documents, financing needs, consent to share the profile and the log of who opened it.

Every function takes keyword-only arguments, runs in one transaction, records state changes with
``transition_record`` and tells the affected users with ``notification_send``."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lenders.models import Institution
from lenders.services import pool_notify
from matching.models import Match
from portal.access import ACT, can
from portal.models import Region, Role, User
from portal.services import ConflictError, NotAllowedError, ServiceError, notification_send, transition_record
from portal.vocabulary import GUARANTEE_TYPES

from . import scoring
from . import uscc as uscc_rules
from .consent import ALL_GROUPS, ALL_PURPOSES, ConsentPurpose, one_year_after, ordered_groups
from .models import (
    AnnualFigures,
    Document,
    Enterprise,
    FinancingNeed,
    IdentityChange,
    IPAsset,
    ProfileConsent,
    ProfileView,
    Qualification,
    financial_years,
    statutory_expiry,
)
from .scoring import score_recompute_later
from .selectors import consent_scope
from .signals import need_changed

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
NEED_AMOUNT_MAX = Decimal("10000000000")  # 100亿元
NEED_TERM_MAX = 360
CONSENT_NOTICE_DAYS = 30  # the firm hears this many days before a consent expires
OPEN_LEAD_STATUSES = (
    Match.Status.SUGGESTED,
    Match.Status.CLAIMED,
    Match.Status.CONTACTED,
    Match.Status.INVITED,
)

# Fields a firm may edit on its own profile (verification and consent have their own services).
PROFILE_FIELDS = (
    "name",
    "legal_representative",
    "city",
    "address",
    "founded_on",
    "registered_capital",
    "industry",
    "stage",
    "total_assets",
    "export_business",
    "export_amount_last_year",
    "had_bank_loan",
    "contact_name",
    "contact_mobile",
    "contact_email",
    "description",
)
#: The single-year names the profile's figures had (still accepted by the enterprise API and the
#: registration) → the figure of the firm's latest year they stand for (see ``figures_alias_year``).
FIGURE_ALIASES = {
    "employees": "employees",
    "rd_staff": "st_staff",
    "revenue_last_year": "revenue",
    "rd_spend_last_year": "rd_spend",
}
ALIAS_OF_FIGURE = {figure: alias for alias, figure in FIGURE_ALIASES.items()}
MONEY_FIGURES = frozenset(
    name
    for name in AnnualFigures.FIGURE_FIELDS
    if AnnualFigures._meta.get_field(name).get_internal_type() == "DecimalField"
)
SIGNED_FIGURES = frozenset({"net_profit"})  # a loss is a negative profit
FIGURE_MONEY_MAX = Decimal("99999999999999.99")  # the column's 16 digits
FIGURE_COUNT_MAX = 10_000_000
NEED_FIELDS = (
    "amount",
    "term_months",
    "purpose",
    "guarantee_types",
    "max_annual_rate",
    "needed_by",
    "description",
)


# ------------------------------------------------------------------------------------------------
# Access helpers
# ------------------------------------------------------------------------------------------------


def _require_own_enterprise(user: User, enterprise: Enterprise) -> None:
    if not (user.is_authenticated and user.role == Role.FIRM and user.enterprise_id == enterprise.pk):
        raise NotAllowedError(_("只能修改本企业的信息。"))


def _firm_users(enterprise: Enterprise) -> list[User]:
    return list(User.objects.filter(enterprise=enterprise, role=Role.FIRM, is_active=True))


def mobile_check(value: str, *, field: str = "mobile") -> str:
    value = (value or "").strip()
    if not MOBILE_RE.match(value):
        raise ServiceError(_("手机号应为 11 位中国大陆手机号码，以 1 开头，第二位为 3–9。"), field=field)
    return value


def uscc_check(value: str, *, field: str = "uscc") -> str:
    """The normalised code, or a ServiceError naming the failed rule."""
    try:
        return uscc_rules.validate(value or "").code
    except uscc_rules.USCCError as exc:
        raise ServiceError(f"统一社会信用代码有误：{exc.message}", field=field, code="uscc_" + exc.code)


def uscc_taken_message() -> str:
    return _("该企业已注册：这个统一社会信用代码已有企业账号。如需找回账号，请联系平台或本企业的管理员。")


# ------------------------------------------------------------------------------------------------
# Registration and verification
# ------------------------------------------------------------------------------------------------


@transaction.atomic
def firm_register(
    *,
    username: str,
    password: str,
    mobile: str,
    email: str = "",
    enterprise: dict,
    shares_profile: bool = False,
) -> User:
    """Create a firm user and its Enterprise in one go. The enterprise starts as 待审核."""
    username = (username or "").strip()
    if not username:
        raise ServiceError(_("请填写用户名。"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(_("该用户名已被使用，请换一个。"), field="username")
    mobile = mobile_check(mobile)
    code = uscc_check(enterprise.get("uscc", ""))
    if Enterprise.objects.filter(uscc=code).exists():
        raise ServiceError(uscc_taken_message(), field="uscc", code="uscc_taken")
    name = (enterprise.get("name") or "").strip()
    if not name:
        raise ServiceError(_("请填写企业名称。"), field="name")
    legal = (enterprise.get("legal_representative") or "").strip()
    if not legal:
        raise ServiceError(_("请填写法定代表人。"), field="legal_representative")
    city = enterprise.get("city")
    city_id = city.pk if isinstance(city, Region) else city
    if not city_id or not Region.objects.filter(pk=city_id).exists():
        raise ServiceError(_("所在城市应为山西省的地级市或综改区区划代码，例如 140100。"), field="city")

    user = User(username=username, email=(email or "").strip(), mobile=mobile, role=Role.FIRM)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="password")

    extra = {k: v for k, v in enterprise.items() if k in PROFILE_FIELDS and k not in ("name", "city")}
    figures = {FIGURE_ALIASES[k]: v for k, v in enterprise.items() if k in FIGURE_ALIASES and v is not None}
    extra["legal_representative"] = legal
    if "contact_mobile" not in extra or not extra["contact_mobile"]:
        extra["contact_mobile"] = mobile
    if email and not extra.get("contact_email"):
        extra["contact_email"] = email
    try:
        with transaction.atomic():
            firm = Enterprise.objects.create(
                name=name,
                uscc=code,
                city_id=city_id,
                shares_profile=bool(shares_profile),
                verification_status=Enterprise.Verification.PENDING,
                **extra,
            )
    except IntegrityError:  # two registrations of one USCC racing each other
        raise ServiceError(uscc_taken_message(), field="uscc", code="uscc_taken")
    user.enterprise = firm
    user.set_password(password)
    user.save()
    if figures:  # the registration's single-year figures are the last financial year's
        _save_aliased_figures(user=user, enterprise=firm, figures=figures)
    if firm.shares_profile:  # the registration form's "share with all institutions" box
        consent_grant(user=user, enterprise=firm, institution=None)
    transition_record(
        subject=firm, from_state="", to_state=firm.verification_status, actor=user, note=_("企业注册")
    )
    notification_send(
        users=desks_for(firm),
        title=_("新企业注册待审核：%(name)s") % {"name": firm.name},
        url=reverse("enterprises:verify_list"),
    )
    return user


def desks_for(enterprise: Enterprise):
    """The government desks a firm's business goes to: the province's staff and the desk of the
    firm's region (its city, or the 综改区)."""
    return User.objects.filter(
        Q(role=Role.STAFF) | Q(role=Role.REGION, region_id=enterprise.city_id), is_active=True
    )


def _require_desk_of(user: User, enterprise: Enterprise, message: str) -> None:
    """The province's staff (and a superuser in the admin) act on every firm; a region desk only on
    its region's firms (another region's firm: 404, its existence not told); anyone else: 403."""
    if not user.is_authenticated:
        raise NotAllowedError(message)
    if user.role == Role.REGION:
        if not can(user, enterprise, ACT):
            raise ServiceError(_("没有找到这家企业。"), status=404)
        return
    if not (user.role == Role.STAFF or user.is_staff or user.is_superuser):
        raise NotAllowedError(message)


@transaction.atomic
def enterprise_verify(*, user: User, enterprise: Enterprise, approve: bool, note: str = "") -> Enterprise:
    """Staff verify (or reject) a registered firm. On verification its open needs are matched."""
    _require_desk_of(user, enterprise, _("只有省级专班和企业所在区域的专班可以审核企业。"))
    firm = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    target = Enterprise.Verification.VERIFIED if approve else Enterprise.Verification.REJECTED
    if firm.verification_status == target:
        return firm
    if not approve and not note.strip():
        raise ServiceError(_("请说明未通过审核的原因。"), field="note")
    before = firm.verification_status
    firm.verification_status = target
    firm.verified_at = timezone.now() if approve else None
    firm.verified_by = user if approve else None
    firm.save(update_fields=["verification_status", "verified_at", "verified_by", "updated_at"])
    transition_record(subject=firm, from_state=before, to_state=target, actor=user, note=note)
    if approve:
        title = _("企业认证已通过")
        body = _("您的企业已通过省级专班审核，发布的融资需求将推送给匹配的金融机构。")
    else:
        title = _("企业认证未通过")
        body = _("审核意见：%(note)s。请修改企业资料后联系平台重新审核。") % {"note": note}
    notification_send(users=_firm_users(firm), title=title, body=body, url=reverse("enterprises:workspace"))
    if approve:
        for need in FinancingNeed.objects.filter(enterprise=firm, status=FinancingNeed.Status.OPEN):
            _enqueue_need(need)
    if Enterprise.Verification.VERIFIED in (before, target):  # joins or leaves its 科创积分 cohort
        score_recompute_later(firm)
    enterprise.verification_status = firm.verification_status
    enterprise.verified_at = firm.verified_at
    enterprise.verified_by = firm.verified_by
    return firm


# ------------------------------------------------------------------------------------------------
# Profile, qualifications, IP assets
# ------------------------------------------------------------------------------------------------


@transaction.atomic
def enterprise_update(*, user: User, enterprise: Enterprise, **fields) -> Enterprise:
    """Edit the firm's profile. Matching facts change, so open needs are matched again.

    The single-year names of :data:`FIGURE_ALIASES` (``revenue_last_year`` …) write the firm's latest
    financial year through :func:`annual_figures_save` (see :func:`figures_alias_year`)."""
    _require_own_enterprise(user, enterprise)
    unknown = set(fields) - set(PROFILE_FIELDS) - set(FIGURE_ALIASES)
    if unknown:
        raise ServiceError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    figures = {FIGURE_ALIASES[k]: fields.pop(k) for k in list(fields) if k in FIGURE_ALIASES}
    if fields.get("contact_mobile"):
        fields["contact_mobile"] = mobile_check(fields["contact_mobile"], field="contact_mobile")
    for money in ("registered_capital", "total_assets", "export_amount_last_year"):
        if fields.get(money) is not None and fields[money] < 0:
            raise ServiceError(_("金额不能为负数。"), field=money)
    if fields.get("founded_on") and fields["founded_on"] > timezone.localdate():
        raise ServiceError(_("成立日期不能晚于今天。"), field="founded_on")
    if figures:
        _save_aliased_figures(user=user, enterprise=enterprise, figures=figures, rematch=False)
    if enterprise.verification_status == Enterprise.Verification.VERIFIED:
        identity = {k: fields.pop(k) for k in IDENTITY_FIELDS if k in fields}
        identity_change_request(user=user, enterprise=enterprise, **identity)
    for key, value in fields.items():
        if key == "export_amount_last_year" and value is None:
            value = Decimal("0")
        setattr(enterprise, key, value)
    enterprise.save()
    _rematch(enterprise)
    return enterprise


def _save_aliased_figures(*, user: User, enterprise: Enterprise, figures: dict, rematch: bool = True) -> None:
    """Write figures given under their single-year names; a refusal names the name the caller used."""
    try:
        annual_figures_save(
            enterprise=enterprise,
            year=figures_alias_year(enterprise),
            data=figures,
            by=user,
            rematch=rematch,
        )
    except ServiceError as exc:
        raise ServiceError(
            exc.message, status=exc.status, field=ALIAS_OF_FIGURE.get(exc.field, exc.field), code=exc.code
        )


# ------------------------------------------------------------------------------------------------
# Annual figures 年度经营数据
# ------------------------------------------------------------------------------------------------


def figures_alias_year(enterprise: Enterprise, *, today=None) -> int:
    """The year the single-year names (``revenue_last_year`` …) read and write: the firm's newest
    recorded year among the last three financial years, else the last financial year (上年)."""
    years = financial_years(today)
    latest = (
        AnnualFigures.objects.filter(enterprise_id=enterprise.pk, year__in=years)
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
    )
    return latest or years[0]


def _figure_label(name: str) -> str:
    return str(AnnualFigures._meta.get_field(name).verbose_name).removesuffix("（元）")


def _figure_value(name: str, value):
    """One figure as stored: yuan to the cent, a whole number for people and counts, None for blank."""
    if value is None or value == "":
        return None
    label = _figure_label(name)
    if name in MONEY_FIGURES:
        if isinstance(value, (bool, float)):
            raise ServiceError(_("%(label)s应为金额（元）。") % {"label": label}, field=name)
        try:
            amount = Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ServiceError(_("%(label)s应为金额（元）。") % {"label": label}, field=name)
        if not amount.is_finite() or abs(amount) > FIGURE_MONEY_MAX:
            raise ServiceError(_("%(label)s金额过大，请核对单位。") % {"label": label}, field=name)
        if amount < 0 and name not in SIGNED_FIGURES:
            raise ServiceError(_("%(label)s不能为负数。") % {"label": label}, field=name)
        return amount
    if isinstance(value, bool):
        raise ServiceError(_("%(label)s应为整数。") % {"label": label}, field=name)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ServiceError(_("%(label)s应为整数。") % {"label": label}, field=name)
    if not number.is_finite() or number != number.to_integral_value():
        raise ServiceError(_("%(label)s应为整数。") % {"label": label}, field=name)
    if number < 0:
        raise ServiceError(_("%(label)s不能为负数。") % {"label": label}, field=name)
    if number > FIGURE_COUNT_MAX:
        raise ServiceError(_("%(label)s过大，请核对。") % {"label": label}, field=name)
    return int(number)


def _check_figures(row: dict) -> None:
    """The rules between the figures of one year (each only when both figures are reported).
    Invention grants may exceed applications: a grant usually comes from an earlier year's filing."""
    employees = row.get("employees")
    for name, message in (
        ("st_staff", _("科技人员不能多于职工人数。")),
        ("master_staff", _("硕士及以上学历人员不能多于职工人数。")),
    ):
        if row.get(name) is not None and employees is not None and row[name] > employees:
            raise ServiceError(message, field=name)
    if (
        row.get("hitech_revenue") is not None
        and row.get("revenue") is not None
        and row["hitech_revenue"] > row["revenue"]
    ):
        raise ServiceError(_("高新技术产品（服务）收入不能高于营业收入。"), field="hitech_revenue")


def _audit_value(value):
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def annual_figures_save(
    *, enterprise: Enterprise, year, data: dict, by: User, rematch: bool = True
) -> AnnualFigures:
    """Record or correct the firm's figures of one financial year (one of the last three).

    ``data`` maps figure fields (``AnnualFigures.FIGURE_FIELDS``) to values — money in yuan, people
    and counts whole numbers, None or "" for not reported; figures not in ``data`` keep their value.
    Refused (nothing saved) with a Chinese message on the field: another firm's figures, a year
    outside the last three financial years, a negative figure (net profit may be negative: a loss),
    more S&T staff or master's-degree staff than employees, hi-tech revenue above revenue. The year's
    row is created or updated; what changed goes to the audit trail; the firm's open needs are
    matched again when the latest year changed (unless ``rematch`` is off: the caller rematches),
    and its score is recomputed after commit."""
    _require_own_enterprise(by, enterprise)
    years = financial_years()
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = None
    if year not in years:
        raise ServiceError(
            _("只能填报最近三个财务年度（%(first)s—%(last)s 年）的经营数据。")
            % {"first": years[-1], "last": years[0]},
            field="year",
        )
    unknown = set(data) - set(AnnualFigures.FIGURE_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    clean = {name: _figure_value(name, value) for name, value in data.items()}
    row = AnnualFigures.objects.select_for_update().filter(enterprise_id=enterprise.pk, year=year).first()
    created = row is None
    if created:
        row = AnnualFigures(enterprise_id=enterprise.pk, year=year)
    before = row.figures()
    after = {**before, **clean}
    _check_figures(after)
    changes = {
        name: {"old": _audit_value(before[name]), "new": _audit_value(after[name])}
        for name in AnnualFigures.FIGURE_FIELDS
        if before[name] != after[name]
    }
    if not changes and not created:
        return row
    for name, value in after.items():
        setattr(row, name, value)
    row.save()
    transition_record(
        subject=enterprise,
        from_state="" if created else "figures_recorded",
        to_state="figures_recorded",
        actor=by,
        note=_("%(year)s 年度经营数据：%(fields)s")
        % {"year": year, "fields": "、".join(_figure_label(n) for n in changes) or _("新建")},
        data={"year": year, "changes": changes},
    )
    latest = (
        AnnualFigures.objects.filter(enterprise_id=enterprise.pk)
        .order_by("-year")
        .values_list("year", flat=True)[:1]
    )
    if rematch and list(latest) == [year]:  # the matching facts are the latest year's
        _rematch(enterprise)

    def recompute() -> None:

        scoring.score_recompute_later(enterprise)

    transaction.on_commit(recompute)
    return row


#: A verified firm's legal identity: a change goes to provincial staff first (IdentityChange).
IDENTITY_FIELDS = ("name", "uscc", "legal_representative", "city")


def _identity_value(value):
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def identity_change_request(*, user: User, enterprise: Enterprise, **fields) -> IdentityChange | None:
    """Record the identity fields that differ from the verified ones as the firm's pending change
    (merged into the one already pending); the enterprise keeps its verified values. Staff are told.
    Returns the pending change, or None when nothing differs."""
    _require_own_enterprise(user, enterprise)
    current = Enterprise.objects.get(pk=enterprise.pk)
    differing = {}
    for key, value in fields.items():
        if key not in IDENTITY_FIELDS:
            raise ServiceError(_("不能修改这些字段：%(f)s") % {"f": key})
        if key == "uscc":
            value = uscc_check(value)
        old, new = _identity_value(getattr(current, key)), _identity_value(value)
        if old != new:
            differing[key] = {"old": old, "new": new}
    pending = (
        IdentityChange.objects.select_for_update()
        .filter(enterprise=current, status=IdentityChange.Status.PENDING)
        .first()
    )
    if not differing:
        return pending
    if pending is None:
        pending = IdentityChange(enterprise=current, requested_by=user, changes={})
    pending.changes = {**pending.changes, **differing}
    pending.requested_by = user
    pending.save()
    notification_send(
        users=list(desks_for(current)),
        title=_("企业身份信息变更待审核：%(n)s") % {"n": current.name},
        body=_("已认证企业申请变更名称、统一社会信用代码、法定代表人或所在城市，批准前仍显示原认证信息。"),
        url=reverse("enterprises:verify_list"),
    )
    return pending


@transaction.atomic
def identity_change_review(
    *, user: User, change: IdentityChange, approve: bool, note: str = ""
) -> IdentityChange:
    """Staff approve (the new values are applied) or reject (the verified values stay) a change."""
    _require_desk_of(user, change.enterprise, _("只有省级专班和企业所在区域的专班可以审核企业身份信息变更。"))
    locked = IdentityChange.objects.select_for_update().get(pk=change.pk)
    if locked.status != IdentityChange.Status.PENDING:
        raise ConflictError(_("该变更已审核。"))
    if not approve and not note.strip():
        raise ServiceError(_("请说明驳回的原因。"), field="note")
    firm = Enterprise.objects.select_for_update().get(pk=locked.enterprise_id)
    if approve:
        for key, pair in locked.changes.items():
            value = pair["new"]
            if key == "city":
                firm.city = Region.objects.get(pk=value)
            else:
                setattr(firm, key, value)
        firm.save()
    locked.status = IdentityChange.Status.APPROVED if approve else IdentityChange.Status.REJECTED
    locked.reviewed_by = user
    locked.reviewed_at = timezone.now()
    locked.note = note.strip()[:500]
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "note"])
    transition_record(
        subject=firm,
        from_state="identity_change_pending",
        to_state=f"identity_change_{locked.status}",
        actor=user,
        note=note,
    )
    title = _("企业身份信息变更已批准") if approve else _("企业身份信息变更未批准")
    notification_send(users=_firm_users(firm), title=title, body=note, url=reverse("enterprises:workspace"))
    if approve:
        _rematch(firm)
    return locked


def _rematch(enterprise: Enterprise) -> None:
    for need in FinancingNeed.objects.filter(enterprise=enterprise, status=FinancingNeed.Status.OPEN):
        _enqueue_need(need)


def qualification_expiry(*, kind: str, issued_on, expires_on=None):
    """The expiry a qualification is recorded with (domain.md §5): the statutory one when none is
    given; a given one must lie between the issue date and the statutory expiry. Refusals name
    ``expires_on``. Used by the firm's form and API and by the official-list import."""
    limit = statutory_expiry(kind, issued_on)
    if expires_on is None:
        return limit
    if expires_on < issued_on:
        raise ServiceError(_("有效期不能早于发证日期。"), field="expires_on")
    if expires_on > limit:
        rule = (
            _("科技型中小企业入库有效期至入库当年 12 月 31 日")
            if kind == Qualification.Kind.TECH_SME
            else _("该资质有效期为发证之日起三年")
        )
        raise ServiceError(
            _("有效期不能晚于 %(limit)s：%(rule)s（发证/入库日期 %(issued)s）。")
            % {"limit": limit.isoformat(), "rule": rule, "issued": issued_on.isoformat()},
            field="expires_on",
        )
    return expires_on


@transaction.atomic
def qualification_create(*, user: User, enterprise: Enterprise, **fields) -> Qualification:
    _require_own_enterprise(user, enterprise)
    kind = fields.get("kind")
    if kind not in Qualification.Kind.values:
        raise ServiceError(_("请选择资质类型。"), field="kind")
    if kind == Qualification.Kind.SRDI and not fields.get("level"):
        raise ServiceError(_("专精特新资质请选择层级。"), field="level")
    if kind != Qualification.Kind.SRDI:
        fields["level"] = ""
    issued = fields.get("issued_on")
    if issued is None:
        raise ServiceError(_("请填写发证/入库日期。"), field="issued_on")
    if issued > timezone.localdate():
        raise ServiceError(_("发证日期不能晚于今天。"), field="issued_on")
    expires = qualification_expiry(kind=kind, issued_on=issued, expires_on=fields.get("expires_on"))
    qual = Qualification.objects.create(
        enterprise=enterprise,
        kind=kind,
        level=fields.get("level", ""),
        number=fields.get("number", ""),
        issued_on=issued,
        expires_on=expires,
        source=Qualification.Source.DECLARED,
    )
    _rematch(enterprise)
    score_recompute_later(enterprise)
    pool_notify(enterprise=enterprise, event="qualification_added")
    return qual


@transaction.atomic
def qualification_delete(*, user: User, qualification: Qualification) -> None:
    _require_own_enterprise(user, qualification.enterprise)
    enterprise = qualification.enterprise
    qualification.delete()
    _rematch(enterprise)
    score_recompute_later(enterprise)


@transaction.atomic
def ip_asset_create(*, user: User, enterprise: Enterprise, **fields) -> IPAsset:
    _require_own_enterprise(user, enterprise)
    if fields.get("kind") not in IPAsset.Kind.values:
        raise ServiceError(_("请选择知识产权类型。"), field="kind")
    number = (fields.get("number") or "").strip()
    if not number:
        raise ServiceError(_("请填写登记号或专利号。"), field="number")
    if IPAsset.objects.filter(enterprise=enterprise, kind=fields["kind"], number=number).exists():
        raise ServiceError(_("这项知识产权已登记过。"), field="number")
    if fields.get("valuation") is not None and fields["valuation"] < 0:
        raise ServiceError(_("评估价值不能为负数。"), field="valuation")
    try:
        with transaction.atomic():
            asset = IPAsset.objects.create(
                enterprise=enterprise,
                kind=fields["kind"],
                number=number,
                title=fields.get("title", ""),
                granted_on=fields.get("granted_on"),
                valuation=fields.get("valuation"),
            )
    except IntegrityError:
        raise ServiceError(_("这项知识产权已登记过。"), field="number")
    _rematch(enterprise)
    return asset


@transaction.atomic
def ip_asset_delete(*, user: User, asset: IPAsset) -> None:
    _require_own_enterprise(user, asset.enterprise)
    enterprise = asset.enterprise
    asset.delete()
    _rematch(enterprise)


# ------------------------------------------------------------------------------------------------
# Documents
# ------------------------------------------------------------------------------------------------

# File signatures ("magic bytes") of the accepted types: the content decides, not the extension.
_SIGNATURES = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPG"),
)


def sniff_content_type(head: bytes) -> str | None:
    for magic, content_type, _label in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


@transaction.atomic
def document_upload(*, user: User, enterprise: Enterprise, kind: str, file) -> Document:
    """Store an uploaded file after checking its size and its content type by magic bytes."""
    _require_own_enterprise(user, enterprise)
    if kind not in Document.Kind.values:
        raise ServiceError(_("请选择材料类型。"), field="kind")
    if file is None:
        raise ServiceError(_("请选择要上传的文件。"), field="file")
    limit = settings.UPLOAD_MAX_BYTES
    if file.size > limit:
        raise ServiceError(
            _("文件过大：上限为 %(mb)s MB。") % {"mb": f"{limit / 1024 / 1024:.0f}"}, field="file"
        )
    if file.size == 0:
        raise ServiceError(_("文件是空的。"), field="file")
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise ServiceError(
            _("文件内容不是 PDF、JPG 或 PNG（仅凭扩展名不能判断，请上传真实的扫描件或照片）。"), field="file"
        )
    name = (getattr(file, "name", "") or "file").rsplit("/", 1)[-1][:200]
    return Document.objects.create(
        enterprise=enterprise,
        kind=kind,
        file=file,
        original_name=name,
        content_type=content_type,
        size=file.size,
        uploaded_by=user,
    )


@transaction.atomic
def document_delete(*, user: User, document: Document) -> None:
    _require_own_enterprise(user, document.enterprise)
    if document.applications.exists():
        raise ServiceError(_("该材料已随融资申请提交，不能删除。"))
    document.file.delete(save=False)
    document.delete()


# ------------------------------------------------------------------------------------------------
# Financing needs
# ------------------------------------------------------------------------------------------------


def _enqueue_need(need: FinancingNeed) -> None:
    """Tell the apps above that the need changed (``enterprises.signals.need_changed``): matching
    queues a run of it after commit."""
    need_changed.send(sender=FinancingNeed, need=need)


def _check_need_fields(fields: dict, *, partial: bool) -> dict:
    unknown = set(fields) - set(NEED_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    if not partial or "amount" in fields:
        amount = fields.get("amount")
        if amount is None:
            raise ServiceError(_("请填写融资金额。"), field="amount")
        if amount <= 0:
            raise ServiceError(_("融资金额必须大于 0。"), field="amount")
        if amount > NEED_AMOUNT_MAX:
            raise ServiceError(_("融资金额不能超过 100 亿元（1,000,000 万元）。"), field="amount")
    if not partial or "term_months" in fields:
        term = fields.get("term_months")
        if term is None:
            raise ServiceError(_("请填写融资期限。"), field="term_months")
        if term < 1 or term > NEED_TERM_MAX:
            raise ServiceError(_("融资期限应在 1 到 360 个月之间。"), field="term_months")
    if "purpose" in fields and fields["purpose"] not in FinancingNeed.Purpose.values:
        raise ServiceError(_("请选择资金用途。"), field="purpose")
    if "guarantee_types" in fields:
        types = list(dict.fromkeys(fields["guarantee_types"] or []))
        if not types:
            raise ServiceError(_("请至少选择一种可接受的担保方式。"), field="guarantee_types")
        if any(t not in GUARANTEE_TYPES for t in types):
            raise ServiceError(_("担保方式不在可选范围内。"), field="guarantee_types")
        fields["guarantee_types"] = types
    elif not partial:
        raise ServiceError(_("请至少选择一种可接受的担保方式。"), field="guarantee_types")
    rate = fields.get("max_annual_rate")
    if rate is not None and (rate <= 0 or rate > Decimal("36")):
        raise ServiceError(_("可接受最高年利率应大于 0 且不超过 36%。"), field="max_annual_rate")
    needed_by = fields.get("needed_by")
    if needed_by is not None and needed_by < timezone.localdate():
        raise ServiceError(_("期望到位日期不能早于今天。"), field="needed_by")
    return fields


@transaction.atomic
def need_create(*, user: User, enterprise: Enterprise, **fields) -> FinancingNeed:
    """Post a financing need; it is matched against all published products after commit."""
    _require_own_enterprise(user, enterprise)
    fields = _check_need_fields(dict(fields), partial=False)
    need = FinancingNeed.objects.create(enterprise=enterprise, posted_by=user, **fields)
    transition_record(subject=need, from_state="", to_state=need.status, actor=user, note=_("发布需求"))
    _enqueue_need(need)
    pool_notify(enterprise=enterprise, event="need_posted")
    return need


@transaction.atomic
def need_update(*, user: User, need: FinancingNeed, **fields) -> FinancingNeed:
    _require_own_enterprise(user, need.enterprise)
    need = FinancingNeed.objects.select_for_update().get(pk=need.pk)
    if not need.is_open:
        raise ServiceError(_("只有对接中的需求可以修改。"), status=409)
    fields = _check_need_fields(dict(fields), partial=True)
    for key, value in fields.items():
        setattr(need, key, value)
    need.save()
    _enqueue_need(need)
    return need


@transaction.atomic
def need_withdraw(*, user: User, need: FinancingNeed, note: str = "") -> FinancingNeed:
    """Withdraw an open need; its open leads are withdrawn from the banks too."""
    _require_own_enterprise(user, need.enterprise)
    need = FinancingNeed.objects.select_for_update().get(pk=need.pk)
    if need.status == FinancingNeed.Status.WITHDRAWN:
        return need
    if not need.is_open:
        raise ServiceError(_("只有对接中的需求可以撤回。"), status=409)
    need.status = FinancingNeed.Status.WITHDRAWN
    need.save(update_fields=["status", "updated_at"])
    transition_record(
        subject=need, from_state=FinancingNeed.Status.OPEN, to_state=need.status, actor=user, note=note
    )
    leads_withdraw(
        matches=Match.objects.filter(need=need, is_lead=True, status__in=OPEN_LEAD_STATUSES),
        actor=user,
        note=_("企业已撤回融资需求"),
    )
    _enqueue_need(need)
    return need


# ------------------------------------------------------------------------------------------------
# Leads withdrawn by the firm (consent revoked, need withdrawn)
# ------------------------------------------------------------------------------------------------


def leads_withdraw(*, matches, actor: User | None, note: str) -> int:
    """Set open leads to 'withdrawn', each with a Transition, and tell the bank people on them."""
    count = 0
    for match in matches.select_for_update().select_related("product", "enterprise"):
        if match.status not in OPEN_LEAD_STATUSES:
            continue
        before = match.status
        match.status = Match.Status.WITHDRAWN
        match.save(update_fields=["status", "updated_at"])
        transition_record(subject=match, from_state=before, to_state=match.status, actor=actor, note=note)
        if match.assigned_officer_id:
            recipients = User.objects.filter(pk=match.assigned_officer_id)
        elif match.branch_id:
            recipients = User.objects.filter(branch_id=match.branch_id, role=Role.OFFICER, is_active=True)
        else:
            recipients = User.objects.none()
        notification_send(
            users=list(recipients),
            title=_("线索已撤回：%(firm)s · %(product)s")
            % {"firm": match.enterprise.name, "product": match.product.name},
            body=note,
        )
        count += 1
    return count


# ------------------------------------------------------------------------------------------------
# Consent and the profile-view log
# ------------------------------------------------------------------------------------------------


def consent_granted(*, enterprise: Enterprise, institution_id: int | None) -> bool:
    """Whether the firm lets this institution see any part of its profile, for any purpose, today
    (a thin wrapper over :func:`enterprises.selectors.consent_scope`)."""
    return bool(consent_scope(enterprise=enterprise, institution_id=institution_id))


def _consent_label(consent: ProfileConsent) -> str:
    return consent.institution.name if consent.institution_id else _("全部金融机构")


def _clean_choices(values, *, allowed, field: str, empty: str, unknown: str) -> list[str]:
    values = list(dict.fromkeys(values))
    if not values:
        raise ServiceError(empty, field=field)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ServiceError(unknown % {"codes": "、".join(map(str, bad))}, field=field)
    return values


def consent_expiry_check(*, expires_on, today) -> object:
    """The expiry of a grant made ``today``: one year when not given, never later, never in the past."""
    latest = one_year_after(today)
    if expires_on is None:
        return latest
    if expires_on > latest:
        raise ServiceError(
            _("授权有效期最长一年：到期日不能晚于 %(d)s。") % {"d": latest.isoformat()}, field="expires_on"
        )
    if expires_on < today:
        raise ServiceError(_("到期日不能早于今天（%(d)s）。") % {"d": today.isoformat()}, field="expires_on")
    return expires_on


@transaction.atomic
def consent_grant(
    *,
    user: User | None,
    enterprise: Enterprise,
    institution: Institution | None,
    purposes=None,
    scope=None,
    expires_on=None,
) -> ProfileConsent:
    """Grant (or extend, or change) the firm's consent for one institution — or, with
    ``institution=None``, for all (the ``shares_profile`` switch). Purposes and scope default to all,
    ``expires_on`` to one year from today (the maximum). Granting again starts a new grant period:
    ``granted_at`` is now and the 30-day notice will be sent again before the new expiry.

    ``user`` is the firm's own user; None only for system paths (seeding, test factories)."""
    if user is not None:
        _require_own_enterprise(user, enterprise)
    today = timezone.localdate()
    purposes = _clean_choices(
        ALL_PURPOSES if purposes is None else purposes,
        allowed=ALL_PURPOSES,
        field="purposes",
        empty=_("请至少选择一项授权用途。"),
        unknown=_("未知的授权用途：%(codes)s（可选 lead、application、pool）。"),
    )
    groups = ordered_groups(
        _clean_choices(
            ALL_GROUPS if scope is None else scope,
            allowed=ALL_GROUPS,
            field="scope",
            empty=_("请至少选择一项授权范围。"),
            unknown=_("未知的资料分组：%(codes)s（可选 basic、financials、ip、qualifications、documents）。"),
        )
    )
    expires_on = consent_expiry_check(expires_on=expires_on, today=today)
    now = timezone.now()
    consent = (
        ProfileConsent.objects.select_for_update()
        .filter(enterprise=enterprise, institution=institution)
        .order_by("pk")
        .first()
    )
    before = consent.status_on(today) if consent is not None else "none"
    wanted = {f"for_{p}": p in purposes for p in ALL_PURPOSES}
    if (
        consent is not None
        and before == ProfileConsent.Status.ACTIVE
        and consent.expires_on == expires_on
        and consent.scope == groups
        and all(getattr(consent, k) == v for k, v in wanted.items())
        and (institution is not None or enterprise.shares_profile)
    ):
        return consent  # the same grant again (a form sent twice, a PUT of what GET returned)
    if consent is None:
        consent = ProfileConsent(enterprise=enterprise, institution=institution)
    for k, v in wanted.items():
        setattr(consent, k, v)
    consent.scope = groups
    consent.status = ProfileConsent.Status.ACTIVE
    consent.granted_at = now
    consent.expires_on = expires_on
    consent.revoked_at = None
    consent.expiry_notified_on = None
    consent.changed_at = now
    consent.changed_by = user
    consent.save()
    if institution is None:
        if not enterprise.shares_profile:
            enterprise.shares_profile = True
            enterprise.save(update_fields=["shares_profile", "updated_at"])
        # Sharing with everyone again lifts the refusals of single institutions.
        ProfileConsent.objects.filter(
            enterprise=enterprise, institution__isnull=False, status=ProfileConsent.Status.REVOKED
        ).delete()
    labels = dict(ConsentPurpose.choices)
    transition_record(
        subject=enterprise,
        from_state=_consent_state(institution, before),
        to_state=_consent_state(institution, ProfileConsent.Status.ACTIVE),
        actor=user,
        note=_("资料授权：%(who)s，用途 %(purposes)s，至 %(until)s")
        % {
            "who": _consent_label(consent),
            "purposes": "、".join(str(labels[p]) for p in consent.purposes),
            "until": expires_on.isoformat(),
        },
        data={"institution": institution.pk if institution else None, "purposes": purposes, "scope": groups},
    )
    return consent


def _consent_state(institution, status: str) -> str:
    """The state names the audit trail has used for consent since before consent records."""
    granted = status == ProfileConsent.Status.ACTIVE
    if institution is None:
        return "shares_all" if granted else "shares_none"
    return "consent_granted" if granted else "consent_refused"


@transaction.atomic
def consent_grant_for_application(
    *, user: User | None, enterprise: Enterprise, institution: Institution
) -> ProfileConsent:
    """The consent a firm gives by applying (it ticked 同意向该机构展示企业资料): the ``application``
    purpose for the product's institution, every profile group, one year from today — added to
    what the institution's record already covers while it is live, else a new grant."""
    today = timezone.localdate()
    consent = ProfileConsent.objects.filter(enterprise=enterprise, institution=institution).first()
    purposes = {ConsentPurpose.APPLICATION.value}
    if consent is not None and consent.is_live(today):
        purposes |= set(consent.purposes)
    return consent_grant(
        user=user,
        enterprise=enterprise,
        institution=institution,
        purposes=[p for p in ALL_PURPOSES if p in purposes],
        scope=ALL_GROUPS,
    )


@transaction.atomic
def consent_revoke(
    *, user: User, enterprise: Enterprise, institution: Institution | None
) -> ProfileConsent | None:
    """Revoke at once. One institution: its record becomes revoked (it also refuses the institution
    while the switch is on) and its open leads are withdrawn. ``institution=None``: the switch goes
    off, every record of the firm is revoked and every open lead withdrawn."""
    _require_own_enterprise(user, enterprise)
    today = timezone.localdate()
    now = timezone.now()
    if institution is None:
        switch = ProfileConsent.objects.filter(enterprise=enterprise, institution__isnull=True).first()
        was_on = enterprise.shares_profile and switch is not None and switch.is_live(today)
        enterprise.shares_profile = False
        enterprise.save(update_fields=["shares_profile", "updated_at"])
        ProfileConsent.objects.filter(enterprise=enterprise).exclude(
            status=ProfileConsent.Status.REVOKED
        ).update(status=ProfileConsent.Status.REVOKED, revoked_at=now, changed_at=now, changed_by=user)
        leads_withdraw(
            matches=Match.objects.filter(enterprise=enterprise, is_lead=True, status__in=OPEN_LEAD_STATUSES),
            actor=user,
            note=_("企业撤回了向全部金融机构展示资料的授权"),
        )
        if was_on:
            transition_record(
                subject=enterprise,
                from_state="shares_all",
                to_state="shares_none",
                actor=user,
                note=_("资料授权：全部金融机构"),
            )
        return None
    before = consent_granted(enterprise=enterprise, institution_id=institution.pk)
    consent, _created = ProfileConsent.objects.update_or_create(
        enterprise=enterprise,
        institution=institution,
        defaults={
            "status": ProfileConsent.Status.REVOKED,
            "revoked_at": now,
            "changed_at": now,
            "changed_by": user,
        },
        create_defaults={
            "status": ProfileConsent.Status.REVOKED,
            "revoked_at": now,
            "changed_at": now,
            "changed_by": user,
            "scope": [],
            "expires_on": today,
        },
    )
    if before:
        transition_record(
            subject=enterprise,
            from_state="consent_granted",
            to_state="consent_refused",
            actor=user,
            note=_("资料授权：%(inst)s") % {"inst": institution.name},
            data={"institution": institution.pk},
        )
    leads_withdraw(
        matches=Match.objects.filter(
            enterprise=enterprise, institution=institution, is_lead=True, status__in=OPEN_LEAD_STATUSES
        ),
        actor=user,
        note=_("企业撤回了向贵机构展示资料的授权"),
    )
    return consent


def consent_set(*, user: User, enterprise: Enterprise, institution: Institution, granted: bool):
    """Grant (every purpose and group, one year) or revoke consent for one institution."""
    if granted:
        return consent_grant(user=user, enterprise=enterprise, institution=institution)
    return consent_revoke(user=user, enterprise=enterprise, institution=institution)


def consent_set_all(*, user: User, enterprise: Enterprise, granted: bool) -> Enterprise:
    """The all-institutions switch: on grants every purpose and group to all for one year (and
    lifts single refusals); off revokes every record and withdraws every open lead."""
    if granted:
        consent_grant(user=user, enterprise=enterprise, institution=None)
    else:
        consent_revoke(user=user, enterprise=enterprise, institution=None)
    return enterprise


@transaction.atomic
def consent_update(
    *, user: User, enterprise: Enterprise, shares_profile: bool, institutions: dict
) -> Enterprise:
    """Apply a whole consent form: the switch, then each institution's decision. ``institutions``
    maps an institution id to a bool (grant with defaults / revoke) or to a dict with ``granted``
    (default true) and optional ``purposes``, ``scope``, ``expires_on``."""
    _require_own_enterprise(user, enterprise)
    if bool(shares_profile) != enterprise.shares_profile or (
        shares_profile and not consent_scope_all_live(enterprise=enterprise)
    ):
        consent_set_all(user=user, enterprise=enterprise, granted=shares_profile)
    if institutions:
        found = Institution.objects.in_bulk(list(institutions))
        missing = set(institutions) - set(found)
        if missing:
            raise ServiceError(
                _("找不到这些金融机构：%(ids)s") % {"ids": ", ".join(map(str, sorted(missing)))},
                field="institutions",
            )
        for inst_id, decision in institutions.items():
            if not isinstance(decision, dict):
                decision = {"granted": bool(decision)}
            granted = decision.get("granted")
            detail = {
                k: decision[k] for k in ("purposes", "scope", "expires_on") if decision.get(k) is not None
            }
            if granted is None:
                granted = True
            currently = consent_granted(enterprise=enterprise, institution_id=inst_id)
            if granted and detail and _same_as_switch(enterprise, inst_id, detail):
                continue  # a row shown from the share-with-all record, sent back unchanged
            if not granted:
                if currently:  # nothing to revoke otherwise (a row sent back as GET showed it)
                    consent_revoke(user=user, enterprise=enterprise, institution=found[inst_id])
            elif detail or not currently:
                consent_grant(user=user, enterprise=enterprise, institution=found[inst_id], **detail)
    return enterprise


def _same_as_switch(enterprise: Enterprise, institution_id: int, detail: dict) -> bool:
    """Whether an institution without its own record is asked for exactly what the live switch gives."""
    if ProfileConsent.objects.filter(enterprise=enterprise, institution_id=institution_id).exists():
        return False
    switch = ProfileConsent.objects.filter(enterprise=enterprise, institution__isnull=True).first()
    if not (enterprise.shares_profile and switch is not None and switch.is_live(timezone.localdate())):
        return False
    return (
        list(detail.get("purposes", switch.purposes)) == switch.purposes
        and ordered_groups(detail.get("scope", switch.scope)) == ordered_groups(switch.scope)
        and detail.get("expires_on", switch.expires_on) == switch.expires_on
    )


def consent_scope_all_live(*, enterprise: Enterprise) -> bool:
    """Whether the firm's share-with-all switch is on with a live record today."""
    switch = ProfileConsent.objects.filter(enterprise=enterprise, institution__isnull=True).first()
    return enterprise.shares_profile and switch is not None and switch.is_live(timezone.localdate())


def consents_expire(*, on=None) -> dict:
    """The nightly pass over consent records (idempotent): a record past its ``expires_on`` becomes
    expired (the switch's record turns the switch off); a live record within 30 days of its expiry
    tells the firm once per grant period (a conditional UPDATE claims the notice, so two runs, or two
    workers, never send it twice)."""
    today = on or timezone.localdate()
    now = timezone.now()
    past = ProfileConsent.objects.filter(status=ProfileConsent.Status.ACTIVE, expires_on__lt=today)
    switch_firms = list(past.filter(institution__isnull=True).values_list("enterprise_id", flat=True))
    expired = past.update(status=ProfileConsent.Status.EXPIRED, changed_at=now)
    if switch_firms:
        Enterprise.objects.filter(pk__in=switch_firms).update(shares_profile=False, updated_at=now)
    notified = 0
    due = (
        ProfileConsent.objects.filter(
            status=ProfileConsent.Status.ACTIVE,
            expires_on__gte=today,
            expires_on__lte=today + timedelta(days=CONSENT_NOTICE_DAYS),
            expiry_notified_on__isnull=True,
        )
        .select_related("enterprise", "institution")
        .order_by("expires_on", "pk")
    )
    for consent in due:
        with transaction.atomic():
            claimed = ProfileConsent.objects.filter(
                pk=consent.pk, status=ProfileConsent.Status.ACTIVE, expiry_notified_on__isnull=True
            ).update(expiry_notified_on=today)
            if claimed != 1:
                continue
            notification_send(
                users=_firm_users(consent.enterprise),
                title=_("资料授权即将到期：%(who)s，%(d)s")
                % {"who": _consent_label(consent), "d": consent.expires_on.isoformat()},
                body=_(
                    "您对%(who)s的资料授权将于 %(d)s 到期，到期后该机构只能看到企业名称、城市和行业。"
                    "如需继续授权，请在“资料授权”页续期。"
                )
                % {"who": _consent_label(consent), "d": consent.expires_on.isoformat()},
                url=reverse("enterprises:consent"),
            )
            notified += 1
    return {"expired": expired, "notified": notified}


def profile_view_record(*, viewer: User, enterprise: Enterprise, purpose: str | None = None) -> None:
    """Log that ``viewer`` opened the firm's profile for ``purpose`` (a ``ConsentPurpose`` value;
    None when the caller does not say): institution, officer, when, restricted or not for that
    purpose. The firm's own users are not logged."""
    if viewer is None or not viewer.is_authenticated:
        return
    if viewer.role == Role.FIRM and viewer.enterprise_id == enterprise.pk:
        return
    if purpose is not None and purpose not in ALL_PURPOSES:
        raise ValueError(f"unknown consent purpose {purpose!r}")
    institution_id = viewer.institution_id if viewer.is_bank else None
    restricted = viewer.role != Role.STAFF and not consent_scope(
        enterprise=enterprise, institution_id=institution_id, purpose=purpose
    )
    ProfileView.objects.create(
        enterprise=enterprise,
        institution_id=institution_id,
        viewer=viewer,
        restricted=restricted,
        purpose=purpose or "",
    )


__all__ = [
    "consent_grant",
    "consent_grant_for_application",
    "consent_granted",
    "consent_revoke",
    "consent_set",
    "consent_set_all",
    "consent_update",
    "consents_expire",
    "document_delete",
    "document_upload",
    "enterprise_update",
    "enterprise_verify",
    "firm_register",
    "ip_asset_create",
    "ip_asset_delete",
    "leads_withdraw",
    "need_create",
    "need_update",
    "need_withdraw",
    "profile_view_record",
    "qualification_create",
    "qualification_delete",
    "qualification_expiry",
]
