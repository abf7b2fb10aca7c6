"""FilterSets of the feedback lists (pages and API alike)."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import kpi

from .models import Complaint, Rating


class RatingFilterSet(django_filters.FilterSet):
    institution = django_filters.NumberFilter(field_name="institution_id", label=_("机构"))
    stars = django_filters.NumberFilter(field_name="stars", label=_("星级"))

    class Meta:
        model = Rating
        fields = ["institution", "stars"]


class ComplaintFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        field_name="status", choices=Complaint.Status.choices, label=_("状态")
    )
    institution = django_filters.NumberFilter(field_name="institution_id", label=_("机构"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("超期未答复"))

    class Meta:
        model = Complaint
        fields = ["status", "institution", "overdue"]

    def filter_overdue(self, queryset, name, value):
        q = kpi.complaint_overdue(timezone.now())
        return queryset.filter(q) if value else queryset.exclude(q)
