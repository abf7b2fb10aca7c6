"""Service visits 一对一精准服务: the province's staff or a region's desk (its firms only) record on-site visits (team from the centre and the bank,
topics, findings, follow-up with a due date); a financing need found on a visit is posted on the
firm's behalf and the firm is asked to confirm it. Services (writes) and selectors (reads)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import money
from portal.access import ACT, VIEW, can, restrict
from portal.models import GOVERNMENT_ROLES, Role, User
from portal.services import NotAllowedError, ServiceError, notification_send, transition_record
from portal.vocabulary import GUARANTEE_TYPES
from portal.workdays import SHANGHAI, add_working_days

from .models import Enterprise, FinancingNeed, ServiceVisit
from .signals import need_changed

#: Follow-ups due within this many working days (or already past due) show on the dashboard.
FOLLOW_UP_WINDOW_DAYS = 7


# ------------------------------------------------------------------------------------------------
# Selectors
# ------------------------------------------------------------------------------------------------


def visit_for_user(user, action: str = VIEW) -> QuerySet[ServiceVisit]:
    """The visits ``user`` may read or act on (the rule is ``enterprises.selectors._visit_rule``):
    staff every visit, a region desk its region's, a bank manager (read) his institution's."""
    qs = ServiceVisit.objects.select_related("enterprise", "enterprise__city", "institution", "recorded_by")
    return restrict(qs, user, action)


def visit_list(*, user, enterprise: Enterprise | None = None, q: str = "", topic: str = "") -> QuerySet:
    qs = visit_for_user(user)
    if enterprise is not None:
        qs = qs.filter(enterprise=enterprise)
    if q:
        qs = qs.filter(
            Q(enterprise__name__icontains=q) | Q(enterprise__uscc=q.strip().upper()) | Q(team__icontains=q)
        )
    if topic:
        qs = (
            qs.filter(topics__contains=[topic])
            if _json_contains_supported()
            else qs.filter(topics__icontains=topic)
        )
    return qs.order_by("-visited_on", "-id")


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def topic_labels(codes) -> str:
    labels = dict(ServiceVisit.Topic.choices)
    return "、".join(str(labels.get(c, c)) for c in codes or [])


def follow_ups_due(*, user, within_days: int = FOLLOW_UP_WINDOW_DAYS, today: date | None = None) -> QuerySet:
    """Follow-ups not yet done whose due date is past or no later than the ``within_days``-th
    working day after today, soonest first."""
    return (
        visit_for_user(user)
        .filter(follow_up_due_q(within_days=within_days, today=today))
        .order_by("follow_up_due", "id")
    )


def follow_up_due_q(*, within_days: int = FOLLOW_UP_WINDOW_DAYS, today: date | None = None) -> Q:
    """The rule of :func:`follow_ups_due` (kpi ``follow_ups_due``), for any queryset of visits."""
    today = today or timezone.localdate()
    horizon = add_working_days(datetime.combine(today, time(12), tzinfo=SHANGHAI), within_days).date()
    return Q(follow_up_done=False, follow_up_due__isnull=False, follow_up_due__lte=horizon)


# ------------------------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------------------------


def _require_desk(user: User, enterprise: Enterprise) -> None:
    """The province's staff record visits at every firm; a region desk at its region's firms only
    (another region's firm: 404); anyone else: 403."""
    if not (user.is_authenticated and user.role in GOVERNMENT_ROLES):
        raise NotAllowedError(_("只有省级专班和区域专班可以登记上门服务。"))
    if not can(user, enterprise, ACT):
        raise ServiceError(_("没有找到这家企业。"), status=404)


@transaction.atomic
def visit_record(
    *,
    user: User,
    enterprise: Enterprise,
    visited_on: date,
    team: str,
    topics: list[str],
    institution=None,
    findings: str = "",
    follow_up: str = "",
    follow_up_due: date | None = None,
    need: dict | None = None,
) -> ServiceVisit:
    """Record a visit. ``need`` (amount in yuan, term_months, purpose, description …) posts a
    financing need on the firm's behalf; the firm's users are asked to confirm it."""
    _require_desk(user, enterprise)
    topics = list(dict.fromkeys(topics or []))
    if not topics:
        raise ServiceError(_("请至少选择一项服务内容。"), field="topics")
    if any(t not in ServiceVisit.Topic.values for t in topics):
        raise ServiceError(_("服务内容不在可选范围内。"), field="topics")
    if not (team or "").strip():
        raise ServiceError(_("请填写服务团队成员。"), field="team")
    if visited_on > timezone.localdate():
        raise ServiceError(_("走访日期不能晚于今天。"), field="visited_on")
    if follow_up_due and not (follow_up or "").strip():
        raise ServiceError(_("填写了跟进截止日期，请同时写明跟进事项。"), field="follow_up")
    if follow_up_due and follow_up_due < visited_on:
        raise ServiceError(_("跟进截止日期不能早于走访日期。"), field="follow_up_due")
    visit = ServiceVisit.objects.create(
        enterprise=enterprise,
        visited_on=visited_on,
        team=team.strip(),
        institution=institution,
        topics=topics,
        findings=findings,
        follow_up=follow_up,
        follow_up_due=follow_up_due,
        recorded_by=user,
    )
    if need:
        visit_need_post(user=user, visit=visit, **need)
    return visit


NEED_FIELDS = ("amount", "term_months", "purpose", "guarantee_types", "max_annual_rate", "description")


def _check_need(fields: dict) -> dict:

    unknown = set(fields) - set(NEED_FIELDS)
    if unknown:
        raise ServiceError(_("不能填写这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    amount = fields.get("amount")
    if amount is None or amount <= 0 or amount > Decimal("10000000000"):
        raise ServiceError(_("融资金额应大于 0 且不超过 100 亿元。"), field="need_amount")
    term = fields.get("term_months")
    if term is None or not 1 <= term <= 360:
        raise ServiceError(_("融资期限应在 1 到 360 个月之间。"), field="need_term_months")
    if (
        fields.setdefault("purpose", FinancingNeed.Purpose.WORKING_CAPITAL)
        not in FinancingNeed.Purpose.values
    ):
        raise ServiceError(_("请选择资金用途。"), field="need_purpose")
    types = list(dict.fromkeys(fields.get("guarantee_types") or ["credit"]))
    if any(t not in GUARANTEE_TYPES for t in types):
        raise ServiceError(_("担保方式不在可选范围内。"), field="need_purpose")
    fields["guarantee_types"] = types
    return fields


@transaction.atomic
def visit_need_post(*, user: User, visit: ServiceVisit, **fields) -> FinancingNeed:
    """Post the financing need found on a visit on the firm's behalf: marked ``on_behalf``, status
    待企业确认 (``awaiting_firm``: no run, trigger or sweep matches it, they all read open needs only),
    and the firm's users are asked to confirm it. It becomes open and is matched once confirmed."""
    _require_desk(user, visit.enterprise)
    enterprise = visit.enterprise
    need = FinancingNeed.objects.create(
        enterprise=enterprise,
        posted_by=user,
        on_behalf=True,
        confirmed_by_firm=False,
        status=FinancingNeed.Status.AWAITING_FIRM,
        **_check_need(dict(fields)),
    )
    transition_record(
        subject=need,
        from_state="",
        to_state=need.status,
        actor=user,
        note=_("上门服务时代企业录入，待企业确认"),
    )
    firm_users = list(User.objects.filter(enterprise=enterprise, role=Role.FIRM, is_active=True))
    notification_send(
        users=firm_users,
        title=_("专班走访时为贵企业代录了一条融资需求，请确认"),
        body=_(
            "%(date)s 上门服务时记录：融资 %(amount)s，期限 %(term)s 个月。请核对并确认，确认后平台开始为您匹配金融产品。"
        )
        % {
            "date": visit.visited_on.isoformat(),
            "amount": money.format_wan(need.amount),
            "term": need.term_months,
        },
        url=reverse("dashboard:visit_need_confirm", args=[need.pk]),
    )
    return need


def need_awaiting_confirmation(*, user, pk: int) -> FinancingNeed:
    """A need posted on behalf of the user's firm (the firm's own users only)."""
    if not (getattr(user, "is_authenticated", False) and user.role == Role.FIRM):
        raise NotAllowedError(_("只有本企业用户可以确认代录的需求。"))
    try:
        return FinancingNeed.objects.get(pk=pk, enterprise_id=user.enterprise_id, on_behalf=True)
    except FinancingNeed.DoesNotExist:
        raise ServiceError(_("没有找到这条需求。"), status=404)


@transaction.atomic
def visit_need_confirm(*, user: User, need: FinancingNeed, confirm: bool = True) -> FinancingNeed:
    """The firm confirms (then it is matched against every published product) or rejects (then it
    is withdrawn) a need posted on its behalf."""
    need = need_awaiting_confirmation(user=user, pk=need.pk)
    need = FinancingNeed.objects.select_for_update().get(pk=need.pk)
    if need.confirmed_by_firm or need.status != FinancingNeed.Status.AWAITING_FIRM:
        raise ServiceError(_("这条需求已经处理过了。"), status=409)
    if confirm:
        need.confirmed_by_firm = True
        need.status = FinancingNeed.Status.OPEN
        need.save(update_fields=["confirmed_by_firm", "status", "updated_at"])
        transition_record(
            subject=need,
            from_state=FinancingNeed.Status.AWAITING_FIRM,
            to_state=need.status,
            actor=user,
            note=_("企业确认代录的需求"),
        )

        need_changed.send(sender=FinancingNeed, need=need)  # matching queues its run after commit
    else:
        need.status = FinancingNeed.Status.WITHDRAWN
        need.save(update_fields=["status", "updated_at"])
        transition_record(
            subject=need,
            from_state=FinancingNeed.Status.AWAITING_FIRM,
            to_state=need.status,
            actor=user,
            note=_("企业不认可代录的需求"),
        )
    return need


@transaction.atomic
def visit_follow_up_done(*, user: User, visit: ServiceVisit, note: str = "") -> ServiceVisit:
    _require_desk(user, visit.enterprise)
    if not can(user, visit, ACT):
        raise ServiceError(_("没有找到这次走访。"), status=404)
    visit = ServiceVisit.objects.select_for_update().get(pk=visit.pk)
    if visit.follow_up_done:
        return visit
    if not visit.follow_up:
        raise ServiceError(_("这次走访没有跟进事项。"), status=409)
    visit.follow_up_done = True
    visit.save(update_fields=["follow_up_done"])
    transition_record(
        subject=visit, from_state="follow_up_open", to_state="follow_up_done", actor=user, note=note
    )
    return visit
