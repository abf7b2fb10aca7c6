"""FilterSets of the firm's lists, shared by the pages and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from matching.models import Application

from .models import FinancingNeed


class NeedFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FinancingNeed.Status.choices, label=_("状态"))
    purpose = django_filters.ChoiceFilter(choices=FinancingNeed.Purpose.choices, label=_("用途"))

    class Meta:
        model = FinancingNeed
        fields = ["status", "purpose"]


class ApplicationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Application.Status.choices, label=_("状态"))
    product = django_filters.NumberFilter(field_name="product_id", label=_("产品"))

    class Meta:
        model = Application
        fields = ["status", "product"]
