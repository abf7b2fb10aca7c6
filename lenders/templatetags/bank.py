"""Formatting for the bank workspace: the countdown to a lead's response deadline."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import FinancingNeed
from lenders.choices import CONTACT_CHANNELS, REJECT_REASONS
from matching.models import Application, Match
from portal import money
from products.models import Product

register = template.Library()


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d天%(h)d小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d小时%(m)d分") % {"h": hours, "m": minutes}
    return _("%(m)d分钟") % {"m": max(minutes, 1)}


@register.simple_tag
def countdown(lead, now=None):
    """'剩余 1天3小时', '已超时 5小时2分' or '已响应' for a lead, computed on the server."""
    if lead.first_response_at is not None:
        return _("已响应")
    if lead.response_deadline is None:
        return "—"
    now = now or timezone.now()
    delta = int((lead.response_deadline - now).total_seconds())
    if delta >= 0:
        return _("剩余 %(t)s") % {"t": _span(delta)}
    return _("已超时 %(t)s") % {"t": _span(-delta)}


@register.filter
def pct(value):
    """A 0–1 share (portal.kpi) → '33.3%'."""
    return money.format_percent(value)


@register.filter
def hours(value):
    return money.format_hours(value)


@register.filter
def state(value):
    """A status code of a lead, an application or a product → its Chinese label."""

    for choices in (Application.Status, Match.Status, Product.Status):
        if value in choices.values:
            return choices(value).label
    return value or "—"


@register.filter
def channel(code):
    """Contact channel code → '电话' / '上门拜访' / '线上沟通'."""

    return CONTACT_CHANNELS.get(code, code)


@register.filter
def reject_reason(code):

    return REJECT_REASONS.get(code, code)


@register.filter
def purpose(code):
    """An application's purpose code → its label (the financing need's choices)."""

    return FinancingNeed.Purpose(code).label if code in FinancingNeed.Purpose.values else (code or "—")
