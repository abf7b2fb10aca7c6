"""Forms of the portal's own staff pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WorkdayOverride


class WorkdayOverrideForm(forms.Form):
    """One day of a year's schedule, as the State Council's notice states it."""

    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类型"), choices=WorkdayOverride.Kind.choices)
    note = forms.CharField(
        label=_("说明"), max_length=100, required=False, help_text=_("如：国庆节、春节调休上班")
    )
