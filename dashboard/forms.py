"""The dashboard's filter form: one parser of GET parameters for the page, the lists, the exports and
the API (it only checks input; the figures are computed in :mod:`dashboard.selectors`)."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.selectors import CHART_METRICS, METRICS, Filters, period_bounds
from enterprises.models import FinancingNeed, ServiceVisit
from lenders.models import Institution
from portal.models import ImportBatch, Region
from portal.text import DESCRIPTION_MAX
from portal.vocabulary import INDUSTRIES, PRODUCT_TYPES

PERIOD_CHOICES = [
    ("month", _("本月")),
    ("quarter", _("本季度")),
    ("year", _("本年")),
    ("custom", _("自定义")),
]
MAX_RANGE_DAYS = 366 * 10


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("统计期间"), choices=PERIOD_CHOICES, required=False)
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    city = forms.ChoiceField(label=_("城市"), required=False)
    industry = forms.ChoiceField(
        label=_("行业"), required=False, choices=[("", _("全部行业")), *INDUSTRIES.items()]
    )
    institution = forms.TypedChoiceField(label=_("金融机构"), required=False, coerce=int, empty_value=None)
    product_type = forms.ChoiceField(
        label=_("产品类型"), required=False, choices=[("", _("全部类型")), *PRODUCT_TYPES.items()]
    )
    product = forms.IntegerField(label=_("产品"), required=False, min_value=1, widget=forms.HiddenInput)
    metric = forms.ChoiceField(
        label=_("图表指标"),
        required=False,
        choices=[(key, METRICS[key].label) for key in CHART_METRICS],
    )

    # GET parameter names 'from' and 'to' (the API contract) map onto date_from / date_to.
    PARAM_ALIASES = {"from": "date_from", "to": "date_to"}

    def __init__(self, data=None, *, institution_locked: bool = False, city_locked: bool = False, **kwargs):
        if data is not None:
            data = data.copy()
            for param, name in self.PARAM_ALIASES.items():
                if param in data and name not in data:
                    data[name] = data[param]
            if not data.get("period"):
                data["period"] = "custom" if data.get("date_from") or data.get("date_to") else "month"
        super().__init__(data, **kwargs)
        if city_locked:  # a region desk: its region, always (dashboard.scoped_filters)
            del self.fields["city"]
        else:
            self.fields["city"].choices = [("", _("全省")), *Region.objects.values_list("code", "short_name")]
        if institution_locked:
            del self.fields["institution"]
        else:
            self.fields["institution"].choices = [
                ("", _("全部机构")),
                *Institution.objects.filter(is_lender=True).values_list("pk", "short_name"),
            ]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        period = data.get("period") or ("custom" if start or end else "month")
        if period == "custom":
            if not start or not end:
                raise forms.ValidationError(_("自定义期间需要同时填写开始日期和结束日期。"))
            if start > end:
                self.add_error("date_to", _("结束日期不能早于开始日期。"))
            elif end - start > timedelta(days=MAX_RANGE_DAYS):
                self.add_error("date_to", _("统计期间最长十年。"))
        else:
            start, end = period_bounds(period)
        data["period"], data["date_from"], data["date_to"] = period, start, end
        return data

    def to_filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            start=data["date_from"],
            end=data["date_to"],
            period=data["period"],
            city=data.get("city") or None,
            industry=data.get("industry") or None,
            institution=data.get("institution") or None,
            product_type=data.get("product_type") or None,
            product=data.get("product") or None,
            metric=data.get("metric") or CHART_METRICS[0],
        )


class VisitForm(forms.Form):
    """A service visit; the optional need fields post a financing need on the firm's behalf."""

    uscc = forms.CharField(label=_("企业统一社会信用代码"), max_length=30)
    visited_on = forms.DateField(
        label=_("走访日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    team = forms.CharField(
        label=_("服务团队"),
        max_length=300,
        help_text=_("中心与银行的参与人员，如：省创新创业服务中心 王伟；浦发银行 赵敏"),
    )
    institution = forms.TypedChoiceField(
        label=_("同行金融机构"), required=False, coerce=int, empty_value=None
    )
    topics = forms.MultipleChoiceField(label=_("服务内容"), widget=forms.CheckboxSelectMultiple)
    findings = forms.CharField(
        label=_("发现的问题与需求"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    follow_up = forms.CharField(
        label=_("后续跟进事项"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up_due = forms.DateField(
        label=_("跟进截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    need_amount = forms.DecimalField(
        label=_("代录融资需求：金额（万元）"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
    )
    need_term_months = forms.IntegerField(label=_("期限（月）"), required=False, min_value=1, max_value=360)
    need_purpose = forms.ChoiceField(label=_("用途"), required=False)
    need_description = forms.CharField(
        label=_("需求说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = ServiceVisit.Topic.choices
        self.fields["need_purpose"].choices = [("", "—"), *FinancingNeed.Purpose.choices]
        self.fields["institution"].choices = [
            ("", _("无")),
            *Institution.objects.order_by("name").values_list("pk", "short_name"),
        ]

    def clean(self):
        data = super().clean()
        if data.get("need_amount") and not data.get("need_term_months"):
            self.add_error("need_term_months", _("代录需求请填写期限。"))
        if data.get("need_term_months") and not data.get("need_amount"):
            self.add_error("need_amount", _("代录需求请填写金额。"))
        return data


class OfficialListUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("名单类型"))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    file = forms.FileField(label=_("名单文件（.xlsx 或 .csv）"))

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ImportBatch.Kind.choices
