"""Escalation and passing a need on: leads past their first-response deadline are marked expired
and staff alerted, and a need declined or let expire is offered to the next-ranked institution's
matching product, one lead at a time.

Contract function called by the other apps (keep its name and signature): ``pass_need_to_next_product``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from enterprises.models import Enterprise, FinancingNeed
from lenders.models import Institution
from matching.models import Match
from portal.models import Role, User
from portal.services import notification_send, transition_record
from portal.workdays import add_working_days
from products.models import Product

from .events import webhook_leads_created
from .lead_lifecycle import TRANSITIONS as LEAD_TRANSITIONS
from .routing import BranchRouter, _tell_branches


def escalation_candidates(*, now: datetime | None = None):
    """The leads the escalation takes at ``now``: overdue (``Match.objects.overdue``, the one
    definition) and not escalated before."""
    return Match.objects.overdue(now or timezone.now()).filter(escalated_at__isnull=True)


def leads_escalate_overdue(*, now: datetime | None = None) -> int:
    """Mark leads past their first-response deadline 'expired' (``escalated_at`` set once), alert
    provincial staff, and pass each need on to the next-ranked product. Returns how many leads
    were escalated by this call; running it twice escalates each lead once."""
    now = now or timezone.now()
    candidates = list(escalation_candidates(now=now).values_list("pk", "status"))
    escalated = 0
    for pk, status in candidates:
        with transaction.atomic():
            claimed = Match.objects.filter(
                pk=pk, status=status, first_response_at__isnull=True, escalated_at__isnull=True
            ).update(status=LEAD_TRANSITIONS["expire"].target(status), escalated_at=now)
            if not claimed:
                continue  # answered or escalated meanwhile
            escalated += 1
            match = Match.objects.select_related("need", "product__institution", "enterprise", "branch").get(
                pk=pk
            )
            note = "超过首次响应期限未响应"
            transition_record(
                subject=match,
                from_state=status,
                to_state=LEAD_TRANSITIONS["expire"].target(status),
                actor=None,
                note=note,
            )
            deadline = timezone.localtime(match.response_deadline).strftime("%Y-%m-%d %H:%M")
            notification_send(
                users=User.objects.filter(role=Role.STAFF, is_active=True),
                title=f"线索超时：{match.enterprise.name} × {match.product.name}",
                body=(
                    f"{match.branch or match.product.institution} 未在 {deadline} 前响应"
                    f"{match.enterprise.name}的融资需求，已标记超时并转派下一家机构。"
                ),
                url=reverse("matching:runs"),
            )
            pass_need_to_next_product(match=match, actor=None, reason=note)
    return escalated


@transaction.atomic
def pass_need_to_next_product(*, match: Match, actor=None, reason: str) -> Match | None:
    """After a decline or an overdue lead: offer the need to the next-ranked institution's
    matching product — one new lead at a time, so the firm is never flooded with calls — and tell
    the firm. Returns the new lead, or None when no other institution has a matching product.

    The next product is the highest-scoring eligible match of the same need from an institution
    that has not yet had this need as a lead, for a verified firm and a still-published product.
    """
    need = FinancingNeed.objects.select_for_update().select_related("enterprise__city").get(pk=match.need_id)
    firm = need.enterprise
    if (
        need.status != FinancingNeed.Status.OPEN
        or firm.verification_status != Enterprise.Verification.VERIFIED
    ):
        return None
    tried = set(Match.objects.filter(need=need, is_lead=True).values_list("institution_id", flat=True))
    tried.add(match.institution_id)
    candidate = (
        Match.objects.filter(
            need=need,
            is_lead=False,
            is_near_miss=False,
            status=Match.Status.SUGGESTED,
            product__status=Product.Status.PUBLISHED,
        )
        .exclude(institution_id__in=tried)
        .exclude(product__institution__kind=Institution.Kind.GUARANTEE)  # a referral of its own
        .select_related("product__institution")
        .order_by("-score", "pk")
        .first()
    )
    previous = match.product.institution.short_name if match.product_id else ""
    firm_users = list(User.objects.filter(enterprise=firm, role=Role.FIRM, is_active=True))
    if candidate is None:
        notification_send(
            users=firm_users,
            title="融资需求暂无其他匹配机构",
            body=f"{previous}未能承接您的融资需求（{reason}），暂无其他机构的匹配产品。完善企业资料后系统会重新匹配。",
            url=reverse("matching:suggestions"),
        )
        return None
    now = timezone.now()
    city_parent = firm.city.parent_id if firm.city_id else None
    branch_id = BranchRouter.load().route(candidate.institution_id, firm.city_id, city_parent)
    updated = Match.objects.filter(pk=candidate.pk, is_lead=False, status=Match.Status.SUGGESTED).update(
        is_lead=True,
        branch_id=branch_id,
        routed_at=now,
        response_deadline=add_working_days(now, settings.LEAD_RESPONSE_WORKING_DAYS),
    )
    if not updated:
        return None
    candidate.refresh_from_db()
    transition_record(
        subject=candidate,
        from_state="",
        to_state=Match.Status.SUGGESTED,
        actor=actor,
        note=f"由匹配 #{match.pk}（{previous}）转派：{reason}",
        data={"from_match": match.pk},
    )
    _tell_branches({branch_id: 1})
    webhook_leads_created(match_ids=[candidate.pk])
    notification_send(
        users=firm_users,
        title=f"您的融资需求已推荐给{candidate.product.institution.short_name}",
        body=(
            f"{previous}未能承接您的融资需求（{reason}）。系统已将需求推荐给"
            f"{candidate.product.institution.short_name}的「{candidate.product.name}」，请留意对方联系。"
        ),
        url=reverse("matching:suggestions"),
    )
    return candidate
