"""Forms of the feedback pages. They check input shape; the rules are in ``feedback.services``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from lenders.models import Institution
from portal.text import NOTE_MAX

from .models import COMMENT_MAX, Complaint

STAR_CHOICES = [(n, "★" * n) for n in range(5, 0, -1)]


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("评分"),
        choices=STAR_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择 1 到 5 星。"), "invalid_choice": _("请选择 1 到 5 星。")},
    )
    comment = forms.CharField(
        label=_("评价内容（选填）"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("评价内容不能超过 %(limit_value)d 字。")},
    )
    anonymous = forms.BooleanField(label=_("匿名评价（银行看不到企业名称）"), required=False)


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类别"), choices=Complaint.Kind.choices, initial=Complaint.Kind.COMPLAINT
    )
    case = forms.ChoiceField(label=_("涉及案件（选填）"), required=False)
    institution = forms.ModelChoiceField(
        label=_("涉及机构"),
        queryset=Institution.objects.order_by("name"),
        required=False,
        empty_label=_("— 请选择（已选案件时可不填）—"),
        error_messages={"invalid_choice": _("请选择列表中的机构。")},
    )
    subject = forms.CharField(
        label=_("标题"),
        max_length=100,
        error_messages={"required": _("请填写标题。"), "max_length": _("标题不能超过 100 字。")},
    )
    body = forms.CharField(
        label=_("具体情况"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("请填写具体情况。"),
            "max_length": _("内容不能超过 %(limit_value)d 字。"),
        },
    )

    def __init__(self, *args, cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [("", _("— 不关联具体案件 —")), *cases]

    def clean(self):
        data = super().clean()
        if not data.get("case") and not data.get("institution") and "institution" not in self.errors:
            self.add_error("institution", _("请选择投诉涉及的机构，或选择一个具体案件。"))
        return data


class ComplaintActionForm(forms.Form):
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("说明不能超过 %(limit_value)d 字。")},
    )
