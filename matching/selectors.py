"""Reads of matches, applications and loans, scoped to what each user may see or do.

Every view, API view, export and service starts from one of these ``*_for_user`` functions; each
is the access rule registered for its model in ``portal.access`` (``restrict(qs, user, action)``),
so ``restrict(Match, user, "act")`` and ``match_for_user(user, "act")`` are the same rows."""

from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import kpi
from portal.access import ACT, VIEW, access_rule, restrict
from portal.models import Role, Transition
from portal.money import format_wan
from portal.selectors import transitions_for

from .models import Application, Loan, Match

_MATCH_RELATED = (
    "need",
    "product",
    "product__institution",
    "enterprise",
    "enterprise__city",
    "branch",
    "assigned_officer",
)


def lead_scope_q(user) -> Q:
    """The officer's and manager's scope on leads — the one rule, for reading and acting alike.

    A lead belongs to its product's institution. A manager reaches every lead of the institution.
    An officer reaches the leads routed to their own branch, or assigned to them (claimed by them
    or handed to them by a manager) within their institution — a lead reassigned to an officer of
    another branch moves with them, and an officer never reaches another institution's lead."""
    inside = Q(is_lead=True, institution_id=user.institution_id)
    if user.role == Role.MANAGER:
        return inside
    return inside & (Q(branch_id=user.branch_id) | Q(assigned_officer_id=user.pk))


@access_rule(Match)
def _match_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Firm: reads its own suggestions and near misses (acts on none of them here). Officer and
    manager: ``lead_scope_q``, to read and to act. Staff: reads everything, acts on nothing. A
    region desk: reads those of its region's firms (overdue leads of its firms), acts on nothing."""
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id) if action == VIEW else qs.none()
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(lead_scope_q(user))
    if user.role == Role.STAFF:
        return qs if action == VIEW else qs.none()
    if user.role == Role.REGION:
        return qs.filter(enterprise__city_id=user.region_id) if action == VIEW else qs.none()
    return qs.none()


def match_for_user(user, action: str = VIEW) -> QuerySet[Match]:
    """The matches ``user`` may read (``"view"``) or act on (``"act"``): see ``_match_rule``."""
    return restrict(Match.objects.select_related(*_MATCH_RELATED), user, action)


@access_rule(Application)
def _application_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Firm: its own applications. Officer and manager: applications to their institution's
    products. Staff: reads all, acts on none; a region desk reads its region's firms', acts on none."""
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(product__institution_id=user.institution_id)
    if user.role == Role.STAFF:
        return qs if action == VIEW else qs.none()
    if user.role == Role.REGION:
        return qs.filter(enterprise__city_id=user.region_id) if action == VIEW else qs.none()
    return qs.none()


def application_for_user(user, action: str = VIEW) -> QuerySet[Application]:
    qs = Application.objects.select_related(
        "enterprise", "enterprise__city", "product", "product__institution"
    )
    return restrict(qs, user, action)


@access_rule(Loan)
def _loan_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """As its application: the firm's own, the lending institution's, staff read-only, a region
    desk read-only on its region's firms."""
    if user.role == Role.FIRM:
        return qs.filter(application__enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(application__product__institution_id=user.institution_id)
    if user.role == Role.STAFF:
        return qs if action == VIEW else qs.none()
    if user.role == Role.REGION:
        return qs.filter(application__enterprise__city_id=user.region_id) if action == VIEW else qs.none()
    return qs.none()


def loan_for_user(user, action: str = VIEW) -> QuerySet[Loan]:
    qs = Loan.objects.select_related("application", "application__enterprise", "application__product")
    return restrict(qs, user, action)


def renewals_due_for_user(user, *, today=None) -> QuerySet[Loan]:
    """The loans ``user`` may see that are renewals due today (``portal.kpi.renewal_due``: active,
    maturing within 60 days, no renewal requested), soonest first — the bank inbox's section."""
    today = today or timezone.localdate()
    return (
        loan_for_user(user)
        .filter(kpi.renewal_due(today))
        .select_related("application__product__institution")
        .prefetch_related("repayments")
        .order_by("maturity_date", "pk")
    )


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


__all__ = [
    "ACT",
    "VIEW",
    "application_for_user",
    "application_loan",
    "application_timeline",
    "lead_scope_q",
    "loan_for_user",
    "match_for_user",
    "renewals_due_for_user",
    "transition_headline",
]
