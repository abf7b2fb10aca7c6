"""The manager's product form: the product and its criteria in one page. Amounts in 万元."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Region
from portal.money import wan_to_yuan, yuan_to_wan
from portal.text import DESCRIPTION_MAX
from portal.vocabulary import GUARANTEE_TYPES, INDUSTRIES, PRODUCT_TYPES, QUALIFICATIONS, STAGES

from .models import INNOVATION_SCORE_RANGE_MESSAGE, Product
from .services import CRITERIA_FIELDS, PRODUCT_FIELDS


class ProductForm(forms.Form):
    name = forms.CharField(label=_("产品名称"), max_length=80)
    product_type = forms.ChoiceField(label=_("产品类型"), choices=list(PRODUCT_TYPES.items()))
    amount_min = forms.DecimalField(
        label=_("最低金额（万元）"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    amount_max = forms.DecimalField(
        label=_("最高金额（万元）"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    term_min_months = forms.IntegerField(label=_("最短期限（月）"), min_value=1, max_value=360, initial=1)
    term_max_months = forms.IntegerField(label=_("最长期限（月）"), min_value=1, max_value=360)
    rate_min = forms.DecimalField(
        label=_("最低年利率（%）"), max_digits=6, decimal_places=3, min_value=Decimal("0"), required=False
    )
    rate_max = forms.DecimalField(
        label=_("最高年利率（%）"), max_digits=6, decimal_places=3, max_value=Decimal("36"), required=False
    )
    guarantee_types = forms.MultipleChoiceField(
        label=_("担保方式"), choices=list(GUARANTEE_TYPES.items()), widget=forms.CheckboxSelectMultiple
    )
    fully_online = forms.BooleanField(label=_("全流程线上"), required=False)
    is_exclusive = forms.BooleanField(label=_("科技信贷专属产品"), required=False)
    description = forms.CharField(
        label=_("产品介绍"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # criteria
    cities = forms.MultipleChoiceField(
        label=_("适用城市（不选为不限）"), required=False, choices=(), widget=forms.CheckboxSelectMultiple
    )
    industries = forms.MultipleChoiceField(
        label=_("适用行业（不选为不限）"),
        required=False,
        choices=list(INDUSTRIES.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    stages = forms.MultipleChoiceField(
        label=_("适用发展阶段（不选为不限）"),
        required=False,
        choices=list(STAGES.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    required_qualifications = forms.MultipleChoiceField(
        label=_("必备资质"),
        required=False,
        choices=list(QUALIFICATIONS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    min_revenue = forms.DecimalField(
        label=_("最低上年营收（万元）"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
    )
    min_invention_patents = forms.IntegerField(label=_("最少发明专利（件）"), min_value=0, initial=0)
    min_years = forms.IntegerField(label=_("最短成立年限（年）"), min_value=0, initial=0)
    export_required = forms.BooleanField(label=_("须有出口业务"), required=False)

    max_amount_revenue_ratio = forms.DecimalField(
        label=_("金额不超过上年营收的比例（0–1，不填为不限）"),
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        max_value=Decimal("1"),
        required=False,
    )
    min_innovation_score = forms.IntegerField(
        label=_("最低科创积分（0–100 分，不填为不限）"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("企业当前的科创积分须不低于此分；积分按同阶段企业排名计算，每晚更新"),
        error_messages={
            "min_value": INNOVATION_SCORE_RANGE_MESSAGE,
            "max_value": INNOVATION_SCORE_RANGE_MESSAGE,
            "invalid": _("最低科创积分应为 0–100 之间的整数"),
        },
    )

    PRODUCT_FIELDS = PRODUCT_FIELDS
    CRITERIA_FIELDS = CRITERIA_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cities"].choices = [(r.code, r.name) for r in Region.objects.all()]

    def clean(self):
        data = super().clean()
        pairs = [
            ("amount_min", "amount_max", _("最高金额不能低于最低金额")),
            ("term_min_months", "term_max_months", _("最长期限不能短于最短期限")),
            ("rate_min", "rate_max", _("最高利率不能低于最低利率")),
        ]
        for low, high, message in pairs:
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, message)
        return data

    @classmethod
    def initial_for(cls, product: Product) -> dict:
        initial = {name: getattr(product, name) for name in cls.PRODUCT_FIELDS}
        initial["amount_min"] = yuan_to_wan(product.amount_min)
        initial["amount_max"] = yuan_to_wan(product.amount_max)
        criteria = getattr(product, "criteria", None)
        if criteria is not None:
            for name in cls.CRITERIA_FIELDS:
                initial[name] = getattr(criteria, name)
            if criteria.min_revenue is not None:
                initial["min_revenue"] = yuan_to_wan(criteria.min_revenue)
        return initial

    def product_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.PRODUCT_FIELDS}
        data["amount_min"] = wan_to_yuan(data["amount_min"])
        data["amount_max"] = wan_to_yuan(data["amount_max"])
        return data

    def criteria_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.CRITERIA_FIELDS}
        if data["min_revenue"] is not None:
            data["min_revenue"] = wan_to_yuan(data["min_revenue"])
        return data
