"""One FilterSet for the product supermarket page and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enterprises.models import Enterprise
from portal.money import wan_to_yuan
from portal.vocabulary import GUARANTEE_TYPES, PRODUCT_TYPES

from .models import Product

#: The choices of the 最低科创积分要求 filter.
SCORE_REQUIREMENTS = {
    "required": _("有科创积分要求"),
    "none": _("无科创积分要求"),
    "reachable": _("我的科创积分可申请"),
}
# A LEFT JOIN: a product without a criteria row sets no requirement either.
_NO_SCORE_REQUIREMENT = Q(criteria__min_innovation_score__isnull=True)


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("搜索"))
    institution = django_filters.NumberFilter(
        field_name="institution_id", label=_("机构"), min_value=1, max_value=2**31, decimal_places=0
    )
    type = django_filters.ChoiceFilter(
        field_name="product_type", choices=list(PRODUCT_TYPES.items()), label=_("产品类型")
    )
    # Bounded (issue 18): 1e50 is a Chinese field error (API 400, the page ignores it), never a 500.
    amount = django_filters.NumberFilter(
        method="filter_amount",
        label=_("金额（元）"),
        min_value=0,
        max_value=10**13,
        max_digits=16,
        decimal_places=2,
    )
    amount_wan = django_filters.NumberFilter(
        method="filter_amount_wan",
        label=_("金额（万元）"),
        min_value=0,
        max_value=10**9,
        max_digits=14,
        decimal_places=4,
    )
    term = django_filters.NumberFilter(
        method="filter_term", label=_("期限（月）"), min_value=0, max_value=1200, decimal_places=0
    )
    guarantee = django_filters.ChoiceFilter(
        choices=list(GUARANTEE_TYPES.items()), method="filter_guarantee", label=_("担保方式")
    )
    online = django_filters.BooleanFilter(field_name="fully_online", label=_("全流程线上"))
    exclusive = django_filters.BooleanFilter(field_name="is_exclusive", label=_("科技专属产品"))
    # 最低科创积分要求: products that set one or none, the ones the caller's firm reaches with its
    # current score, or those asking at most a given score (no requirement counts as 0).
    score_req = django_filters.ChoiceFilter(
        choices=list(SCORE_REQUIREMENTS.items()), method="filter_score_req", label=_("最低科创积分要求")
    )
    score_max = django_filters.NumberFilter(
        method="filter_score_max",
        label=_("最低科创积分要求不高于（分）"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("rate_min", "rate"),
            ("amount_max", "amount"),
            ("term_max_months", "term"),
            ("published_at", "published"),
        ),
        field_labels={
            # ascending choices are labelled by model field, descending by "-" + parameter
            "rate_min": _("利率从低到高"),
            "-rate": _("利率从高到低"),
            "amount_max": _("额度从低到高"),
            "-amount": _("额度从高到低"),
            "term_max_months": _("期限从短到长"),
            "-term": _("期限从长到短"),
            "published_at": _("上架时间从早到晚"),
            "-published": _("最新上架"),
        },
        label=_("排序"),
    )

    class Meta:
        model = Product
        fields = [
            "q",
            "institution",
            "type",
            "amount",
            "amount_wan",
            "term",
            "guarantee",
            "online",
            "exclusive",
            "score_req",
            "score_max",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(description__icontains=value) | Q(institution__name__icontains=value)
        )

    def filter_amount(self, queryset, name, value):
        return queryset.filter(amount_min__lte=value, amount_max__gte=value)

    def filter_amount_wan(self, queryset, name, value):
        return self.filter_amount(queryset, name, wan_to_yuan(value))

    def filter_term(self, queryset, name, value):
        return queryset.filter(term_min_months__lte=value, term_max_months__gte=value)

    def filter_score_req(self, queryset, name, value):
        """``required``: products with a 最低科创积分; ``none``: without one; ``reachable``: those the
        caller's firm meets with its current score (a firm not scored yet: those without one). A
        caller who is not a firm user has no score: ``reachable`` leaves the list as it is."""
        if value == "required":
            return queryset.filter(criteria__min_innovation_score__isnull=False)
        if value == "none":
            return queryset.filter(_NO_SCORE_REQUIREMENT)
        if value == "reachable":
            user = getattr(self.request, "user", None)
            if user is None or not user.is_authenticated or not getattr(user, "enterprise_id", None):
                return queryset

            score = Enterprise.objects.get(pk=user.enterprise_id).current_score
            return self.filter_score_max(queryset, name, None if score is None else score.total)
        return queryset

    def filter_score_max(self, queryset, name, value):
        """Products without a score requirement or requiring at most ``value`` (None: none only)."""
        if value is None:
            return queryset.filter(_NO_SCORE_REQUIREMENT)
        return queryset.filter(_NO_SCORE_REQUIREMENT | Q(criteria__min_innovation_score__lte=value))

    def filter_guarantee(self, queryset, name, value):
        # JSON list membership, portable between SQLite and PostgreSQL.
        ids = [pk for pk, types in queryset.values_list("pk", "guarantee_types") if value in (types or [])]
        return queryset.filter(pk__in=ids)
