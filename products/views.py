"""The product supermarket (产品超市): public list and product page.

For a logged-in firm the product page shows the eligibility check, computed by the one engine the
matching service uses (``enterprises.selectors.product_eligibility`` → ``matching.engine.evaluate``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from enterprises.models import Enterprise
from enterprises.selectors import need_choices_for_product, product_eligibility
from lenders.models import Institution
from matching.engine import fmt_score
from matching.models import Application
from matching.selectors import application_for_user, match_for_user
from portal.models import Region, Role
from portal.money import format_wan
from portal.vocabulary import GUARANTEE_TYPES, INDUSTRIES, QUALIFICATIONS, STAGES

from .filtersets import SCORE_REQUIREMENTS, ProductFilterSet
from .models import Criteria
from .selectors import product_for_user

PAGE_SIZE = 12
FILTER_KEYS = (
    "q",
    "institution",
    "type",
    "amount_wan",
    "term",
    "guarantee",
    "online",
    "score_req",
    "score_max",
    "sort",
)


def _firm_score_text(user) -> str:
    """A firm user's current 科创积分 as the engine words it ("72.5"), what the "我的科创积分可申请"
    filter compares; empty when not scored yet or for anyone else."""
    if not (user.is_authenticated and user.role == Role.FIRM and user.enterprise_id):
        return ""

    row = Enterprise.objects.get(pk=user.enterprise_id).current_score
    return "" if row is None else fmt_score(row.total)


def product_list(request):
    base = product_for_user(request.user).order_by("institution__name", "name", "pk")
    filterset = ProductFilterSet(request.GET or None, queryset=base, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    if request.GET.get("sort") and filterset.is_bound and filterset.is_valid():
        qs = qs.order_by(*qs.query.order_by, "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode([(k, request.GET[k]) for k in FILTER_KEYS if request.GET.get(k)])
    context = {
        "page": page,
        "filterset": filterset,
        "institutions": Institution.objects.filter(is_lender=True).order_by("name"),
        "guarantees": list(GUARANTEE_TYPES.items()),
        "score_requirements": [
            (value, label)
            for value, label in SCORE_REQUIREMENTS.items()
            if value != "reachable" or (request.user.is_authenticated and request.user.role == Role.FIRM)
        ],
        "firm_score_text": _firm_score_text(request.user),
        "query": query,
        "filtered": any(request.GET.get(k) for k in FILTER_KEYS if k != "sort"),
    }
    return render(request, "products/product_list.html", context)


def _criteria_lines(criteria: Criteria | None) -> list[str]:
    """The product's admission criteria as plain Chinese sentences (display only; the engine judges)."""
    if criteria is None:
        return []
    lines = []
    if criteria.cities:
        names = dict(Region.objects.filter(code__in=criteria.cities).values_list("code", "name"))
        lines.append(_("企业位于：%(v)s") % {"v": "、".join(names.get(c, c) for c in criteria.cities)})
    if criteria.industries:
        lines.append(
            _("所属行业：%(v)s") % {"v": "、".join(INDUSTRIES.get(c, c) for c in criteria.industries)}
        )
    if criteria.stages:
        lines.append(_("发展阶段：%(v)s") % {"v": "、".join(STAGES.get(c, c) for c in criteria.stages)})
    if criteria.required_qualifications:
        lines.append(
            _("须具备资质：%(v)s（须在有效期内）")
            % {"v": "、".join(QUALIFICATIONS.get(c, c) for c in criteria.required_qualifications)}
        )
    if criteria.min_revenue:
        lines.append(_("上年营业收入不低于 %(v)s") % {"v": format_wan(criteria.min_revenue)})
    if criteria.min_years:
        lines.append(_("成立满 %(n)s 年") % {"n": criteria.min_years})
    if criteria.export_required:
        lines.append(_("须有出口业务"))
    if criteria.min_invention_patents:
        lines.append(_("拥有发明专利不少于 %(n)s 件") % {"n": criteria.min_invention_patents})
    if criteria.max_amount_revenue_ratio:
        pct = (criteria.max_amount_revenue_ratio * 100).normalize()
        lines.append(_("融资金额不超过上年营业收入的 %(p)s%%") % {"p": f"{pct:f}"})
    if criteria.min_innovation_score is not None:
        lines.append(_("科创积分不低于 %(n)s 分") % {"n": criteria.min_innovation_score})
    return lines


def product_detail(request, pk: int):
    product = get_object_or_404(product_for_user(request.user), pk=pk)
    try:
        criteria = product.criteria
    except Criteria.DoesNotExist:
        criteria = None
    context = {
        "product": product,
        "criteria_lines": _criteria_lines(criteria),
        "guarantee_labels": [GUARANTEE_TYPES.get(g, g) for g in product.guarantee_types or ()],
    }
    user = request.user
    if user.is_authenticated and user.role == Role.FIRM and user.enterprise_id:

        needs = list(need_choices_for_product(user))
        need = needs[0] if needs else None
        chosen = request.GET.get("need")
        if chosen and chosen.isdigit():
            need = next((n for n in needs if n.pk == int(chosen)), need)
        match = None
        match_id = request.GET.get("match")
        if match_id and match_id.isdigit():
            match = match_for_user(user).filter(pk=int(match_id), product=product).first()
            if match is not None and match.need.is_open:
                need = match.need
        context.update(
            {
                "is_firm": True,
                "match": match,
                "needs": needs,
                "need": need,
                "evaluation": product_eligibility(user=user, product=product, need=need),
                "open_application": application_for_user(user)
                .filter(product=product, status__in=Application.OPEN_STATUSES)
                .first(),
            }
        )
    return render(request, "products/product_detail.html", context)
