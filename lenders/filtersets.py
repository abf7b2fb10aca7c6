"""One FilterSet per list of the bank workspace, used by the page, the export and the API alike."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.filtersets import FirstLoanFilter
from enterprises.models import Enterprise
from matching.filtersets import MatchFilterSet
from matching.models import Application, Match
from portal.vocabulary import INDUSTRIES, QUALIFICATIONS, STAGES

OPEN = "open"


class LeadFilterSet(MatchFilterSet):
    """The lead inbox: the matches API's filters (``GET /api/v1/matches/``: city, industry, product,
    minimum score, status, overdue, first-loan firms) plus firm name, officer and the 'open' status of the inbox."""

    q = django_filters.CharFilter(method="filter_q", label=_("企业名称"))
    status = django_filters.ChoiceFilter(
        method="filter_status",
        choices=[(OPEN, _("待处理（未婉拒/未超时）")), *Match.Status.choices],
        label=_("状态"),
    )
    officer = django_filters.NumberFilter(field_name="assigned_officer_id", label=_("客户经理"))
    renewal = django_filters.BooleanFilter(field_name="need__is_renewal", label=_("续贷需求"))

    class Meta(MatchFilterSet.Meta):
        fields = [
            "q",
            "city",
            "industry",
            "product",
            "score",
            "status",
            "overdue",
            "officer",
            "renewal",
            "first_loan",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(enterprise__name__icontains=value) if value else queryset

    def filter_status(self, queryset, name, value):
        if value == OPEN:
            return queryset.filter(
                status__in=[Match.Status.SUGGESTED, Match.Status.CLAIMED, Match.Status.CONTACTED]
            )
        return queryset.filter(status=value)


class ApplicationReviewFilterSet(django_filters.FilterSet):
    """The application queue: status, product, city, industry, firm name, submission period,
    first-loan firms."""

    q = django_filters.CharFilter(method="filter_q", label=_("企业名称"))
    status = django_filters.ChoiceFilter(
        method="filter_status", choices=[(OPEN, _("在办")), *Application.Status.choices], label=_("状态")
    )
    product = django_filters.NumberFilter(field_name="product_id", label=_("产品"))
    city = django_filters.CharFilter(method="filter_city", label=_("城市（区划代码）"))
    industry = django_filters.ChoiceFilter(
        field_name="enterprise__industry", choices=list(INDUSTRIES.items()), label=_("行业")
    )
    submitted_from = django_filters.DateFilter(
        field_name="created_at__date", lookup_expr="gte", label=_("提交起")
    )
    submitted_to = django_filters.DateFilter(
        field_name="created_at__date", lookup_expr="lte", label=_("提交止")
    )
    first_loan = FirstLoanFilter()

    class Meta:
        model = Application
        fields = [
            "q",
            "status",
            "product",
            "city",
            "industry",
            "submitted_from",
            "submitted_to",
            "first_loan",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(enterprise__name__icontains=value) if value else queryset

    def filter_city(self, queryset, name, value):
        return queryset.filter(Q(enterprise__city_id=value) | Q(enterprise__city__parent_id=value))

    def filter_status(self, queryset, name, value):
        if value == OPEN:
            return queryset.filter(status__in=Application.OPEN_STATUSES)
        return queryset.filter(status=value)


class PoolCandidateFilterSet(django_filters.FilterSet):
    """Browsing consenting, verified firms for the incubation pool."""

    q = django_filters.CharFilter(method="filter_q", label=_("企业名称"))
    city = django_filters.CharFilter(method="filter_city", label=_("城市（区划代码）"))
    industry = django_filters.ChoiceFilter(choices=list(INDUSTRIES.items()), label=_("行业"))
    stage = django_filters.ChoiceFilter(choices=list(STAGES.items()), label=_("发展阶段"))
    qualification = django_filters.ChoiceFilter(
        choices=list(QUALIFICATIONS.items()), method="filter_qualification", label=_("资质")
    )

    class Meta:
        model = Enterprise
        fields = ["q", "city", "industry", "stage", "qualification"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__icontains=value) if value else queryset

    def filter_city(self, queryset, name, value):
        return queryset.filter(Q(city_id=value) | Q(city__parent_id=value))

    def filter_qualification(self, queryset, name, value):
        today = timezone.localdate()
        live = Q(qualifications__issued_on__lte=today) & (
            Q(qualifications__expires_on__isnull=True) | Q(qualifications__expires_on__gte=today)
        )
        if value.startswith("srdi_"):
            level = {"srdi_innovative": "innovative", "srdi_sme": "srdi_sme", "srdi_giant": "giant"}[value]
            kind = Q(qualifications__kind="srdi", qualifications__level=level)
        else:
            kind = Q(qualifications__kind=value)
        return queryset.filter(live & kind).distinct()
