"""Turn ORM rows into the engine's plain facts. The only bridge between the database and
``matching.engine``; the eligibility check and the matching service both go through it."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch

from enterprises.models import LATEST_SCORE, Enterprise, FinancingNeed, IPAsset, annual_figures_prefetch
from portal.models import Region
from products.models import Criteria, Product

from .engine import FirmFacts, NeedFacts, ProductFacts, QualificationFact


def firm_facts_prefetch(prefix: str = "") -> list:
    """What :func:`firm_facts` reads of many firms, for ``prefetch_related``: qualifications, IP
    assets, the annual figures and the current 科创积分 (``enterprises.models.LATEST_SCORE``).
    ``prefix`` is the path to the firm (``"enterprise__"`` from a need)."""
    score = Prefetch(
        prefix + LATEST_SCORE.prefetch_through, queryset=LATEST_SCORE.queryset, to_attr=LATEST_SCORE.to_attr
    )
    return [f"{prefix}qualifications", f"{prefix}ip_assets", annual_figures_prefetch(prefix), score]


def firm_facts(enterprise: Enterprise) -> FirmFacts:
    """Facts of one firm. Expects :func:`firm_facts_prefetch` prefetched for lists; works without,
    at a query each. The figures are the latest recorded year's (``Enterprise.latest_figures``; not
    reported → 0); ``rd_staff`` is its S&T staff (科技人员)."""
    quals = tuple(
        QualificationFact(code=q.code, issued_on=q.issued_on, expires_on=q.expires_on, official=q.is_official)
        for q in enterprise.qualifications.all()
    )
    assets = list(enterprise.ip_assets.all())
    city = enterprise.city
    year = enterprise.latest_figures
    return FirmFacts(
        city=enterprise.city_id,
        city_parent=city.parent_id if city is not None else None,
        industry=enterprise.industry,
        stage=enterprise.stage,
        founded_on=enterprise.founded_on or enterprise.created_at.date(),
        employees=(year.employees if year else None) or 0,
        rd_staff=(year.st_staff if year else None) or 0,
        revenue=(year.revenue if year else None) or Decimal("0"),
        rd_spend=(year.rd_spend if year else None) or Decimal("0"),
        export_business=enterprise.export_business,
        invention_patents=sum(1 for a in assets if a.kind == IPAsset.Kind.INVENTION_PATENT),
        ip_assets=len(assets),
        qualifications=quals,
        innovation_score=_score_total(enterprise),
    )


def _score_total(enterprise: Enterprise) -> Decimal | None:
    row = enterprise.current_score
    return None if row is None else Decimal(row.total)


def city_names() -> dict[str, str]:
    """Region code → name, for the engine to name cities in its reasons."""

    return dict(Region.objects.values_list("code", "name"))


def need_facts(need: FinancingNeed) -> NeedFacts:
    return NeedFacts(
        amount=need.amount,
        term_months=need.term_months,
        guarantee_types=frozenset(need.guarantee_types or ()),
        max_annual_rate=need.max_annual_rate,
    )


def product_facts(product: Product) -> ProductFacts:
    try:
        criteria = product.criteria
    except Criteria.DoesNotExist:
        criteria = Criteria(product=product)
    return ProductFacts(
        product_type=product.product_type,
        amount_min=product.amount_min,
        amount_max=product.amount_max,
        term_min=product.term_min_months,
        term_max=product.term_max_months,
        rate_min=product.rate_min,
        rate_max=product.rate_max,
        guarantee_types=frozenset(product.guarantee_types or ()),
        cities=frozenset(criteria.cities or ()),
        industries=frozenset(criteria.industries or ()),
        stages=frozenset(criteria.stages or ()),
        required_qualifications=frozenset(criteria.required_qualifications or ()),
        min_revenue=criteria.min_revenue,
        min_invention_patents=criteria.min_invention_patents,
        min_years=criteria.min_years,
        export_required=criteria.export_required,
        max_amount_revenue_ratio=criteria.max_amount_revenue_ratio,
        min_innovation_score=(
            None if criteria.min_innovation_score is None else Decimal(criteria.min_innovation_score)
        ),
    )
