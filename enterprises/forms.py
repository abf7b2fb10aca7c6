"""Forms of the firm workspace. They parse input (money in 万元 → yuan); the rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Region
from portal.money import wan_to_yuan, yuan_to_wan
from portal.text import NOTE_MAX
from portal.vocabulary import GUARANTEE_TYPES

from .consent import ConsentPurpose, ProfileGroup
from .models import AnnualFigures, Document, Enterprise, FinancingNeed, IPAsset, Qualification
from .services import MONEY_FIGURES, PROFILE_FIELDS, SIGNED_FIGURES


class WanField(forms.DecimalField):
    """Input in 万元, cleaned value in yuan; a yuan Decimal as initial value is shown in 万元."""

    def __init__(self, *, empty_zero: bool = False, **kwargs):
        self.empty_zero = empty_zero
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("step", "0.01")

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{yuan_to_wan(value):.2f}"
        return value

    def clean(self, value):
        cleaned = super().clean(value)
        if cleaned is None:
            return Decimal("0") if self.empty_zero else None
        return wan_to_yuan(cleaned)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RegisterForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"), max_length=150, help_text=_("用于登录，字母、数字或 @/./+/-/_")
    )
    password = forms.CharField(
        label=_("密码"), widget=forms.PasswordInput, help_text=_("至少 8 位，不能全是数字")
    )
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput)
    mobile = forms.CharField(
        label=_("联系手机"), max_length=11, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    email = forms.EmailField(label=_("电子邮箱"), required=False, help_text=_("填写后站内消息也会发送邮件"))
    name = forms.CharField(label=_("企业名称"), max_length=120)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=40, help_text=_("18 位，见营业执照"))
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=40)
    city = forms.ModelChoiceField(label=_("所在城市"), queryset=Region.objects.all(), empty_label=_("请选择"))
    shares_profile = forms.BooleanField(
        label=_("同意向平台上的金融机构展示企业资料"),
        required=False,
        help_text=_("不同意时，银行只能看到企业名称、城市和行业；以后可随时在“资料授权”中修改。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class EnterpriseForm(forms.ModelForm):
    registered_capital = WanField(label=_("注册资本（万元）"), required=False)
    total_assets = WanField(label=_("资产总额（万元）"), required=False)
    export_amount_last_year = WanField(label=_("上年出口额（万元）"), required=False, empty_zero=True)

    class Meta:
        model = Enterprise
        fields = list(PROFILE_FIELDS)
        widgets = {"founded_on": DateInput(), "description": forms.Textarea(attrs={"rows": 4})}


def _figure_label(name: str) -> str:
    return str(AnnualFigures._meta.get_field(name).verbose_name).removesuffix("（元）")


class AnnualFiguresForm(forms.Form):
    """One financial year of the 年度经营数据 section: money in 万元 (net profit may be negative, a
    loss), people and counts whole numbers; a blank input is "not reported" (None). The rules between
    figures are ``services.annual_figures_save``'s. Bound with ``prefix="y<year>"``."""

    def __init__(self, *args, year: int, **kwargs):
        kwargs.setdefault("prefix", f"y{year}")
        super().__init__(*args, **kwargs)
        self.year = year
        for name in AnnualFigures.FIGURE_FIELDS:
            label = _figure_label(name)
            if name in MONEY_FIGURES:
                signed = name in SIGNED_FIGURES
                field = WanField(
                    label=_("%(label)s（万元）") % {"label": label},
                    required=False,
                    min_value=None if signed else Decimal("0"),
                    error_messages={
                        "invalid": _("请填写金额（万元），如 1234.56。"),
                        "min_value": _("%(label)s不能为负数。") % {"label": label},
                        "max_digits": _("金额过大，请核对单位（万元）。"),
                        "max_whole_digits": _("金额过大，请核对单位（万元）。"),
                        "max_decimal_places": _("金额最多保留两位小数。"),
                    },
                    help_text=_("亏损填负数") if signed else "",
                )
            else:
                field = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=0,
                    max_value=10_000_000,
                    error_messages={
                        "invalid": _("请填写整数。"),
                        "min_value": _("%(label)s不能为负数。") % {"label": label},
                        "max_value": _("%(label)s过大，请核对。") % {"label": label},
                    },
                )
                field.widget.attrs.setdefault("inputmode", "numeric")
            self.fields[name] = field

    @classmethod
    def initial_from(cls, row: AnnualFigures | None) -> dict:
        return row.figures() if row is not None else {}

    def is_blank(self) -> bool:
        """Nothing entered for the year (a valid form only)."""
        return all(self.cleaned_data.get(name) is None for name in AnnualFigures.FIGURE_FIELDS)


