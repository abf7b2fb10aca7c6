"""What bank officers do with a lead: claim, log contact, invite to apply, decline, reassign.

Which action is allowed in which state, to which role and by who holds the lead is the one table
``lead_lifecycle.TRANSITIONS``; each service checks it and moves the lead to the table's target.
Every action records a Transition on the Match, notifies the people concerned and emits a webhook
event to the institution. Claiming is a conditional UPDATE: of two officers claiming at the same
moment exactly one changes the row; the other is told who holds the lead."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lenders.choices import CONTACT_CHANNELS, DECLINE_REASONS, decline_advice, decline_label
from lenders.outbox import outbox_emit
from lenders.services import require_bank
from portal.access import ACT, can
from portal.models import Role, User
from portal.services import ConflictError, ServiceError, notification_send, transition_record

from ..models import Match
from .escalation import pass_need_to_next_product
from .events import lead_payload
from .guarantee import guarantee_refer
from .lead_lifecycle import HOLDER, MANAGER, TRANSITIONS, UNCLAIMED_OR_HOLDER, holds
from .lead_lifecycle import status_label as _status_label

S = Match.Status


def _require_role(user: User, action: str) -> None:
    """The table's roles for ``action`` (a bank user, or a manager only); else 403."""
    require_bank(user, manager=TRANSITIONS[action].roles == MANAGER)


def _check_scope(user: User, match: Match, action: str) -> None:
    """The user must have the table's role for ``action`` and may act on the lead by the one lead
    rule (``matching.selectors.lead_scope_q`` through ``portal.access``); else 403 / 404."""
    _require_role(user, action)
    if not match.is_lead or not can(user, match, ACT):
        raise ServiceError(_("未找到该线索。"), status=404)


def _lock(match: Match) -> Match:
    return (
        Match.objects.select_for_update(of=("self",))
        .select_related("enterprise", "product", "need", "institution", "assigned_officer")
        .get(pk=match.pk)
    )


def _require_state(match: Match, action: str) -> None:
    """The lead's state must be a source of ``action`` in the table; else 409 with its message."""
    spec = TRANSITIONS[action]
    if match.status not in spec.sources:
        raise ConflictError(spec.refused % {"status": _status_label(match.status)}, code="illegal_state")


def _require_holder(user: User, match: Match, action: str) -> None:
    """Who may act by who holds the lead, as the table says for ``action``; else 409."""
    rule = TRANSITIONS[action].holder
    if rule == UNCLAIMED_OR_HOLDER and match.assigned_officer_id is None:
        return
    if rule not in (HOLDER, UNCLAIMED_OR_HOLDER):
        return
    if match.assigned_officer_id is None:
        raise ConflictError(_("请先认领该线索。"), code="not_claimed")
    if not holds(user, match):
        holder = match.assigned_officer
        raise ConflictError(
            _("该线索已由 %(name)s 认领，只有认领人可以处理。")
            % {"name": holder.display_name if holder else "—"},
            code="held_by_other",
        )


def _firm_users(match: Match):
    return User.objects.filter(enterprise_id=match.enterprise_id, role=Role.FIRM, is_active=True)


def _lead_url(match: Match) -> str:
    return reverse("lenders:lead_detail", args=[match.pk])


@transaction.atomic
def lead_claim(*, user: User, match: Match, note: str = "") -> Match:
    """One officer takes the lead. Exactly one of concurrent claimers wins; the others get a
    ConflictError naming the holder."""
    _check_scope(user, match, "claim")
    spec = TRANSITIONS["claim"]
    now = timezone.now()
    # The table's sources and holder rule (unclaimed) as one conditional UPDATE: one claimer wins.
    won = Match.objects.filter(pk=match.pk, assigned_officer__isnull=True, status__in=spec.sources).update(
        assigned_officer=user, status=spec.target(S.SUGGESTED), claimed_at=now, updated_at=now
    )
    current = Match.objects.select_related(
        "assigned_officer", "assigned_officer__branch", "enterprise", "product"
    ).get(pk=match.pk)
    if not won:
        holder = current.assigned_officer
        if holder is not None and holder.pk == user.pk:
            raise ConflictError(_("您已认领该线索。"), code="already_yours")
        if holder is not None:
            raise ConflictError(
                _("该线索已由 %(name)s（%(branch)s）认领。")
                % {"name": holder.display_name, "branch": holder.branch.name if holder.branch_id else "—"},
                code="held_by_other",
            )
        raise ConflictError(spec.refused % {"status": _status_label(current.status)}, code="illegal_state")
    transition_record(subject=current, from_state=S.SUGGESTED, to_state=current.status, actor=user, note=note)
    notification_send(
        users=_firm_users(current),
        title=_("%(bank)s 的客户经理已认领您的融资需求") % {"bank": current.product.institution.short_name},
        body=_("客户经理 %(name)s 将就“%(product)s”与您联系。")
        % {"name": user.display_name, "product": current.product.name},
    )
    outbox_emit(institution=current.institution_id, event="lead.claimed", payload=lead_payload(current))
    return current


@transaction.atomic
def lead_contact(*, user: User, match: Match, channel: str, note: str = "") -> Match:
    """Log a contact with the firm. The first response stops the deadline clock."""
    _check_scope(user, match, "contact")
    if channel not in CONTACT_CHANNELS:
        raise ServiceError(_("请选择联系方式（电话、上门拜访或线上沟通）。"), field="channel")
    match = _lock(match)
    _require_state(match, "contact")
    _require_holder(user, match, "contact")
    now = timezone.now()
    from_state = match.status
    first = match.first_response_at is None
    if first:
        match.first_response_at = now
    match.status = TRANSITIONS["contact"].target(from_state)
    match.save(update_fields=["first_response_at", "status", "updated_at"])
    transition_record(
        subject=match,
        from_state=from_state,
        to_state=match.status,
        actor=user,
        note=note,
        data={"channel": channel, "first_response": first},
    )
    if first:
        notification_send(
            users=_firm_users(match),
            title=_("%(bank)s 已就您的融资需求与您联系") % {"bank": match.product.institution.short_name},
            body=_("联系方式：%(channel)s。") % {"channel": CONTACT_CHANNELS[channel]},
        )
    outbox_emit(
        institution=match.institution_id, event="lead.contacted", payload=lead_payload(match, channel=channel)
    )
    return match


