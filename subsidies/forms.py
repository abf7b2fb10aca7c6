"""Forms of the subsidies pages (input shape only; rules live in services and selectors)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.money import wan_to_yuan, yuan_to_wan
from portal.vocabulary import PRODUCT_TYPES
from products.models import Product

from .models import LprRate, Policy, PolicyKind
from .params import CLAIM_PERIODS


class CalculatorForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("金融产品"), queryset=Product.objects.filter(status="published").select_related("institution")
    )
    amount_wan = forms.DecimalField(
        label=_("贷款金额（万元）"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=Decimal("500"),
    )
    term_months = forms.IntegerField(label=_("期限（月）"), min_value=1, max_value=360, initial=6)
    annual_rate = forms.DecimalField(
        label=_("年利率（%）"),
        max_digits=6,
        decimal_places=3,
        required=False,
        help_text=_("留空取产品最低利率"),
    )
    start = forms.DateField(label=_("起息日"), required=False, help_text=_("YYYY-MM-DD，留空为今天"))

    def quote_args(self) -> dict:
        d = self.cleaned_data
        return {
            "product": d["product"],
            "amount": wan_to_yuan(d["amount_wan"]),
            "term_months": d["term_months"],
            "annual_rate": d.get("annual_rate"),
            "start": d.get("start") or timezone.localdate(),
        }


class QuoteQueryForm(forms.Form):
    """The query string of GET /api/v1/subsidies/quote/ (yuan, percent, date)."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(status="published").select_related("institution")
    )
    amount = forms.DecimalField(max_digits=16, decimal_places=2)
    term_months = forms.IntegerField()
    annual_rate = forms.DecimalField(max_digits=6, decimal_places=3, required=False)
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"])


def _choices_of(kind_enum):
    return list(kind_enum.choices)


