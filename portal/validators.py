"""Date ranges that make sense (issue 18): validators on the model fields, so the pages' forms and
the API's serializers refuse a date such as 0001-01-01 or 9999-12-31 with a Chinese field error."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def _years_ahead(years: int) -> date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def validate_founded_on(value: date) -> None:
    """A firm's founding date: 1900-01-01 at the earliest, not in the future."""
    if value is None:
        return
    if value < date(1900, 1, 1):
        raise ValidationError(_("成立日期不能早于 1900-01-01。"), code="too_early")
    if value > timezone.localdate():
        raise ValidationError(_("成立日期不能晚于今天。"), code="future")


def validate_needed_by(value: date) -> None:
    """When the money is needed: within the next 10 years (and not before 1990)."""
    if value is None:
        return
    if value < date(1990, 1, 1) or value > _years_ahead(10):
        raise ValidationError(_("期望到位日期须在今后 10 年以内。"), code="out_of_range")


def validate_qualification_date(value: date) -> None:
    """Certificates and patents: 1990-01-01 to 10 years ahead."""
    if value is None:
        return
    if value < date(1990, 1, 1) or value > _years_ahead(10):
        raise ValidationError(_("日期须在 1990-01-01 至今后 10 年之间。"), code="out_of_range")
