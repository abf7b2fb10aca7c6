"""Reads of the bank workspace. Every list starts from a ``*_for_user`` scoping function."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from enterprises.consent import ConsentPurpose
from enterprises.models import Enterprise
from enterprises.selectors import consenting_q, first_loan_firm_for
from matching.models import Application, Loan, Match
from matching.selectors import application_for_user, match_for_user
from portal import kpi
from portal.access import VIEW, access_rule, restrict
from portal.models import Role, User

from .filtersets import ApplicationReviewFilterSet, LeadFilterSet, PoolCandidateFilterSet
from .models import ApiClient, Branch, LeadRead, PoolEntry, WebhookDelivery

# ------------------------------------------------------------------------------------------------
# Leads
# ------------------------------------------------------------------------------------------------


def lead_for_user(user, action: str = VIEW) -> QuerySet[Match]:
    """Leads only (never a firm's plain suggestion) that ``user`` may read or act on: the one lead
    rule, ``matching.selectors.lead_scope_q`` (branch, or assigned to the officer within the
    institution; a manager the whole institution), through ``match_for_user``."""
    return match_for_user(user, action).filter(is_lead=True)


def lead_list(*, user, filters=None) -> QuerySet[Match]:
    """The inbox: leads still waiting for a first response come first; each group sorted by
    deadline (soonest first, none last), then score. Each row carries ``is_read`` and
    ``is_first_loan_firm`` (the 首贷户 badge, one EXISTS per list, not per row)."""
    qs = lead_for_user(user).annotate(
        is_first_loan_firm=first_loan_firm_for(user, purpose=ConsentPurpose.LEAD)
    )
    if filters is not None:
        fs = LeadFilterSet(filters, queryset=qs)
        qs = fs.qs if fs.is_valid() else qs.none()
    if user.is_authenticated:
        qs = qs.annotate(is_read=Exists(LeadRead.objects.filter(match_id=OuterRef("pk"), user_id=user.pk)))
    waiting = Case(
        When(
            first_response_at__isnull=True, status__in=[Match.Status.SUGGESTED, Match.Status.CLAIMED], then=0
        ),
        default=1,
        output_field=IntegerField(),
    )
    return qs.annotate(answered=waiting).order_by(
        "answered", F("response_deadline").asc(nulls_last=True), "-score", "id"
    )


def new_lead_count(*, user) -> int:
    """Unclaimed leads of the user's scope that the user has not opened yet (the navigation badge)."""
    if not user.is_authenticated or user.role not in (Role.OFFICER, Role.MANAGER):
        return 0
    return (
        lead_for_user(user)
        .filter(status=Match.Status.SUGGESTED)
        .exclude(Exists(LeadRead.objects.filter(match_id=OuterRef("pk"), user_id=user.pk)))
        .count()
    )


def colleagues_for(user) -> QuerySet[User]:
    """The officers and managers of the user's institution (reassignment choices, team rows)."""
    return (
        User.objects.filter(
            branch__institution_id=user.institution_id,
            role__in=[Role.OFFICER, Role.MANAGER],
            is_active=True,
            api_client__isnull=True,
        )
        .select_related("branch")
        .order_by("branch__name", "username")
    )


# ------------------------------------------------------------------------------------------------
# Applications
# ------------------------------------------------------------------------------------------------


def application_review_list(*, user, filters=None) -> QuerySet[Application]:
    qs = (
        application_for_user(user)
        .select_related("loan", "match", "match__assigned_officer")
        .annotate(is_first_loan_firm=first_loan_firm_for(user, purpose=ConsentPurpose.APPLICATION))
    )
    if filters is not None:
        fs = ApplicationReviewFilterSet(filters, queryset=qs)
        qs = fs.qs if fs.is_valid() else qs.none()
    return qs.order_by("-status_changed_at", "-id")


# ------------------------------------------------------------------------------------------------
# Incubation pool
# ------------------------------------------------------------------------------------------------


def pool_candidates(*, user, filters=None) -> QuerySet[Enterprise]:
    """Verified firms that consent to show their profile to the user's institution."""
    institution_id = user.institution_id
    qs = (
        Enterprise.objects.select_related("city")
        .filter(verification_status=Enterprise.Verification.VERIFIED)
        .filter(consenting_q(institution_id=institution_id, purpose=ConsentPurpose.POOL))
        .annotate(
            in_pool=Exists(
                PoolEntry.objects.filter(enterprise_id=OuterRef("pk"), institution_id=institution_id)
            )
        )
    )
    if filters is not None:
        fs = PoolCandidateFilterSet(filters, queryset=qs)
        qs = fs.qs if fs.is_valid() else qs.none()
    return qs.order_by("name", "id")


@access_rule(PoolEntry)
def _pool_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Bank: its institution's pool (read, add, remove). Firm: the pools it is in (read, leave).
    Staff: reads all."""
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(institution_id=user.institution_id)
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role == Role.STAFF:
        return qs if action == VIEW else qs.none()
    return qs.none()


def pool_for_user(user, action: str = VIEW) -> QuerySet[PoolEntry]:
    qs = PoolEntry.objects.select_related("institution", "enterprise", "enterprise__city", "added_by")
    return restrict(qs, user, action)


def pools_for_enterprise(*, enterprise) -> QuerySet[PoolEntry]:
    """Which institutions pool this firm (for the firm's own page)."""
    return PoolEntry.objects.filter(enterprise=enterprise).select_related("institution").order_by("-created")


# ------------------------------------------------------------------------------------------------
# Webhook deliveries
# ------------------------------------------------------------------------------------------------


@access_rule(WebhookDelivery)
def _delivery_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """A manager reads and replays its institution's deliveries; nobody else sees them."""
    if user.role == Role.MANAGER:
        return qs.filter(institution_id=user.institution_id)
    return qs.none()


def delivery_for_user(user, action: str = VIEW) -> QuerySet[WebhookDelivery]:
    return restrict(WebhookDelivery.objects.all(), user, action)


# ------------------------------------------------------------------------------------------------
# Team figures
# ------------------------------------------------------------------------------------------------

DECIDED = [
    Application.Status.APPROVED,
    Application.Status.SIGNED,
    Application.Status.EXPIRED,
    Application.Status.DISBURSED,
    Application.Status.REPAID,
    Application.Status.DEFAULTED,
]


def _bounds(start: date, end: date):
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def _group(qs, key: str, **aggregates) -> dict:
    return {row[key]: row for row in qs.values(key).annotate(**aggregates).order_by()}


def _figures(user, start: date, end: date, *, lead_key: str, app_key: str) -> dict:
    """Each figure by :mod:`portal.kpi`'s definition (the dashboard computes the same ones)."""
    lo, hi = _bounds(start, end)
    now = timezone.now()
    money = DecimalField(max_digits=18, decimal_places=2)
    leads = (
        Match.objects.filter(is_lead=True, institution_id=user.institution_id)
        .annotate(received_at=kpi.LEAD_RECEIVED_AT)
        .filter(received_at__gte=lo, received_at__lt=hi)
    )
    lead_rows = _group(
        leads,
        lead_key,
        received=Count("id"),
        claimed=Count("id", filter=Q(assigned_officer__isnull=False)),
        answered=Count("id", filter=Q(first_response_at__isnull=False)),
        on_time=Count("id", filter=kpi.LEAD_ANSWERED_IN_TIME),
        lead_decided=Count("id", filter=kpi.lead_decided(now)),
    )
    waits: dict = {}
    for key, responded, received in leads.filter(first_response_at__isnull=False).values_list(
        lead_key, "first_response_at", "received_at"
    ):
        waits.setdefault(key, []).append((responded - received).total_seconds() / 3600)
    apps = Application.objects.filter(product__institution_id=user.institution_id)
    app_rows = _group(
        apps.filter(created_at__gte=lo, created_at__lt=hi),
        app_key,
        applications=Count("id"),
        approved=Count("id", filter=kpi.APPLICATION_APPROVED),
        rejected=Count("id", filter=kpi.APPLICATION_REJECTED),
    )
    credit_rows = _group(
        apps.filter(approved_at__gte=lo, approved_at__lt=hi),
        app_key,
        credit=Coalesce(Sum("credit_line"), Value(0), output_field=money),
    )
    loan_key = "application__" + app_key
    loan_rows = _group(
        Loan.objects.filter(
            application__product__institution_id=user.institution_id,
            start_date__gte=start,
            start_date__lte=end,
        ),
        loan_key,
        disbursed=Coalesce(Sum("principal"), Value(0), output_field=money),
    )
    out_all = [w for ws in waits.values() for w in ws]
    keys = set(lead_rows) | set(app_rows) | set(credit_rows) | set(loan_rows)
    out = {}
    for key in keys:
        lr, ar = lead_rows.get(key, {}), app_rows.get(key, {})
        approved, rejected = ar.get("approved", 0), ar.get("rejected", 0)
        row = {
            "received": lr.get("received", 0),
            "claimed": lr.get("claimed", 0),
            "answered": lr.get("answered", 0),
            "on_time": lr.get("on_time", 0),
            "lead_decided": lr.get("lead_decided", 0),
            "median_hours": kpi.median_hours(waits.get(key, [])),
            "applications": ar.get("applications", 0),
            "approved": approved,
            "decided": approved + rejected,
            "credit": credit_rows.get(key, {}).get("credit", 0) or 0,
            "disbursed": loan_rows.get(key, {}).get("disbursed", 0) or 0,
        }
        out[key] = _with_shares(row)
    return out, kpi.median_hours(out_all)


def _with_shares(row: dict) -> dict:
    """The two shares of a row, by the KPI definitions (0–1 Decimals, 4 places, or None)."""
    row["on_time_share"] = kpi.share(row["on_time"], row["lead_decided"])
    row["approval_rate"] = kpi.share(row["approved"], row["decided"])
    return row


def team_figures(*, user, start: date, end: date) -> dict:
    """Per branch and per officer of the manager's institution for a period (Beijing dates, inclusive):
    leads received, claimed, answered within deadline (share), median response time (hours),
    applications, approval rate, credit granted and disbursed (yuan). Applications that did not come
    through a lead are counted under ``None`` (直接申请)."""
    by_branch, median_all = _figures(user, start, end, lead_key="branch_id", app_key="match__branch_id")
    by_officer, _median = _figures(
        user, start, end, lead_key="assigned_officer_id", app_key="match__assigned_officer_id"
    )
    branches = list(
        Branch.objects.filter(institution_id=user.institution_id).order_by("-is_provincial", "name")
    )
    people = list(colleagues_for(user))
    empty = _figures_empty()
    branch_rows = [{"name": b.name, **by_branch.get(b.pk, empty)} for b in branches]
    officer_rows = [
        {
            "name": u.display_name,
            "branch": u.branch.name,
            "role": u.get_role_display(),
            **by_officer.get(u.pk, empty),
        }
        for u in people
    ]
    unattributed = by_branch.get(None)
    return {
        "start": start,
        "end": end,
        "branches": branch_rows,
        "officers": officer_rows,
        "direct": unattributed,
        "total": {**_total([*by_branch.values()]), "median_hours": median_all},
    }


def _figures_empty() -> dict:
    return {
        "received": 0,
        "claimed": 0,
        "answered": 0,
        "on_time": 0,
        "lead_decided": 0,
        "on_time_share": None,
        "median_hours": None,
        "applications": 0,
        "approved": 0,
        "decided": 0,
        "approval_rate": None,
        "credit": 0,
        "disbursed": 0,
    }


def _total(rows: list[dict]) -> dict:
    total = _figures_empty()
    for row in rows:
        for k in (
            "received",
            "claimed",
            "answered",
            "on_time",
            "lead_decided",
            "applications",
            "approved",
            "decided",
            "credit",
            "disbursed",
        ):
            total[k] += row[k]
    return _with_shares(total)


# ------------------------------------------------------------------------------------------------
# Machine clients
# ------------------------------------------------------------------------------------------------


@access_rule(ApiClient)
def _api_client_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """A manager (a person, not a client's service user) sees and revokes its institution's clients."""
    if user.role == Role.MANAGER and not hasattr(user, "api_client"):
        return qs.filter(institution_id=user.institution_id)
    return qs.none()


def api_client_for_user(user, action: str = VIEW) -> QuerySet[ApiClient]:
    return restrict(ApiClient.objects.select_related("application", "created_by"), user, action)
