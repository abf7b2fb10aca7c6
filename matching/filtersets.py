"""FilterSets of the matching app: one per list, used by the page and the API alike."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.filtersets import FirstLoanFilter
from matching.models import Loan, Match, MatchRun
from portal import kpi
from portal.vocabulary import INDUSTRIES

MATURING_WITHIN_MAX = 366


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (``1.5`` or ``abc`` is refused with a message on the field)."""

    field_class = forms.IntegerField


def overdue_q(now=None) -> Q:
    """Leads past their first-response deadline with no response yet: ``portal.kpi.lead_overdue``,
    the one definition (as ``Match.objects.overdue`` and ``Match.is_overdue``)."""
    return kpi.lead_overdue(now or timezone.now())


class MatchFilterSet(django_filters.FilterSet):
    """Matches: minimum score, status, city (a city includes its zones), industry, product, near
    miss, overdue, first-loan firms (``first_loan=true``)."""

    score = django_filters.NumberFilter(field_name="score", lookup_expr="gte", label=_("最低匹配度"))
    status = django_filters.ChoiceFilter(field_name="status", choices=Match.Status.choices, label=_("状态"))
    city = django_filters.CharFilter(method="filter_city", label=_("城市（区划代码）"))
    industry = django_filters.ChoiceFilter(
        field_name="enterprise__industry", choices=list(INDUSTRIES.items()), label=_("行业")
    )
    product = django_filters.NumberFilter(field_name="product_id", label=_("产品"))
    near_miss = django_filters.BooleanFilter(field_name="is_near_miss", label=_("差一点匹配"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已超时未响应"))
    first_loan = FirstLoanFilter()

    class Meta:
        model = Match
        fields = ["score", "status", "city", "industry", "product", "near_miss", "overdue", "first_loan"]

    def filter_city(self, queryset, name, value):
        return queryset.filter(Q(enterprise__city_id=value) | Q(enterprise__city__parent_id=value))

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())


class MatchRunFilterSet(django_filters.FilterSet):
    """Run history: by trigger and status; ``full`` keeps only full runs (nightly, manual, seed)."""

    trigger = django_filters.ChoiceFilter(
        field_name="trigger", choices=MatchRun.Trigger.choices, label=_("触发方式")
    )
    status = django_filters.ChoiceFilter(
        field_name="status", choices=MatchRun.Status.choices, label=_("状态")
    )
    full = django_filters.BooleanFilter(method="filter_full", label=_("仅全量任务"))

    class Meta:
        model = MatchRun
        fields = ["trigger", "status", "full"]

    def filter_full(self, queryset, name, value):
        full = [MatchRun.Trigger.NIGHTLY, MatchRun.Trigger.MANUAL, MatchRun.Trigger.SEED]
        if value is None:
            return queryset
        return queryset.filter(trigger__in=full) if value else queryset.exclude(trigger__in=full)


class LoanFilterSet(django_filters.FilterSet):
    """Loans: by status today (normal, overdue, repaid, defaulted — as ``Loan.phase``), product,
    application and start date."""

    status = django_filters.ChoiceFilter(method="filter_status", choices=Loan.Phase.choices, label=_("状态"))
    product = django_filters.NumberFilter(field_name="application__product_id", label=_("产品"))
    application = django_filters.NumberFilter(field_name="application_id", label=_("申请"))
    start_from = django_filters.DateFilter(
        field_name="start_date", lookup_expr="gte", label=_("起息日不早于")
    )
    start_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte", label=_("起息日不晚于"))
    maturing_within = IntegerFilter(
        method="filter_maturing_within",
        label=_("天内到期"),
        min_value=0,
        max_value=MATURING_WITHIN_MAX,
        help_text=_("未结清且在今天起 N 天内（含今天）到期的贷款，N 为 0–366 的整数"),
    )

    class Meta:
        model = Loan
        fields = ["status", "product", "application", "start_from", "start_to", "maturing_within"]

    def filter_status(self, queryset, name, value):
        return queryset.in_phase(value) if value else queryset

    def filter_maturing_within(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.maturing_within(value)