class PolicyForm(forms.Form):
    """A policy version: shared fields plus the parameters of every kind (only the chosen kind's
    parameters are used; services.policy_create validates them)."""

    series = forms.SlugField(
        label=_("政策编号"), max_length=48, help_text=_("字母、数字、连字符；同一政策各版本共用")
    )
    kind = forms.ChoiceField(label=_("政策类型"), choices=_choices_of(PolicyKind))
    name = forms.CharField(label=_("政策名称"), max_length=120)
    source = forms.CharField(label=_("政策依据"), max_length=200, required=False)
    effective_from = forms.DateField(label=_("生效日期"), help_text=_("YYYY-MM-DD"))
    effective_to = forms.DateField(label=_("失效日期"), required=False)
    budget_wan = forms.DecimalField(
        label=_("预算（万元）"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    # interest
    ratio = forms.DecimalField(label=_("贴息比例（0–1）"), required=False, max_digits=6, decimal_places=4)
    ratio_of_lpr = forms.DecimalField(
        label=_("按 LPR 贴息比例（0–1）"),
        required=False,
        max_digits=6,
        decimal_places=4,
        help_text=_("填写后按 该比例 × 1 年期 LPR 贴息，替代上一项"),
    )
    principal_cap_rate = forms.DecimalField(
        label=_("本金上限比例（0–1）"), required=False, max_digits=6, decimal_places=4
    )
    firm_year_cap_wan = forms.DecimalField(
        label=_("每企业每年上限（万元）"), required=False, max_digits=12, decimal_places=2
    )
    basis = forms.TypedChoiceField(
        label=_("计息基数"),
        choices=[(360, _("每年按 360 天")), (365, _("每年按 365 天"))],
        coerce=int,
        required=False,
        initial=360,
    )
    eligible_product_types = forms.MultipleChoiceField(
        label=_("适用产品类型"),
        choices=list(PRODUCT_TYPES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    auto_claim = forms.BooleanField(label=_("免申即享"), required=False)
    require_on_time = forms.BooleanField(label=_("仅按期还款的贷款享受贴息"), required=False, initial=True)
    claim_period = forms.ChoiceField(label=_("申领期间"), choices=list(CLAIM_PERIODS.items()), required=False)
    # risk
    risk_ratio = forms.DecimalField(
        label=_("补偿比例（0–1）"), required=False, max_digits=6, decimal_places=4
    )
    bank_year_cap_wan = forms.DecimalField(
        label=_("每行每年补偿上限（万元）"), required=False, max_digits=12, decimal_places=2
    )
    per_loan_cap_wan = forms.DecimalField(
        label=_("单笔补偿上限（万元）"), required=False, max_digits=12, decimal_places=2
    )
    npl_trigger = forms.DecimalField(
        label=_("不良率触发线（0–1）"),
        required=False,
        max_digits=6,
        decimal_places=4,
        initial=Decimal("0.01"),
    )
    # reward
    unit_wan = forms.DecimalField(
        label=_("奖励规模单位（万元）"), required=False, max_digits=14, decimal_places=2
    )
    reward_per_unit_wan = forms.DecimalField(
        label=_("每单位奖励（万元）"), required=False, max_digits=12, decimal_places=2
    )

    def __init__(self, *args, version_of: Policy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.version_of = version_of
        if version_of is not None:
            self.fields["series"].disabled = True
            self.fields["kind"].disabled = True

    @classmethod
    def initial_from(cls, policy: Policy) -> dict:
        p = policy.parameters or {}

        def wan(name):
            v = p.get(name)
            return None if v in (None, "") else yuan_to_wan(Decimal(str(v)))

        return {
            "series": policy.series,
            "kind": policy.kind,
            "name": policy.name,
            "source": policy.source,
            "effective_from": timezone.localdate(),
            "effective_to": policy.effective_to,
            "budget_wan": yuan_to_wan(policy.budget),
            "ratio": p.get("ratio") if policy.kind == PolicyKind.INTEREST else None,
            "ratio_of_lpr": p.get("ratio_of_lpr"),
            "principal_cap_rate": p.get("principal_cap_rate"),
            "firm_year_cap_wan": wan("firm_year_cap"),
            "basis": p.get("basis", 360),
            "eligible_product_types": p.get("eligible_product_types", []),
            "auto_claim": p.get("auto_claim", False),
            "require_on_time": p.get("require_on_time", True),
            "claim_period": p.get("claim_period", "quarter"),
            "risk_ratio": p.get("ratio") if policy.kind == PolicyKind.RISK else None,
            "bank_year_cap_wan": wan("bank_year_cap"),
            "per_loan_cap_wan": wan("per_loan_cap"),
            "npl_trigger": p.get("npl_trigger"),
            "unit_wan": wan("unit"),
            "reward_per_unit_wan": wan("reward_per_unit"),
        }

    def raw_parameters(self) -> dict:
        d = self.cleaned_data
        kind = d["kind"]

        def yuan(name):
            return None if d.get(name) is None else str(wan_to_yuan(d[name]))

        def s(name):
            return None if d.get(name) is None else str(d[name])

        if kind == PolicyKind.INTEREST:
            return {
                "ratio": s("ratio"),
                "ratio_of_lpr": s("ratio_of_lpr"),
                "principal_cap_rate": s("principal_cap_rate"),
                "firm_year_cap": yuan("firm_year_cap_wan"),
                "basis": d.get("basis") or "",
                "eligible_product_types": d.get("eligible_product_types") or [],
                "auto_claim": d.get("auto_claim", False),
                "require_on_time": d.get("require_on_time", False),
                "claim_period": d.get("claim_period") or "quarter",
            }
        if kind == PolicyKind.RISK:
            return {
                "ratio": s("risk_ratio"),
                "bank_year_cap": yuan("bank_year_cap_wan"),
                "per_loan_cap": yuan("per_loan_cap_wan"),
                "npl_trigger": s("npl_trigger"),
            }
        return {"unit": yuan("unit_wan"), "reward_per_unit": yuan("reward_per_unit_wan")}

    #: form field holding each parameter (to show parameter errors on the right field)
    PARAM_FIELDS = {
        "ratio": "ratio",
        "ratio_of_lpr": "ratio_of_lpr",
        "principal_cap_rate": "principal_cap_rate",
        "firm_year_cap": "firm_year_cap_wan",
        "basis": "basis",
        "eligible_product_types": "eligible_product_types",
        "claim_period": "claim_period",
        "bank_year_cap": "bank_year_cap_wan",
        "per_loan_cap": "per_loan_cap_wan",
        "npl_trigger": "npl_trigger",
        "unit": "unit_wan",
        "reward_per_unit": "reward_per_unit_wan",
    }

    def field_for_param(self, name: str, kind: str) -> str | None:
        if name == "ratio" and kind == PolicyKind.RISK:
            return "risk_ratio"
        return self.PARAM_FIELDS.get(name)


class LprForm(forms.ModelForm):
    class Meta:
        model = LprRate
        fields = ["effective_from", "one_year", "five_year"]


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("未批准原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmAccountForm(forms.Form):
    payee_name = forms.CharField(label=_("收款户名"), max_length=120)
    payee_bank = forms.CharField(label=_("开户行"), max_length=120)
    payee_account = forms.RegexField(
        label=_("收款账号"),
        max_length=40,
        regex=r"^[0-9 ]{8,40}$",
        error_messages={"invalid": _("账号只能包含数字，8 到 40 位")},
    )


class RecoveryForm(forms.Form):
    recovered_wan = forms.DecimalField(
        label=_("追回金额（万元）"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
