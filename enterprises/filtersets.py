"""FilterSets of the firm's lists, shared by the pages and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from matching.models import Application

from .consent import ConsentPurpose
from .models import FinancingNeed
from .selectors import first_loan_firm_for

#: The consent purpose under which a bank reads a list's rows (the bank view's).
_LIST_PURPOSE = {"matching.Match": ConsentPurpose.LEAD, "matching.Application": ConsentPurpose.APPLICATION}


class FirstLoanFilter(django_filters.BooleanFilter):
    """仅首贷户 (``first_loan=true``; ``false``: only the others) on any list whose rows name a firm:
    ``ref`` is the path to the firm's id; the consent purpose is the list's (a lead, an application).
    The rule is
    ``enterprises.selectors.first_loan_firm_for``: for a bank, only firms whose consent shows it
    their financials count, so the filter never reveals what the badge hides."""

    def __init__(self, *args, ref: str = "enterprise_id", **kwargs):
        self.ref = ref
        kwargs.setdefault("label", _("仅首贷户"))
        kwargs.setdefault("help_text", _("true：只看首贷户（从未获得银行贷款、平台上也没有放款记录的企业）"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if "is_first_loan_firm" in qs.query.annotations:  # the list's badge, computed for its reader
            flag = Q(is_first_loan_firm=True)
        else:
            request = getattr(self.parent, "request", None)
            purpose = _LIST_PURPOSE.get(qs.model._meta.label)
            flag = first_loan_firm_for(getattr(request, "user", None), self.ref, purpose=purpose)
        return qs.filter(flag) if value else qs.exclude(flag)


class NeedFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FinancingNeed.Status.choices, label=_("状态"))
    purpose = django_filters.ChoiceFilter(choices=FinancingNeed.Purpose.choices, label=_("用途"))

    class Meta:
        model = FinancingNeed
        fields = ["status", "purpose"]


class ApplicationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Application.Status.choices, label=_("状态"))
    product = django_filters.NumberFilter(field_name="product_id", label=_("产品"))
    first_loan = FirstLoanFilter()

    class Meta:
        model = Application
        fields = ["status", "product", "first_loan"]
