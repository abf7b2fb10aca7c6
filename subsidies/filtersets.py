"""One FilterSet for the claims list page and the claims API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Claim, PolicyKind


class ClaimFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("企业/机构"))
    kind = django_filters.ChoiceFilter(choices=PolicyKind.choices, label=_("类型"))
    status = django_filters.ChoiceFilter(choices=Claim.Status.choices, label=_("状态"))
    year = django_filters.NumberFilter(field_name="year", label=_("年度"))
    series = django_filters.CharFilter(field_name="policy__series", label=_("政策编号"))

    class Meta:
        model = Claim
        fields = ["q", "kind", "status", "year", "series"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(enterprise__name__icontains=value) | Q(institution__name__icontains=value))
