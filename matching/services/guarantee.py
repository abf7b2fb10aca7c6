"""A declined firm is not left alone: when a bank declines a lead or rejects an application for lack
of collateral or of credit history (``lenders.choices.GUARANTEE_ROUTE_CODES``), the firm is offered
the government-guarantee route — the products of guarantee institutions (``Institution.Kind.
GUARANTEE``) that the match run found eligible for the same need, the best one referred as the next
lead, each shown with its guarantee fee and what the guarantee does for the loan."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Enterprise, FinancingNeed
from lenders.choices import GUARANTEE_ROUTE_CODES
from lenders.models import Institution
from portal.models import Role, User
from portal.money import format_wan
from portal.services import notification_send, transition_record
from portal.workdays import add_working_days
from products.models import Product

from ..models import Application, Match
from .routing import BranchRouter, _tell_branches


def guarantee_matches(need: FinancingNeed):
    """The eligible matches of ``need`` with published products of guarantee institutions, best
    first."""
    return (
        Match.objects.filter(
            need=need,
            is_near_miss=False,
            product__status=Product.Status.PUBLISHED,
            product__institution__kind=Institution.Kind.GUARANTEE,
        )
        .exclude(status__in=[Match.Status.DECLINED, Match.Status.WITHDRAWN])
        .select_related("product__institution")
        .order_by("-score", "pk")
    )


def guarantee_terms(product: Product, amount: Decimal, term_months: int) -> dict:
    """The fee and the effect of a guarantee product on a loan of ``amount`` over ``term_months``,
    stated in Chinese. Fee = amount × yearly fee rate × months / 12, rounded to the fen."""
    rate = product.guarantee_fee_rate
    coverage = product.guarantee_coverage
    fee = None
    if rate is not None:
        fee = (amount * rate / Decimal("100") * Decimal(term_months) / Decimal("12")).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    name = product.institution.short_name
    if fee is not None:
        fee_text = _("担保费率 %(r)s%%/年：担保 %(a)s、%(m)s 个月，担保费约 %(f)s。") % {
            "r": f"{rate.normalize():f}",
            "a": format_wan(amount),
            "m": term_months,
            "f": format_wan(fee),
        }
    else:
        fee_text = _("担保费率以%(g)s核定为准。") % {"g": name}
    if coverage is not None:
        effect_text = _(
            "%(g)s为贷款本金的 %(c)s%% 承担代偿责任（约 %(cv)s），银行可据此降低或免除抵质押要求、"
            "以信用方式放款；无信贷记录的企业也可凭担保获得首贷。"
        ) % {
            "g": name,
            "c": f"{coverage.normalize():f}",
            "cv": format_wan((amount * coverage / Decimal("100")).quantize(Decimal("0.01"))),
        }
    else:
        effect_text = _("%(g)s为贷款提供保证担保，银行可据此降低或免除抵质押要求。") % {"g": name}
    return {
        "fee": fee,
        "fee_rate": rate,
        "coverage": coverage,
        "fee_text": fee_text,
        "effect_text": effect_text,
    }


def guarantee_route(need: FinancingNeed | None) -> list[dict]:
    """What the firm is shown on a declined need or rejected application: each guarantee product
    eligible for the need with its institution, fee and effect. Empty when there is none."""
    if need is None:
        return []
    out = []
    for match in guarantee_matches(need):
        terms = guarantee_terms(match.product, need.amount, need.term_months)
        out.append(
            {"match": match, "product": match.product, "institution": match.product.institution, **terms}
        )
    return out


def guarantee_route_due_among(need_ids) -> set[int]:
    """Which of these needs the firm was declined or rejected on for lack of collateral or credit
    history (so the guarantee route is to be shown): two queries for any number of needs."""
    need_ids = [pk for pk in need_ids if pk is not None]
    if not need_ids:
        return set()
    declined = Match.objects.filter(
        need_id__in=need_ids, status=Match.Status.DECLINED, decline_reason__in=GUARANTEE_ROUTE_CODES
    ).values_list("need_id", flat=True)
    rejected = Application.objects.filter(
        need_id__in=need_ids, status=Application.Status.REJECTED, reject_reason__in=GUARANTEE_ROUTE_CODES
    ).values_list("need_id", flat=True)
    return set(declined) | set(rejected)


def guarantee_route_due(need: FinancingNeed | None) -> bool:
    """Whether the guarantee route is to be shown on this need (:func:`guarantee_route_due_among`)."""
    return need is not None and need.pk in guarantee_route_due_among([need.pk])


@transaction.atomic
def guarantee_refer(*, need: FinancingNeed | None, reason_code: str, reason: str, actor=None) -> Match | None:
    """After a collateral or credit-history decline/rejection: refer the need to the best eligible
    guarantee product as the next lead (if it is not a lead already) and tell the firm the fee and
    the effect. Returns the guarantee match referred or already routed, or None (no such product,
    another code, or the need closed)."""
    if need is None or reason_code not in GUARANTEE_ROUTE_CODES:
        return None
    need = FinancingNeed.objects.select_for_update().select_related("enterprise__city").get(pk=need.pk)
    firm = need.enterprise
    if need.status != FinancingNeed.Status.OPEN:
        return None
    match = guarantee_matches(need).first()
    if match is None:
        return None
    if not match.is_lead and firm.verification_status == Enterprise.Verification.VERIFIED:
        now = timezone.now()
        city_parent = firm.city.parent_id if firm.city_id else None
        branch_id = BranchRouter.load().route(match.institution_id, firm.city_id, city_parent)
        updated = Match.objects.filter(pk=match.pk, is_lead=False, status=Match.Status.SUGGESTED).update(
            is_lead=True,
            branch_id=branch_id,
            routed_at=now,
            response_deadline=add_working_days(now, settings.LEAD_RESPONSE_WORKING_DAYS),
        )
        if updated:
            match.refresh_from_db()
            transition_record(
                subject=match,
                from_state="",
                to_state=Match.Status.SUGGESTED,
                actor=actor,
                note=_("政府性融资担保转介：%(r)s") % {"r": reason},
                data={"guarantee_route": reason_code},
            )
            _tell_branches({branch_id: 1})
    terms = guarantee_terms(match.product, need.amount, need.term_months)
    notification_send(
        users=User.objects.filter(enterprise=firm, role=Role.FIRM, is_active=True),
        title=_("可走政府性融资担保增信：%(p)s（%(g)s）")
        % {"p": match.product.name, "g": match.product.institution.short_name},
        body=_("因“%(r)s”未获承接，平台已为您推荐担保增信。%(fee)s%(effect)s")
        % {"r": reason, "fee": terms["fee_text"], "effect": terms["effect_text"]},
        url=reverse("enterprises:need_list"),
    )
    return match
