"""Reads of firm data, scoped to what each user may see."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from lenders.models import Institution, PoolEntry
from matching.engine import evaluate
from matching.facts import city_names, firm_facts, firm_facts_prefetch, need_facts, product_facts
from matching.models import Application, Match
from portal.access import ACT, VIEW, access_rule, restrict
from portal.models import BANK_ROLES, Role
from portal.money import format_count, format_percent, format_wan

from . import score as engine
from .consent import ALL_GROUPS, ALL_PURPOSES, ConsentPurpose, ProfileGroup, ordered_groups
from .models import (
    FIRST_LOAN_FIRMS,
    Document,
    Enterprise,
    FinancingNeed,
    IdentityChange,
    InnovationScore,
    IPAsset,
    ProfileConsent,
    ProfileView,
    Qualification,
    ServiceVisit,
    first_loan_firm,
)
from .scoring import stage_group

# ------------------------------------------------------------------------------------------------
# Consent: which of a firm's profile groups may an institution see, for a purpose, on a day
# (the rule is stated in enterprises/consent.py)
# ------------------------------------------------------------------------------------------------


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


def consenting_q(
    *, institution_id: int | None, purpose: str | None = None, on: date | None = None, group: str | None = None
) -> Q:
    """The rule of :func:`consent_scope` as a filter on ``Enterprise``: the firms that let
    ``institution_id`` see at least one profile group for ``purpose`` on day ``on`` — or, with
    ``group``, that group (a ``ProfileGroup``) among those it sees."""
    if institution_id is None:
        return Q(pk__in=[])
    day = on or timezone.localdate()
    live = Q(status=ProfileConsent.Status.ACTIVE, expires_on__gte=day) & _purpose_filter(purpose)
    rows = ProfileConsent.objects.filter(enterprise_id=OuterRef("pk"))
    if group is not None:
        # ``scope`` is a JSON list of group codes; its text holds the code in quotes on PostgreSQL
        # and SQLite alike (a JSON "contains" lookup exists on PostgreSQL only).
        rows = rows.annotate(scope_text=Cast("scope", TextField())).filter(scope_text__contains=f'"{group}"')
    own_live = rows.filter(live, institution_id=institution_id)
    switch_live = rows.filter(live, institution__isnull=True)
    revoked = ProfileConsent.objects.filter(
        enterprise_id=OuterRef("pk"), institution_id=institution_id, status=ProfileConsent.Status.REVOKED
    )
    return Q(Exists(own_live)) | (Q(shares_profile=True) & Q(Exists(switch_live)) & ~Q(Exists(revoked)))


def first_loan_firm_for(user, ref: str = "enterprise_id", *, purpose: str | None = None) -> Exists:
    """首贷户 as ``user`` may see it, as an annotation or filter on rows naming a firm (``ref``, as in
    ``enterprises.models.first_loan_firm``). The flag is the firm's declared loan history, part of
    its 财务数据: a bank sees it only for firms whose live consent lets its institution see the
    ``financials`` group (for ``purpose``; any purpose when None) — the rule of the one bank view,
    so the badge, the ``first_loan`` filter, the API field and the export agree with the profile
    the bank may open. Everyone else who reads the row sees the rule itself."""
    if getattr(user, "role", None) in BANK_ROLES:
        visible = consenting_q(
            institution_id=user.institution_id, purpose=purpose, group=ProfileGroup.FINANCIALS
        )
        return Exists(Enterprise.objects.filter(FIRST_LOAN_FIRMS, visible, pk=OuterRef(ref)))
    return first_loan_firm(ref)


@access_rule(Enterprise)
def _enterprise_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """A firm user reads and edits its own enterprise; staff read all and act on all (verification);
    a region desk reads and acts on the firms of its region only; a bank reads a firm only through
    ``enterprise_profile_for_bank``, never this queryset."""
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.REGION:
        return qs.filter(city_id=user.region_id)
    if user.role == Role.FIRM:
        return qs.filter(pk=user.enterprise_id)
    return qs.none()


def enterprise_for_user(user, action: str = VIEW) -> QuerySet[Enterprise]:
    return restrict(Enterprise.objects.select_related("city"), user, action)


def _owned_by_firm(qs: QuerySet, user, action: str) -> QuerySet:
    """Rows that belong to one enterprise: the firm's own users read and act on them; staff read
    them all, a region desk those of its region's firms (and act on none); anyone else: none."""
    if user.role == Role.STAFF:
        return qs if action == VIEW else qs.none()
    if user.role == Role.REGION:
        return qs.filter(enterprise__city_id=user.region_id) if action == VIEW else qs.none()
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    return qs.none()


