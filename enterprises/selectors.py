"""Reads of firm data, scoped to what each user may see."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from portal.models import Role

from .consent import ConsentPurpose, ProfileGroup, consent_scope, ordered_groups
from .models import Document, Enterprise, FinancingNeed, IPAsset, ProfileConsent, ProfileView, Qualification


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


def _owned_by_firm(qs: QuerySet, user) -> QuerySet:
    """Rows that belong to one enterprise: staff see all, a firm user its own, anyone else none."""
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    return qs.none()


def need_for_user(user) -> QuerySet[FinancingNeed]:
    return _owned_by_firm(FinancingNeed.objects.select_related("enterprise", "enterprise__city"), user)


def qualification_for_user(user) -> QuerySet[Qualification]:
    return _owned_by_firm(Qualification.objects.select_related("enterprise"), user)


def ip_asset_for_user(user) -> QuerySet[IPAsset]:
    return _owned_by_firm(IPAsset.objects.select_related("enterprise"), user)


def document_for_user(user) -> QuerySet[Document]:
    """Firm: its own documents. Bank: documents the firm attached to an application to that
    institution. Staff: all. Anyone else: none."""
    qs = Document.objects.select_related("enterprise")
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(applications__product__institution_id=user.institution_id).distinct()
    return qs.none()


def pending_enterprises() -> QuerySet[Enterprise]:
    return (
        Enterprise.objects.filter(verification_status=Enterprise.Verification.PENDING)
        .select_related("city")
        .order_by("created_at", "id")
    )


def profile_views_for(enterprise: Enterprise) -> QuerySet[ProfileView]:
    """Every opening of the firm's profile, one row each (the API's log)."""
    return ProfileView.objects.filter(enterprise=enterprise).select_related(
        "institution", "viewer", "viewer__branch"
    )


VIEW_COLLAPSE_WINDOW = timedelta(hours=1)


def profile_views_collapsed(enterprise: Enterprise) -> list[dict]:
    """The firm's view log as it reads it: repeated opens by the same person, for the same purpose,
    within an hour of the first of them are one row with a count. Newest first; each row has
    ``first``, ``last``, ``count``, ``institution``, ``viewer``, ``purpose`` (code),
    ``purpose_display``, ``restricted`` (of the latest open)."""
    labels = dict(ConsentPurpose.choices)
    open_rows: dict[tuple, dict] = {}
    rows: list[dict] = []
    for view in profile_views_for(enterprise).order_by("viewed_at", "id"):
        key = (view.viewer_id, view.institution_id, view.purpose)
        row = open_rows.get(key)
        if row is not None and view.viewed_at < row["first"] + VIEW_COLLAPSE_WINDOW:
            row["count"] += 1
            row["last"] = view.viewed_at
            row["restricted"] = view.restricted
            continue
        row = {
            "id": view.pk,
            "first": view.viewed_at,
            "last": view.viewed_at,
            "count": 1,
            "institution": view.institution,
            "viewer": view.viewer,
            "purpose": view.purpose,
            "purpose_display": labels.get(view.purpose, ""),
            "restricted": view.restricted,
        }
        open_rows[key] = row
        rows.append(row)
    rows.sort(key=lambda r: (r["last"], r["id"]), reverse=True)
    return rows


def consent_overview(enterprise: Enterprise, *, on=None) -> list[dict]:
    """Every lending institution with the firm's consent as it stands today: ``granted`` (it may see
    something, for some purpose), ``purposes``, ``scope``, ``granted_at``, ``expires_on``,
    ``status`` (active / revoked / expired / none) and ``source`` — "institution" when the
    institution's own record decides, "all" when the share-with-all switch does, None when no
    record exists. ``record`` is the institution's own record (or None)."""
    from lenders.models import Institution

    day = on or timezone.localdate()
    records = {c.institution_id: c for c in ProfileConsent.objects.filter(enterprise=enterprise)}
    switch = records.get(None)
    switch_live = enterprise.shares_profile and switch is not None and switch.is_live(day)
    purpose_labels = dict(ConsentPurpose.choices)
    group_labels = dict(ProfileGroup.choices)
    rows = []
    for inst in Institution.objects.filter(is_lender=True).order_by("name"):
        own = records.get(inst.pk)
        if own is not None and (
            own.is_live(day) or own.status == ProfileConsent.Status.REVOKED or not switch_live
        ):
            shown, source = own, "institution"
        elif switch_live:
            shown, source = switch, "all"
        else:
            shown, source = None, None
        scope = consent_scope(enterprise=enterprise, institution_id=inst.pk, on=day)
        live = shown is not None and shown.is_live(day)
        purposes = shown.purposes if live else []
        groups = ordered_groups(shown.scope) if live else []
        rows.append(
            {
                "institution": inst,
                "granted": bool(scope),
                "explicit": own is not None,
                "record": own,
                "source": source,
                "purposes": purposes,
                "purpose_labels": [purpose_labels[p] for p in purposes],
                "scope": groups,
                "scope_labels": [group_labels[g] for g in groups],
                "granted_at": shown.granted_at if shown is not None else None,
                "expires_on": shown.expires_on if shown is not None else None,
                "status": shown.status_on(day) if shown is not None else "none",
                # the share-with-all record also covers this institution (its own record is shown)
                "via_all": switch_live
                and source == "institution"
                and shown.status != ProfileConsent.Status.REVOKED,
            }
        )
    return rows


