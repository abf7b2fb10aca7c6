"""Text that cannot hurt: control characters and length caps, one rule for every text field.

- :func:`strip_control` drops the C0/C1 control characters (tab, line feed and carriage return
  stay) — what breaks spreadsheets (openpyxl refuses them), terminals and log readers.
- Applied to input everywhere by one mechanism each: :class:`portal.middleware.CleanInputMiddleware`
  (form and query parameters), :class:`portal.api.parsers.JSONParser` (API bodies), and
  :func:`clean_text_fields` (a ``pre_save`` receiver on every model of the portal: what is stored
  is clean whatever path it came by, and a text longer than its field's ``max_length`` is refused).
- Every spreadsheet writer passes its text cells through :func:`xlsx_text`.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: Length caps of free-text fields (characters).
NOTE_MAX = 2000
DESCRIPTION_MAX = 5000
SYSTEM_TEXT_MAX = 10000

PROJECT_APPS = {"portal", "enterprises", "lenders", "products", "matching", "subsidies"}


def strip_control(value):
    """``value`` without control characters when it is a string; anything else unchanged."""
    if isinstance(value, str) and CONTROL_CHARS.search(value):
        return CONTROL_CHARS.sub("", value)
    return value


def xlsx_text(value):
    """A cell value an .xlsx writer can store: control characters dropped (openpyxl raises on them)."""
    return strip_control(value)


def clean_text_fields(sender, instance, raw=False, **kwargs) -> None:
    """``pre_save``: strip control characters from every char/text field, refuse one over its cap."""
    if raw or sender._meta.app_label not in PROJECT_APPS:
        return
    errors = {}
    for field in sender._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField):
            continue
        value = getattr(instance, field.attname, None)
        if not isinstance(value, str):
            continue
        cleaned = strip_control(value)
        if cleaned is not value:
            setattr(instance, field.attname, cleaned)
        if field.max_length and len(cleaned) > field.max_length:
            errors[field.name] = [
                _("%(field)s不能超过 %(max)s 个字符。")
                % {"field": field.verbose_name, "max": field.max_length}
            ]
    if errors:
        raise ValidationError(errors)