access_rule(FinancingNeed)(_owned_by_firm)
access_rule(Qualification)(_owned_by_firm)
access_rule(IPAsset)(_owned_by_firm)


def need_for_user(user, action: str = VIEW) -> QuerySet[FinancingNeed]:
    return restrict(FinancingNeed.objects.select_related("enterprise", "enterprise__city"), user, action)


def qualification_for_user(user, action: str = VIEW) -> QuerySet[Qualification]:
    return restrict(Qualification.objects.select_related("enterprise"), user, action)


def ip_asset_for_user(user, action: str = VIEW) -> QuerySet[IPAsset]:
    return restrict(IPAsset.objects.select_related("enterprise"), user, action)


def _documents_consented(institution_id: int) -> set[int]:
    """The firms whose documents the institution may download today: for some purpose it has live
    business with the firm (a lead not withdrawn, an application not withdrawn, a pool entry) and
    the firm's live consent for that purpose includes ``documents``. A withdrawn application or a
    revoked or expired consent ends it."""

    business = {
        ConsentPurpose.LEAD: Match.objects.filter(institution_id=institution_id, is_lead=True)
        .exclude(status=Match.Status.WITHDRAWN)
        .values("enterprise_id"),
        ConsentPurpose.APPLICATION: Application.objects.filter(product__institution_id=institution_id)
        .exclude(status=Application.Status.WITHDRAWN)
        .values("enterprise_id"),
        ConsentPurpose.POOL: PoolEntry.objects.filter(institution_id=institution_id).values("enterprise_id"),
    }
    allowed: set[int] = set()
    for purpose, ids in business.items():
        firms = (
            Enterprise.objects.filter(pk__in=ids, documents__isnull=False).exclude(pk__in=allowed).distinct()
        )
        for firm in firms:
            scope = consent_scope(enterprise=firm, institution_id=institution_id, purpose=purpose)
            if ProfileGroup.DOCUMENTS in scope:
                allowed.add(firm.pk)
    return allowed


@access_rule(Document)
def _document_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Firm: its own documents (read, upload, delete). Bank: reads the documents of firms whose
    live consent to its institution covers ``documents`` (``_documents_consented``). Staff: reads
    all. Anyone else: none."""
    if user.role == Role.STAFF:
        return qs if action == VIEW else qs.none()
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER) and action == VIEW:
        return qs.filter(enterprise_id__in=_documents_consented(user.institution_id))
    return qs.none()


def document_for_user(user, action: str = VIEW) -> QuerySet[Document]:
    return restrict(Document.objects.select_related("enterprise"), user, action)


@access_rule(IdentityChange)
def _identity_change_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Staff read and review every change; a region desk those of its region's firms (the firm's
    current, verified city); the firm reads its own. Anyone else: none."""
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.REGION:
        return qs.filter(enterprise__city_id=user.region_id)
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id) if action == VIEW else qs.none()
    return qs.none()


@access_rule(ServiceVisit)
def _visit_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Service visits: staff read and act on all (record, follow up); a region desk on the visits
    of its region's firms; a bank manager reads the visits his institution took part in. Anyone
    else: none."""
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.REGION:
        return qs.filter(enterprise__city_id=user.region_id)
    if user.role == Role.MANAGER and user.institution_id and action == VIEW:
        return qs.filter(institution_id=user.institution_id)
    return qs.none()


def identity_change_for_user(user, action: str = VIEW) -> QuerySet[IdentityChange]:
    return restrict(IdentityChange.objects.select_related("enterprise__city", "requested_by"), user, action)


def identity_changes_pending(user) -> QuerySet[IdentityChange]:
    """Identity changes of verified firms waiting for the user's desk, oldest first."""
    return (
        identity_change_for_user(user, ACT)
        .filter(status=IdentityChange.Status.PENDING)
        .order_by("created_at", "pk")
    )


