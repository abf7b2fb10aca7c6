"""Reads of matches, applications and loans, scoped to what each user may see.

Every view, API view and export starts from one of these ``*_for_user`` functions."""

from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from portal.models import Role, Transition
from portal.money import format_wan
from portal.selectors import transitions_for

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
    """Firm: its own loans. Officer and manager: loans on their institution's products. Staff: all."""
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


def application_loan(application) -> Loan | None:
    """The loan of an application the caller may already see (None before disbursement), with its
    repayments loaded: the pages show its outstanding principal, phase and repayments."""
    if application.status not in (
        Application.Status.DISBURSED,
        Application.Status.REPAID,
        Application.Status.DEFAULTED,
    ):
        return None
    return Loan.objects.filter(application=application).prefetch_related("repayments").first()


def _amount(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def transition_headline(transition: Transition) -> str:
    """What one step of an application's timeline says when "from → to" says nothing: a repayment
    (disbursed → disbursed, or → repaid) reads "还款 50.00万元，剩余本金 250.00万元" (an interest-only
    payment "付息 1.05万元，剩余本金 300.00万元"). Empty for every other step."""
    data = transition.data or {}
    if data.get("action") != "repay":
        return ""
    principal, interest = _amount(data.get("principal")), _amount(data.get("interest"))
    remaining = _amount(data.get("outstanding_principal"))
    if principal is None or remaining is None:
        return ""
    if principal > 0:
        return _("还款 %(p)s，剩余本金 %(o)s") % {"p": format_wan(principal), "o": format_wan(remaining)}
    return _("付息 %(i)s，剩余本金 %(o)s") % {"i": format_wan(interest or 0), "o": format_wan(remaining)}


def application_timeline(application) -> list[Transition]:
    """An application's timeline, oldest first, each step with its ``headline`` (see
    :func:`transition_headline`) — the one timeline the firm's, the bank's and staff's pages show."""
    steps = list(transitions_for(application))
    for step in steps:
        step.headline = transition_headline(step)
    return steps