def consent_switch(enterprise: Enterprise, *, on=None) -> dict:
    """The share-with-all switch as the consent page shows it: on (live today), its record, status."""
    day = on or timezone.localdate()
    record = ProfileConsent.objects.filter(enterprise=enterprise, institution__isnull=True).first()
    live = enterprise.shares_profile and record is not None and record.is_live(day)
    status = record.status_on(day) if record is not None else "none"
    if record is not None and not enterprise.shares_profile and status == ProfileConsent.Status.ACTIVE:
        status = ProfileConsent.Status.REVOKED
    return {"on": live, "record": record, "status": status}


def qualification_status(qualification: Qualification, *, on=None) -> str:
    """'valid', 'expired' or 'future' on a day (today by default)."""
    day = on or timezone.localdate()
    if qualification.issued_on > day:
        return "future"
    return "valid" if qualification.counts_on(day) else "expired"


# What the completeness meter checks, why it matters for matching, and how to tell it is there.
COMPLETENESS_ITEMS = (
    ("founded_on", "成立日期", "产品常设成立年限门槛（如成立满 2 年），缺失时按注册日期估算，可能误判。"),
    ("employees", "职工人数", "用于判断科技型中小企业等资质条件及研发人员占比。"),
    ("rd_staff", "研发人员", "研发人员占比影响匹配评分中的研发实力。"),
    ("revenue_last_year", "上年营业收入", "许多产品要求最低营收或按营收核定额度，未填写时营收视为 0。"),
    ("rd_spend_last_year", "上年研发投入", "研发投入强度占匹配评分的 20 分。"),
    ("total_assets", "资产总额", "银行评估授信额度时参考。"),
    ("registered_capital", "注册资本", "银行评估企业规模时参考。"),
    ("address", "地址", "用于安排上门服务和就近网点承接。"),
    ("contact_name", "联系人", "银行客户经理联系企业时使用。"),
    ("description", "企业简介", "让客户经理快速了解主营业务和技术优势。"),
    ("qualifications", "有效资质", "高新技术企业、科技型中小企业等资质是许多专属产品的准入条件。"),
    ("ip_assets", "知识产权", "知识产权质押贷款等产品要求发明专利；知识产权也计入匹配评分。"),
    ("business_license", "营业执照", "申请时银行需要核验营业执照。"),
)


def profile_completeness(enterprise: Enterprise) -> dict:
    """Percentage filled and the list of what is missing, each with why it matters for matching."""
    today = timezone.localdate()
    quals = list(enterprise.qualifications.all())
    present = {
        "founded_on": enterprise.founded_on is not None,
        "employees": bool(enterprise.employees),
        "rd_staff": bool(enterprise.rd_staff),
        "revenue_last_year": bool(enterprise.revenue_last_year),
        "rd_spend_last_year": bool(enterprise.rd_spend_last_year),
        "total_assets": enterprise.total_assets is not None,
        "registered_capital": enterprise.registered_capital is not None,
        "address": bool(enterprise.address),
        "contact_name": bool(enterprise.contact_name),
        "description": bool(enterprise.description),
        "qualifications": any(q.counts_on(today) for q in quals),
        "ip_assets": enterprise.ip_assets.exists(),
        "business_license": enterprise.documents.filter(kind=Document.Kind.BUSINESS_LICENSE).exists(),
    }
    missing = [
        {"code": c, "label": label, "why": why} for c, label, why in COMPLETENESS_ITEMS if not present[c]
    ]
    total = len(COMPLETENESS_ITEMS)
    return {"percent": round((total - len(missing)) * 100 / total), "missing": missing}