def pending_enterprises(user) -> QuerySet[Enterprise]:
    """Firms waiting for verification that the user's desk may verify, oldest first."""
    return (
        enterprise_for_user(user, ACT)
        .filter(verification_status=Enterprise.Verification.PENDING)
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
    ("employees", "职工人数", "用于判断科技型中小企业等资质条件及科技人员占比。"),
    ("st_staff", "科技人员", "科技人员占比影响匹配评分中的研发实力，也计入科创积分。"),
    ("revenue", "上年营业收入", "许多产品要求最低营收或按营收核定额度，未填写时营收视为 0。"),
    ("rd_spend", "上年研发投入", "研发投入强度占匹配评分的 20 分（已有科创积分的企业为 15 分）。"),
    (
        "other_figures",
        "其他年度经营数据",
        "高新技术产品收入、技术合同成交额、发明专利申请等计入科创积分，至少填写一项。",
    ),
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
    """Percentage filled and the list of what is missing, each with why it matters for matching.

    The figures are the latest recorded year's (``Enterprise.latest_figures``): revenue, R&D spend,
    employees and S&T staff each count when reported and not zero, and "other figures" when at least
    one of the rest of that year's figures is reported (a reported 0 counts: it was answered)."""
    today = timezone.localdate()
    quals = list(enterprise.qualifications.all())
    figures = enterprise.latest_figures
    year = figures.figures() if figures is not None else {}
    main = ("employees", "st_staff", "revenue", "rd_spend")
    present = {
        "founded_on": enterprise.founded_on is not None,
        **{name: bool(year.get(name)) for name in main},
        "other_figures": any(v is not None for k, v in year.items() if k not in main),
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


def _bank_has_business(*, institution_id, enterprise: Enterprise, purpose: str | None = None) -> bool:
    """Whether the institution has live business with the firm for ``purpose`` (any when None): a
    lead (``lead``), an application not withdrawn (``application``), a pool entry (``pool``)."""

    checks = {
        ConsentPurpose.LEAD: lambda: (
            Match.objects.filter(enterprise=enterprise, institution_id=institution_id, is_lead=True)
            .exclude(status=Match.Status.WITHDRAWN)
            .exists()
        ),
        ConsentPurpose.APPLICATION: lambda: (
            Application.objects.filter(enterprise=enterprise, product__institution_id=institution_id)
            .exclude(status=Application.Status.WITHDRAWN)
            .exists()
        ),
        ConsentPurpose.POOL: lambda: PoolEntry.objects.filter(
            enterprise=enterprise, institution_id=institution_id
        ).exists(),
    }
    if purpose is not None:
        return checks[purpose]()
    return any(check() for check in checks.values())


def _profile_groups(enterprise: Enterprise, groups: frozenset[str]) -> dict:
    """The fields of each profile group in ``groups`` (the bank view's one list of what is where)."""
    out: dict = {}
    if ProfileGroup.BASIC in groups:
        out.update(
            uscc=enterprise.uscc,
            legal_representative=enterprise.legal_representative,
            address=enterprise.address,
            founded_on=enterprise.founded_on,
            registered_capital=enterprise.registered_capital,
            stage=enterprise.stage,
            stage_display=enterprise.get_stage_display(),
            contact_name=enterprise.contact_name,
            contact_mobile=enterprise.contact_mobile,
            contact_email=enterprise.contact_email,
            description=enterprise.description,
        )
    if ProfileGroup.FINANCIALS in groups:
        # The latest year's figures (AnnualFigures): every one of them, and under the single-year
        # names the profile used to have. None: not reported.
        latest = enterprise.latest_figures
        figures = latest.figures() if latest is not None else {}
        out.update(
            figures_year=latest.year if latest is not None else None,
            figures=figures,
            employees=figures.get("employees"),
            rd_staff=figures.get("st_staff"),
            revenue_last_year=figures.get("revenue"),
            rd_spend_last_year=figures.get("rd_spend"),
            total_assets=enterprise.total_assets,
            export_business=enterprise.export_business,
            export_amount_last_year=enterprise.export_amount_last_year,
        )
    if ProfileGroup.FINANCIALS in groups:  # the 科创积分 is financial data (issue 16)
        out["innovation_score"] = score_summary(enterprise)
    if ProfileGroup.IP in groups:
        out["ip_assets"] = [
            {"kind": a.kind, "kind_display": a.get_kind_display(), "number": a.number, "title": a.title}
            for a in enterprise.ip_assets.all()
        ]
    if ProfileGroup.QUALIFICATIONS in groups:
        today = timezone.localdate()
        out["qualifications"] = [
            {"code": q.code, "name": q.display_name, "number": q.number, "expires_on": q.expires_on}
            for q in enterprise.qualifications.all()
            if q.counts_on(today)
        ]
    if ProfileGroup.DOCUMENTS in groups:
        out["documents"] = [
            {
                "id": d.pk,
                "kind": d.kind,
                "kind_display": d.get_kind_display(),
                "original_name": d.original_name,
                "uploaded_at": d.uploaded_at,
            }
            for d in enterprise.documents.order_by("-uploaded_at", "-id")
        ]
    return out


def enterprise_profile_for_bank(
    *, user, enterprise: Enterprise, purpose: str, institution_id: int | None = None, scoped: bool = False
) -> dict:
    """What a bank may see of a firm, for ``purpose`` (a ``ConsentPurpose``): the one bank view of
    a firm that every page, API, export, webhook and message to a bank goes through.

    Always: id, name, city and industry (and ``verified``, the 未认证 badge). Each further profile group (basic,
    financials, ip, qualifications, documents; see ``_profile_groups``) only when it is in
    ``consent_scope`` for the bank's institution and that purpose today. Staff, the desk of the
    firm's region and the firm's own users: every group (another region's desk: ``Http404``). ``groups`` names the groups shown, ``restricted`` is true when any is held
    back. A bank user whose institution has no live business with the firm for that purpose (a
    lead, an application not withdrawn, a pool entry; for ``pool`` a pool consent is enough) gets
    ``Http404``; ``scoped=True`` skips that check for rows the caller
    already took from a scoped queryset. ``user=None`` with ``institution_id`` is a read on behalf
    of an institution by the system (webhook payloads)."""
    if user is not None:
        if not user.is_authenticated or user.role not in (
            Role.STAFF,
            Role.REGION,
            Role.OFFICER,
            Role.MANAGER,
            Role.FIRM,
        ):
            raise Http404("enterprise")
        if user.role == Role.FIRM and user.enterprise_id != enterprise.pk:
            raise Http404("enterprise")
        if user.role == Role.REGION and user.region_id != enterprise.city_id:
            raise Http404("enterprise")
        institution_id = user.institution_id if user.role in (Role.OFFICER, Role.MANAGER) else None
        everything = user.role in (Role.STAFF, Role.REGION, Role.FIRM)
    else:
        if institution_id is None:
            raise Http404("enterprise")
        everything = False
    if everything:
        groups = ALL_GROUPS
    else:
        groups = consent_scope(enterprise=enterprise, institution_id=institution_id, purpose=purpose)
        if not scoped and not (
            _bank_has_business(institution_id=institution_id, enterprise=enterprise, purpose=purpose)
            or (purpose == ConsentPurpose.POOL and groups)
        ):
            raise Http404("enterprise")
    return {
        **enterprise_summary(enterprise, purpose=purpose),
        "groups": sorted(groups),
        "restricted": groups != ALL_GROUPS,
        **_profile_groups(enterprise, groups),
    }


def enterprise_summary(enterprise: Enterprise, *, purpose: str | None = None) -> dict:
    """The part of the bank view every bank may see of a firm it deals with: name, city, industry
    and whether provincial staff verified it (no profile group). ``enterprise_profile_for_bank``
    starts from it; a page that has lost the right to more (a withdrawn application) shows it."""
    return {
        "id": enterprise.pk,
        "name": enterprise.name,
        "city": enterprise.city_id,
        "city_name": str(enterprise.city),
        "industry": enterprise.industry,
        "industry_display": enterprise.get_industry_display(),
        "verified": enterprise.is_verified,
        "verification_status": enterprise.verification_status,
        "purpose": purpose,
        "groups": [],
        "restricted": True,
    }


def need_choices_for_product(user) -> QuerySet[FinancingNeed]:
    """The firm's open needs, newest first (the eligibility check uses one of them)."""
    return need_for_user(user).filter(status=FinancingNeed.Status.OPEN).order_by("-created_at", "-id")


def product_eligibility(*, user, product, need: FinancingNeed | None = None, on=None):
    """The engine's verdict for the caller's enterprise (and a need) on a product: the same
    ``matching.engine.evaluate`` the matching service runs, fed by ``matching.facts``."""

    enterprise = (
        Enterprise.objects.select_related("city")
        .prefetch_related(*firm_facts_prefetch())
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
    "enterprise_summary",
    "identity_change_for_user",
    "identity_changes_pending",
    "ip_asset_for_user",
    "need_for_user",
    "pending_enterprises",
    "product_eligibility",
    "profile_completeness",
    "profile_views_collapsed",
    "profile_views_for",
    "qualification_for_user",
]


# ------------------------------------------------------------------------------------------------
# 科创积分: the stored scores (enterprises/scoring.py computes them)
# ------------------------------------------------------------------------------------------------

# The firm reads its own scores; staff read all, a region desk its region's firms'; a bank reads a
# firm's score only through the bank view (``enterprise_profile_for_bank``, scope ``financials``).
access_rule(InnovationScore)(_owned_by_firm)

SCORE_BANDS = tuple((low, low + 10) for low in range(0, 100, 10))  # [0, 10) … [90, 100]


def innovation_score_for_user(user, action: str = VIEW) -> QuerySet[InnovationScore]:
    return restrict(InnovationScore.objects.all(), user, action)


def score_current(*, user, enterprise: Enterprise) -> InnovationScore | None:
    """The firm's current score as ``user`` may read it (None: none yet, or not the user's to read)."""
    return innovation_score_for_user(user).filter(enterprise=enterprise, is_latest=True).first()


def score_history(*, user, enterprise: Enterprise) -> list[InnovationScore]:
    """Every stored score of the firm, oldest first (the trend)."""
    return list(
        innovation_score_for_user(user)
        .filter(enterprise=enterprise)
        .order_by("as_of", "computed_at", "pk")
        .only("pk", "as_of", "computed_at", "total", "percentile", "stage_group", "is_latest")
    )


API_PART_KEYS = ("code", "label", "class", "value", "points", "max_points", "reason")
API_ADVICE_KEYS = ("code", "label", "text", "points_gain")


def score_payload(row: InnovationScore | None, *, enterprise: Enterprise) -> dict:
    """``GET …/score/``: ``total`` and ``points`` as decimal strings (two places; the parts' points
    add up to the total), ``percentile`` 0–100 within the stage group, ``stage`` the stage group's
    code (early / growth / mature), ``as_of`` the day the current result was computed. Before the
    first score: the same keys, ``total``, ``percentile`` and ``as_of`` null, no parts or advice."""

    if row is None:
        return {
            "total": None,
            "percentile": None,
            "stage": stage_group(enterprise),
            "as_of": None,
            "parts": [],
            "advice": [],
        }
    return {
        "total": str(row.total),
        "percentile": row.percentile,
        "stage": row.stage_group,
        "as_of": row.as_of.isoformat(),
        "parts": [{k: p.get(k) for k in API_PART_KEYS} for p in row.parts],
        "advice": [{k: a.get(k) for k in API_ADVICE_KEYS} for a in row.advice],
    }


def score_class_totals(row: InnovationScore) -> list[dict]:
    """``[{code, label, points, max_points, percent}]`` for the three classes (percent of the class
    maximum in the firm's group, for the radar chart)."""

    totals = {code: Decimal("0") for code in engine.CLASSES}
    for part in row.parts:
        totals[part["class"]] += Decimal(part["points"])
    out = []
    for code, label in engine.CLASSES.items():
        maximum = engine.class_maximum(code, row.stage_group)
        out.append(
            {
                "code": code,
                "label": label,
                "points": totals[code],
                "max_points": maximum,
                "percent": (totals[code] * 100 / maximum).quantize(Decimal("0.1")) if maximum else Decimal(0),
            }
        )
    return out


def score_summary(enterprise: Enterprise) -> dict | None:
    """The score as the bank view shows it under ``financials``: total, percentile, stage group
    (code and label), cohort size, as_of (the day the result was first computed), computed_at (last
    confirmed) and the three class totals (decimal strings); None before
    the first score. Reads ``Enterprise.current_score`` (prefetch :data:`LATEST_SCORE` for lists)."""

    row = enterprise.current_score
    if row is None:
        return None
    return {
        "total": str(row.total),
        "percentile": row.percentile,
        "stage_group": row.stage_group,
        "stage_group_label": engine.STAGE_GROUP_LABELS.get(row.stage_group, row.stage_group),
        "cohort_size": row.cohort_size,
        "as_of": row.as_of,
        "computed_at": row.computed_at,
        "classes": [
            {
                "code": c["code"],
                "label": c["label"],
                "points": str(c["points"]),
                "max_points": str(c["max_points"]),
            }
            for c in score_class_totals(row)
        ],
    }


def _display_value(code: str, value: str | None) -> str:


    if value is None:
        return "未填报"
    kind = next(i.kind for i in engine.INDICATORS if i.code == code)
    if kind == "money":
        return format_wan(value)
    if kind == "count":
        return format_count(value)
    return format_percent(value)


def score_page(*, user, enterprise: Enterprise) -> dict:
    """What the firm's score page shows: the current row (or None), its class totals, parts with
    the value as it reads, the advice, the history and the chart data (a JSON block)."""

    row = score_current(user=user, enterprise=enterprise)
    history = score_history(user=user, enterprise=enterprise)
    if row is None:
        return {"score": None, "history": history, "chart": None}
    classes = score_class_totals(row)
    parts = []
    class_labels = engine.CLASSES
    for p in row.parts:
        parts.append(
            {
                **p,
                "class_label": class_labels.get(p["class"], p["class"]),
                "display": _display_value(p["code"], p["value"]),
            }
        )
    chart = {
        "classes": [{"label": c["label"], "percent": str(c["percent"])} for c in classes],
        "trend": [{"as_of": h.as_of.isoformat(), "total": str(h.total)} for h in history],
    }
    return {
        "score": row,
        "stage_label": engine.STAGE_GROUP_LABELS.get(row.stage_group, row.stage_group),
        "classes": classes,
        "parts": parts,
        "advice": row.advice,
        "history": history,
        "chart": chart,
    }


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return ((ordered[mid - 1] + ordered[mid]) / 2).quantize(Decimal("0.01"))


def _band_index(total: Decimal) -> int:
    return min(int(total // 10), len(SCORE_BANDS) - 1)


def score_distribution(user) -> dict:
    """The current scores the user may read, by stage group and by city: for each, the firms per
    10-point band (0–9.99 … 90–100), the count and the median. One query."""

    rows = (
        innovation_score_for_user(user)
        .filter(is_latest=True)
        .values_list("total", "stage_group", "enterprise__city_id", "enterprise__city__name")
    )

    def empty(key, label):
        return {"key": key, "label": label, "bands": [0] * len(SCORE_BANDS), "totals": []}

    groups = {code: empty(code, label) for code, label in engine.STAGE_GROUP_LABELS.items()}
    cities: dict[str, dict] = {}
    overall = empty("all", "合计")
    for total, group, city_id, city_name in rows:
        band = _band_index(total)
        targets = [overall, groups.setdefault(group, empty(group, group))]
        targets.append(cities.setdefault(city_id, empty(city_id, city_name)))
        for target in targets:
            target["bands"][band] += 1
            target["totals"].append(total)

    def finish(entry):
        totals = entry.pop("totals")
        return {**entry, "count": len(totals), "median": _median(totals)}

    return {
        "bands": [f"{low}–{high - 1}" if high < 100 else f"{low}–100" for low, high in SCORE_BANDS],
        "groups": [finish(g) for g in groups.values()],
        "cities": [finish(c) for c in sorted(cities.values(), key=lambda c: str(c["key"]))],
        "overall": finish(overall),
    }


__all__ += [
    "innovation_score_for_user",
    "score_class_totals",
    "score_current",
    "score_distribution",
    "score_history",
    "score_page",
    "score_payload",
    "score_summary",
]
