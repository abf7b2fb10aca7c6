"""Reads of ratings and complaints, scoped to what each user may see or do.

The access rules of both models are here, once (``@access_rule``): pages, API views and services
all start from ``restrict``. Staff visibility of complaints lives in ``_complaint_rule`` alone, so
that a region desk's narrower view (its region's firms) sits beside it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone

from matching.models import Application, Match
from matching.selectors import application_for_user, match_for_user
from portal import kpi
from portal.access import VIEW, access_rule, restrict
from portal.models import Role

from .models import Complaint, Rating

#: The application statuses that end a case the firm may rate.
RATEABLE_APPLICATION_STATUSES = (
    Application.Status.REPAID,
    Application.Status.REJECTED,
    Application.Status.WITHDRAWN,
)
RATEABLE_MATCH_STATUSES = (Match.Status.DECLINED,)


@access_rule(Rating)
def _rating_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Firm: its own ratings (it writes them through ``rating_create``). Officer and manager: the
    ratings of their own institution, to read. Staff: reads all. Nobody edits a rating."""
    if action != VIEW:
        return qs.none()
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(institution_id=user.institution_id)
    if user.role == Role.STAFF:
        return qs
    return qs.none()


@access_rule(Complaint)
def _complaint_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Firm: its own complaints (reads; confirms or reopens them). Officer and manager: the
    complaints about their institution (reads; answers them). Provincial staff: every complaint,
    to read and to handle; a region desk: the complaints of its region's firms — the one place that
    decides the desks' visibility."""
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(institution_id=user.institution_id)
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.REGION:
        return qs.filter(enterprise__city_id=user.region_id)
    return qs.none()


def rating_for_user(user, action: str = VIEW) -> QuerySet[Rating]:
    return restrict(Rating.objects.select_related("institution", "enterprise"), user, action)


def complaint_for_user(user, action: str = VIEW) -> QuerySet[Complaint]:
    qs = Complaint.objects.select_related(
        "enterprise", "institution", "application", "application__product", "match", "match__product"
    )
    return restrict(qs, user, action)


def complaint_queue(user) -> QuerySet[Complaint]:
    """Staff's queue: overdue first (oldest deadline first), then open ones by deadline, then the
    rest newest first."""
    now = timezone.now()
    return (
        complaint_for_user(user)
        .annotate(
            rank=Case(
                When(kpi.complaint_overdue(now), then=Value(0)),
                When(status__in=Complaint.AWAITING_REPLY, then=Value(1)),
                When(status=Complaint.Status.REPLIED, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "response_due_at", "-id")
    )


def complaints_overdue(user) -> QuerySet[Complaint]:
    return (
        complaint_for_user(user)
        .filter(kpi.complaint_overdue(timezone.now()))
        .order_by("response_due_at", "pk")
    )


def complaints_for_workspace(user) -> dict:
    """The staff workspace's card: the overdue complaints (oldest deadline first) and how many
    still await a reply."""
    qs = complaint_for_user(user)
    return {
        "overdue_complaints": list(complaints_overdue(user)[:10]),
        "overdue_complaints_count": qs.filter(kpi.complaint_overdue(timezone.now())).count(),
        "open_complaints_count": qs.filter(status__in=Complaint.AWAITING_REPLY).count(),
    }


def complaints_overdue_by_institution(user, institution_ids=None) -> dict[int, int]:
    """Overdue complaints per institution among those ``user`` may read (the league table)."""
    qs = restrict(Complaint, user).filter(kpi.complaint_overdue(timezone.now()))
    if institution_ids is not None:
        qs = qs.filter(institution_id__in=list(institution_ids))
    return dict(qs.values("institution_id").annotate(n=Count("id")).values_list("institution_id", "n"))


def _average(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def institution_ratings(institution_ids) -> dict[int, dict]:
    """``{institution_id: {"average": Decimal (one place), "count": int}}`` over every rating of
    those institutions. The aggregate is public (product pages show it); single ratings are not."""
    ids = [i for i in set(institution_ids) if i is not None]
    if not ids:
        return {}
    rows = (
        Rating.objects.filter(institution_id__in=ids)
        .values("institution_id")
        .annotate(avg=Avg("stars"), n=Count("id"))
    )
    return {r["institution_id"]: {"average": _average(r["avg"]), "count": r["n"]} for r in rows}


def rateable_applications(user) -> QuerySet[Application]:
    """The firm's ended applications it has not rated yet."""
    if user.role != Role.FIRM:
        return Application.objects.none()
    rated = Rating.objects.filter(application__isnull=False, enterprise_id=user.enterprise_id).values(
        "application_id"
    )
    return (
        application_for_user(user)
        .filter(status__in=RATEABLE_APPLICATION_STATUSES)
        .exclude(pk__in=rated)
        .order_by("-status_changed_at", "-pk")
    )


def rateable_matches(user) -> QuerySet[Match]:
    """The firm's declined leads it has not rated yet."""
    if user.role != Role.FIRM:
        return Match.objects.none()
    rated = Rating.objects.filter(match__isnull=False, enterprise_id=user.enterprise_id).values("match_id")
    return (
        match_for_user(user)
        .filter(is_lead=True, status__in=RATEABLE_MATCH_STATUSES)
        .exclude(pk__in=rated)
        .order_by("-updated_at", "-pk")
    )


def rated_application_ids(user, ids) -> set[int]:
    return set(
        restrict(Rating, user).filter(application_id__in=list(ids)).values_list("application_id", flat=True)
    )