def _bank_has_business(*, institution_id, enterprise: Enterprise) -> bool:
    from matching.models import Application, Match

    lead = (
        Match.objects.filter(enterprise=enterprise, institution_id=institution_id, is_lead=True)
        .exclude(status=Match.Status.WITHDRAWN)
        .exists()
    )
    return (
        lead
        or Application.objects.filter(enterprise=enterprise, product__institution_id=institution_id)
        .exclude(status=Application.Status.WITHDRAWN)
        .exists()
    )


def enterprise_profile_for_bank(*, user, enterprise: Enterprise) -> dict:
    """What a bank user (or staff) may see of a firm.

    Staff: the full profile. An officer or manager: only when their institution has a live lead or
    application with the firm (otherwise ``Http404``); the full profile when the firm consents to
    share with that institution, else only name, city and industry. ``restricted`` says which."""
    from .services import consent_granted

    if not user.is_authenticated or user.role not in (Role.STAFF, Role.OFFICER, Role.MANAGER):
        raise Http404("enterprise")
    base = {
        "id": enterprise.pk,
        "name": enterprise.name,
        "city": enterprise.city_id,
        "city_name": str(enterprise.city),
        "industry": enterprise.industry,
        "industry_display": enterprise.get_industry_display(),
    }
    if user.role != Role.STAFF:
        if not _bank_has_business(institution_id=user.institution_id, enterprise=enterprise):
            raise Http404("enterprise")
        if not consent_granted(enterprise=enterprise, institution_id=user.institution_id):
            return {**base, "restricted": True}
    today = timezone.localdate()
    quals = [q for q in enterprise.qualifications.all() if q.counts_on(today)]
    assets = list(enterprise.ip_assets.all())
    return {
        **base,
        "restricted": False,
        "uscc": enterprise.uscc,
        "legal_representative": enterprise.legal_representative,
        "address": enterprise.address,
        "founded_on": enterprise.founded_on,
        "registered_capital": enterprise.registered_capital,
        "stage": enterprise.stage,
        "stage_display": enterprise.get_stage_display(),
        "employees": enterprise.employees,
        "rd_staff": enterprise.rd_staff,
        "revenue_last_year": enterprise.revenue_last_year,
        "rd_spend_last_year": enterprise.rd_spend_last_year,
        "total_assets": enterprise.total_assets,
        "export_business": enterprise.export_business,
        "export_amount_last_year": enterprise.export_amount_last_year,
        "contact_name": enterprise.contact_name,
        "contact_mobile": enterprise.contact_mobile,
        "contact_email": enterprise.contact_email,
        "description": enterprise.description,
        "verification_status": enterprise.verification_status,
        "qualifications": [
            {"code": q.code, "name": q.display_name, "number": q.number, "expires_on": q.expires_on}
            for q in quals
        ],
        "ip_assets": [
            {"kind": a.kind, "kind_display": a.get_kind_display(), "number": a.number, "title": a.title}
            for a in assets
        ],
    }


def need_choices_for_product(user) -> QuerySet[FinancingNeed]:
    """The firm's open needs, newest first (the eligibility check uses one of them)."""
    return need_for_user(user).filter(status=FinancingNeed.Status.OPEN).order_by("-created_at", "-id")


def product_eligibility(*, user, product, need: FinancingNeed | None = None, on=None):
    """The engine's verdict for the caller's enterprise (and a need) on a product: the same
    ``matching.engine.evaluate`` the matching service runs, fed by ``matching.facts``."""
    from matching.engine import evaluate
    from matching.facts import city_names, firm_facts, need_facts, product_facts

    enterprise = (
        Enterprise.objects.select_related("city")
        .prefetch_related("qualifications", "ip_assets")
        .get(pk=user.enterprise_id)
    )
    return evaluate(
        firm_facts(enterprise),
        product_facts(product),
        need_facts(need) if need is not None else None,
        on=on or timezone.localdate(),
        city_names=city_names(),
    )


__all__ = [
    "consent_overview",
    "consent_switch",
    "document_for_user",
    "enterprise_for_user",
    "enterprise_profile_for_bank",
    "ip_asset_for_user",
    "need_for_user",
    "pending_enterprises",
    "product_eligibility",
    "profile_completeness",
    "profile_views_collapsed",
    "profile_views_for",
    "qualification_for_user",
]