class QualificationForm(forms.ModelForm):
    class Meta:
        model = Qualification
        fields = ["kind", "level", "number", "issued_on", "expires_on"]
        widgets = {"issued_on": DateInput(), "expires_on": DateInput()}

    def clean(self):
        """The model's named constraints, checked here first with a Chinese message on the field
        (a field with an error is left out of the model's own constraint check, so the
        constraint's name never reaches the screen)."""
        data = super().clean()
        if data.get("kind") == Qualification.Kind.SRDI and not data.get("level"):
            self.add_error("level", _("专精特新资质请选择层级。"))
        issued, expires = data.get("issued_on"), data.get("expires_on")
        if issued and expires and expires < issued:
            self.add_error("expires_on", _("有效期不能早于发证日期。"))
        return data


class IPAssetForm(forms.ModelForm):
    valuation = WanField(label=_("评估价值（万元）"), required=False)

    class Meta:
        model = IPAsset
        fields = ["kind", "number", "title", "granted_on", "valuation"]
        widgets = {"granted_on": DateInput()}

    def validate_unique(self):
        """Uniqueness is the service's job (the form has no enterprise yet)."""


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=Document.Kind.choices)
    file = forms.FileField(
        label=_("文件"),
        help_text=_("PDF、JPG 或 PNG，不超过 10 MB"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )


class NeedForm(forms.Form):
    amount = WanField(label=_("融资金额（万元）"), min_value=None)
    term_months = forms.IntegerField(label=_("期限（月）"))
    purpose = forms.ChoiceField(label=_("资金用途"), choices=FinancingNeed.Purpose.choices)
    guarantee_types = forms.MultipleChoiceField(
        label=_("可接受的担保方式"),
        choices=list(GUARANTEE_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    max_annual_rate = forms.DecimalField(
        label=_("可接受最高年利率（%）"), required=False, max_digits=6, decimal_places=3
    )
    needed_by = forms.DateField(label=_("期望到位日期"), required=False, widget=DateInput())
    description = forms.CharField(
        label=_("补充说明"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    @classmethod
    def initial_from(cls, need: FinancingNeed) -> dict:
        return {
            "amount": need.amount,
            "term_months": need.term_months,
            "purpose": need.purpose,
            "guarantee_types": need.guarantee_types,
            "max_annual_rate": need.max_annual_rate,
            "needed_by": need.needed_by,
            "description": need.description,
        }


class ApplicationForm(forms.Form):
    amount = WanField(label=_("申请金额（万元）"), min_value=None)
    term_months = forms.IntegerField(label=_("申请期限（月）"))
    purpose = forms.ChoiceField(label=_("资金用途"), choices=FinancingNeed.Purpose.choices)
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("申请说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    documents = forms.ModelMultipleChoiceField(
        label=_("附上材料"),
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, documents=None, **kwargs):
        super().__init__(*args, **kwargs)
        if documents is not None:
            self.fields["documents"].queryset = documents


class ShareProfileForm(forms.Form):
    """The box a firm ticks on the apply form: the bank sees the profile for reviewing it."""

    share_profile = forms.BooleanField(
        label=_("我同意向该机构展示上述企业资料，用于审查本次申请（有效期一年，可随时在“资料授权”页撤回）"),
        required=True,
        error_messages={"required": _("请勾选同意向该机构展示企业资料：银行需要查看企业资料才能审查申请。")},
    )


class ConsentGrantForm(forms.Form):
    """Grant or extend one institution's (or all institutions') consent: purposes, scope, expiry."""

    purposes = forms.MultipleChoiceField(
        label=_("授权用途"),
        choices=ConsentPurpose.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一项授权用途。")},
    )
    scope = forms.MultipleChoiceField(
        label=_("授权范围"),
        choices=ProfileGroup.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一项授权范围。")},
    )
    expires_on = forms.DateField(
        label=_("到期日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("留空为一年后（最长一年）。"),
    )
