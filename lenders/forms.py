"""Forms of the bank workspace. Amounts are typed in 万元 and handed to services in yuan."""

from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.money import wan_to_yuan
from portal.text import NOTE_MAX

from .choices import CONTACT_CHANNELS, DECLINE_REASON_CHOICES, REJECT_REASON_CHOICES
from .models import API_CLIENT_SCOPES


def _wan_field(label, **kwargs):
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("单位：万元"),
        **kwargs,
    )


class WanMixin:
    """cleaned_data of the fields named in ``wan_fields`` are converted from 万元 to yuan."""

    wan_fields: tuple[str, ...] = ()

    def params(self) -> dict:
        data = dict(self.cleaned_data)
        for name in self.wan_fields:
            if data.get(name) is not None:
                data[name] = wan_to_yuan(data[name])
        return data


class NotAfterTodayMixin:
    """The date inputs named in ``past_dates`` offer no day after today (a hint: the service decides)."""

    past_dates: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate().isoformat()
        for name in self.past_dates:
            self.fields[name].widget.attrs["max"] = today


class ContactForm(forms.Form):
    channel = forms.ChoiceField(label=_("联系方式"), choices=list(CONTACT_CHANNELS.items()))
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("沟通记录"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class InviteForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("给企业的留言"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeclineForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("婉拒原因"), choices=DECLINE_REASON_CHOICES)
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(forms.Form):
    officer = forms.ModelChoiceField(label=_("转派给"), queryset=None)
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, officers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers
        self.fields["officer"].label_from_instance = lambda u: f"{u.display_name}（{u.branch.name}）"


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RequestDocumentsForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("需补充的材料"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ApproveForm(WanMixin, forms.Form):
    wan_fields = ("credit_line",)
    credit_line = _wan_field(_("授信额度"))
    annual_rate = forms.DecimalField(
        label=_("年利率（%）"), max_digits=6, decimal_places=3, min_value=Decimal("0.001")
    )
    term_months = forms.IntegerField(label=_("授信期限（月）"), min_value=1, max_value=360)
    valid_until = forms.DateField(
        label=_("授信有效期至"),
        required=False,
        help_text=_("企业须在此日期前签约确认；不填则为授信日后 30 天"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    confirm_over_request = forms.BooleanField(label=_("确认授信额度超过申请金额"), required=False)
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("原因"), choices=REJECT_REASON_CHOICES)
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DisburseForm(NotAfterTodayMixin, WanMixin, forms.Form):
    wan_fields = ("principal",)
    past_dates = ("start_date",)
    principal = _wan_field(_("放款本金"))
    annual_rate = forms.DecimalField(
        label=_("年利率（%）"), max_digits=6, decimal_places=3, min_value=Decimal("0.001")
    )
    start_date = forms.DateField(
        label=_("起息日"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    maturity_date = forms.DateField(
        label=_("到期日"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RepayForm(NotAfterTodayMixin, WanMixin, forms.Form):
    wan_fields = ("principal", "interest")
    past_dates = ("date",)
    date = forms.DateField(
        label=_("还款日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    principal = forms.DecimalField(
        label=_("归还本金"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        initial=0,
        help_text=_("单位：万元"),
    )
    interest = forms.DecimalField(
        label=_("支付利息"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        initial=0,
        help_text=_("单位：万元"),
    )
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DefaultForm(NotAfterTodayMixin, WanMixin, forms.Form):
    wan_fields = ("outstanding_principal",)
    past_dates = ("date",)
    date = forms.DateField(
        label=_("违约日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    outstanding_principal = _wan_field(_("未偿本金"))
    note = forms.CharField(
        max_length=NOTE_MAX, label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


ACTION_FORMS = {
    "accept": NoteForm,
    "request_documents": RequestDocumentsForm,
    "approve": ApproveForm,
    "reject": RejectForm,
    "disburse": DisburseForm,
    "repay": RepayForm,
    "default": DefaultForm,
}


def action_params(form) -> dict:
    return form.params() if isinstance(form, WanMixin) else dict(form.cleaned_data)


class PoolAddForm(forms.Form):
    note = forms.CharField(
        label=_("培育说明"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class WebhookForm(forms.Form):
    url = forms.URLField(
        label=_("事件推送地址"),
        required=False,
        assume_scheme="https",
        help_text=_("新线索和申请状态变化将以 JSON POST 到此地址；留空则停止推送。"),
    )


class ApiClientForm(forms.Form):
    name = forms.CharField(label=_("客户端名称"), max_length=80, help_text=_("例如：信贷系统（生产）"))
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    expires_on = forms.DateField(
        label=_("有效期至（可选）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("到期当天 24:00（北京时间）后令牌失效；留空表示长期有效，直至吊销。"),
    )

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(k, f"{k}：{v}") for k, v in API_CLIENT_SCOPES.items()]

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("有效期须晚于今天。"))
        return day

    def expires_at(self):
        from datetime import datetime, time, timedelta

        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("结束日期不能早于开始日期"))
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days > 3 * 366:
            self.add_error("start", _("统计区间不能超过三年"))
        return data

    @staticmethod
    def default_period() -> tuple[date, date]:
        today = timezone.localdate()
        return date(today.year, 1, 1), today