@transaction.atomic
def lead_invite(*, user: User, match: Match, note: str = "") -> Match:
    """Invite the firm to apply for the product. Counts as a response."""
    _check_scope(user, match, "invite")
    match = _lock(match)
    _require_state(match, "invite")
    _require_holder(user, match, "invite")
    from_state = match.status
    match.status = TRANSITIONS["invite"].target(from_state)
    if match.first_response_at is None:
        match.first_response_at = timezone.now()
    match.save(update_fields=["first_response_at", "status", "updated_at"])
    transition_record(subject=match, from_state=from_state, to_state=match.status, actor=user, note=note)
    notification_send(
        users=_firm_users(match),
        title=_("%(bank)s 邀请您申请“%(product)s”")
        % {"bank": match.product.institution.short_name, "product": match.product.name},
        body=note,
        url=reverse("products:detail", args=[match.product_id]),
    )
    outbox_emit(institution=match.institution_id, event="lead.invited", payload=lead_payload(match))
    return match


@transaction.atomic
def lead_decline(*, user: User, match: Match, reason_code: str, note: str = "") -> Match:
    """Decline with a coded reason. The firm sees the category and what it can do; the lead counts
    as answered; the need is offered to the next-ranked product."""
    _check_scope(user, match, "decline")
    if reason_code not in DECLINE_REASONS:
        raise ServiceError(_("请选择婉拒原因。"), field="reason_code")
    if reason_code == "other" and not note.strip():
        raise ServiceError(_("选择“其他”时请填写说明。"), field="note")
    match = _lock(match)
    _require_state(match, "decline")
    _require_holder(user, match, "decline")
    now = timezone.now()
    from_state = match.status
    match.status = TRANSITIONS["decline"].target(from_state)
    match.decline_reason = reason_code
    match.decline_note = note.strip()
    if match.first_response_at is None:
        match.first_response_at = now
    if match.assigned_officer_id is None:
        match.assigned_officer = user
        match.claimed_at = now
    match.save(
        update_fields=[
            "status",
            "decline_reason",
            "decline_note",
            "first_response_at",
            "assigned_officer",
            "claimed_at",
            "updated_at",
        ]
    )
    transition_record(
        subject=match,
        from_state=from_state,
        to_state=match.status,
        actor=user,
        note=note,
        data={"reason_code": reason_code, "reason": decline_label(reason_code)},
    )
    notification_send(
        users=_firm_users(match),
        title=_("%(bank)s 暂未能承接您的融资需求：%(reason)s")
        % {"bank": match.product.institution.short_name, "reason": decline_label(reason_code)},
        body=decline_advice(reason_code),
    )
    outbox_emit(
        institution=match.institution_id,
        event="lead.declined",
        payload=lead_payload(match, reason_code=reason_code, reason=decline_label(reason_code)),
    )
    # No collateral or no credit history: the next referral is the government-guarantee route;
    # any other reason (or no guarantee product fits) passes the need to the next-ranked product.
    if (
        guarantee_refer(
            need=match.need, reason_code=reason_code, reason=decline_label(reason_code), actor=user
        )
        is None
    ):
        pass_need_to_next_product(match=match, actor=user, reason=decline_label(reason_code))
    return match


@transaction.atomic
def lead_reassign(*, user: User, match: Match, officer: User, note: str = "") -> Match:
    """A manager hands a lead to another officer of the same institution."""
    _check_scope(user, match, "reassign")
    if officer.role not in (Role.OFFICER, Role.MANAGER) or officer.institution_id != user.institution_id:
        raise ServiceError(_("只能转派给本机构的客户经理。"), field="officer")
    match = _lock(match)
    _require_state(match, "reassign")
    _require_holder(user, match, "reassign")
    if match.assigned_officer_id == officer.pk:
        raise ConflictError(_("该线索已由 %(name)s 负责。") % {"name": officer.display_name})
    previous = match.assigned_officer
    from_state = match.status
    match.assigned_officer = officer
    match.branch_id = officer.branch_id
    match.status = TRANSITIONS["reassign"].target(from_state)
    if from_state == S.SUGGESTED:
        match.claimed_at = timezone.now()
    match.save(update_fields=["assigned_officer", "branch", "status", "claimed_at", "updated_at"])
    transition_record(
        subject=match,
        from_state=from_state,
        to_state=match.status,
        actor=user,
        note=note,
        data={"reassigned_to": officer.username, "reassigned_from": previous.username if previous else None},
    )
    notification_send(
        users=[officer],
        title=_("%(manager)s 将线索“%(firm)s”转派给您")
        % {"manager": user.display_name, "firm": match.enterprise.name},
        body=note,
        url=_lead_url(match),
    )
    if previous is not None and previous.pk != officer.pk:
        notification_send(
            users=[previous],
            title=_("线索“%(firm)s”已转派给 %(name)s")
            % {"firm": match.enterprise.name, "name": officer.display_name},
            url=_lead_url(match),
        )
    outbox_emit(institution=match.institution_id, event="lead.reassigned", payload=lead_payload(match))
    return match
