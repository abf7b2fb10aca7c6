"""Reads of matches, applications and loans, scoped to what each user may see.

Every view, API view and export starts from one of these ``*_for_user`` functions."""

from django.db.models import QuerySet

from portal.models import Role

from .models import Application, Loan, Match


def match_for_user(user) -> QuerySet[Match]:
    """Firm: its own suggestions and near misses. Officer: its branch's leads. Manager: its
    institution's leads. Staff: everything. Anyone else: nothing."""
    qs = Match.objects.select_related(
        "need",
        "product",
        "product__institution",
        "enterprise",
        "enterprise__city",
        "branch",
        "assigned_officer",
    )
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role == Role.OFFICER:
        return qs.filter(is_lead=True, branch_id=user.branch_id)
    if user.role == Role.MANAGER:
        return qs.filter(is_lead=True, institution_id=user.institution_id)
    return qs.none()


def application_for_user(user) -> QuerySet[Application]:
    """Firm: its own applications. Officer and manager: applications to their institution's
    products. Staff: all (read-only)."""
    qs = Application.objects.select_related(
        "enterprise", "enterprise__city", "product", "product__institution"
    )
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(product__institution_id=user.institution_id)
    return qs.none()


def loan_for_user(user) -> QuerySet[Loan]:
    qs = Loan.objects.select_related("application", "application__enterprise", "application__product")
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.STAFF:
        return qs
    if user.role == Role.FIRM:
        return qs.filter(application__enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(application__product__institution_id=user.institution_id)
    return qs.none()
