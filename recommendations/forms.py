"""Forms of the recommended-list pages. They check input shape; the rules are in ``services``.
Amounts are typed in 万元 and handed to the service in yuan."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from enterprises.score import STAGE_GROUP_LABELS
from lenders.models import Institution
from portal.models import Region
from portal.money import wan_to_yuan
from portal.text import NOTE_MAX
from portal.vocabulary import INDUSTRIES, STAGES

from .models import TITLE_MAX, DeclineReason, Outcome
from .services import DEFAULT_DUE_WORKING_DAYS, MAX_DUE_WORKING_DAYS


def _lenders():
    return Institution.objects.filter(is_lender=True).order_by("name")


class ListBuildForm(forms.Form):
    title = forms.CharField(
        label=_("清单名称"),
        max_length=TITLE_MAX,
        required=False,
        error_messages={"max_length": _("清单名称不能超过 %(limit_value)d 个字。")},
    )
    min_score = forms.DecimalField(
        label=_("科创积分不低于"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        error_messages={
            "min_value": _("科创积分下限须为 0 到 100 之间的数字。"),
            "max_value": _("科创积分下限须为 0 到 100 之间的数字。"),
            "invalid": _("科创积分下限须为 0 到 100 之间的数字。"),
        },
    )
    stage_groups = forms.MultipleChoiceField(
        label=_("参评组别"),
        required=False,
        choices=list(STAGE_GROUP_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    stages = forms.MultipleChoiceField(
        label=_("发展阶段"), required=False, choices=list(STAGES.items()), widget=forms.CheckboxSelectMultiple
    )
    cities = forms.MultipleChoiceField(label=_("城市"), required=False, widget=forms.SelectMultiple)
    industries = forms.MultipleChoiceField(
        label=_("行业"), required=False, choices=list(INDUSTRIES.items()), widget=forms.SelectMultiple
    )
    first_loan_only = forms.BooleanField(label=_("只选首贷户"), required=False)
    consenting_only = forms.BooleanField(label=_("只选已授权机构查看资料的企业"), required=False)
    consent_institutions = forms.ModelMultipleChoiceField(
        label=_("须授权的机构（即拟发送的机构）"),
        required=False,
        queryset=_lenders(),
        widget=forms.SelectMultiple,
        error_messages={"invalid_choice": _("请选择列表中的机构。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cities"].choices = [(r.pk, r.name) for r in Region.objects.order_by("pk")]
        self.fields["consent_institutions"].queryset = _lenders()

    def filters(self) -> dict:
        d = self.cleaned_data
        return {
            "min_score": None if d.get("min_score") is None else str(d["min_score"]),
            "stage_groups": d.get("stage_groups") or [],
            "stages": d.get("stages") or [],
            "cities": d.get("cities") or [],
            "industries": d.get("industries") or [],
            "first_loan_only": bool(d.get("first_loan_only")),
            "consenting_only": bool(d.get("consenting_only")),
            "consent_institutions": [i.pk for i in d.get("consent_institutions") or []],
        }


class ListSendForm(forms.Form):
    institutions = forms.ModelMultipleChoiceField(
        label=_("接收机构"),
        queryset=_lenders(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一家接收机构。"),
            "invalid_choice": _("请选择列表中的机构。"),
        },
    )
    due_working_days = forms.IntegerField(
        label=_("反馈期限（工作日）"),
        min_value=1,
        max_value=MAX_DUE_WORKING_DAYS,
        initial=DEFAULT_DUE_WORKING_DAYS,
        help_text=_("按工作日计算（遇法定节假日顺延），截止日为发送后的第 N 个工作日。"),
        error_messages={
            "required": _("请填写反馈期限。"),
            "min_value": _("反馈期限须为 1 到 30 个工作日。"),
            "max_value": _("反馈期限须为 1 到 30 个工作日。"),
            "invalid": _("反馈期限须为 1 到 30 个工作日。"),
        },
    )
    confirm = forms.BooleanField(
        label=_("我已核对清单与接收机构，确认发送（发送后不能撤回）"),
        error_messages={"required": _("请勾选确认后再发送。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institutions"].queryset = _lenders()


class FeedbackForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("反馈结果"),
        choices=Outcome.choices,
        error_messages={"required": _("请选择反馈结果。"), "invalid_choice": _("请选择反馈结果。")},
    )
    amount = forms.DecimalField(
        label=_("授信金额（万元）"),
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text=_("已授信时必填，单位：万元"),
        error_messages={"invalid": _("请填写有效的授信金额。")},
    )
    reason_code = forms.ChoiceField(
        label=_("不予支持原因"),
        required=False,
        choices=[("", _("— 不予支持时必选 —")), *DeclineReason.choices],
        error_messages={"invalid_choice": _("请选择列表中的原因。")},
    )
    note = forms.CharField(
        label=_("说明（选填）"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("说明不能超过 %(limit_value)d 个字。")},
    )

    def params(self) -> dict:
        d = dict(self.cleaned_data)
        amount = d.get("amount")
        d["amount"] = None if amount is None else wan_to_yuan(Decimal(amount))
        return d
