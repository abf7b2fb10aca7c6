from django import template

from portal import kpi, money

register = template.Library()


@register.filter
def wan(value):
    """Yuan → '1,234.50万元'."""
    return money.format_wan(value)


@register.filter
def wan_number(value):
    """Yuan → '1234.50' (the value of a form input in 万元)."""
    return money.wan_input(value)


@register.filter
def wan_plain(value):
    """Yuan → '1,234.50' (a cell under a header that says 万元)."""
    return money.format_wan_number(value)


@register.filter
def total(value):
    """Yuan → 亿元 from 1亿 up, else 万元."""
    return money.format_total(value)


@register.filter
def yuan(value):
    """Yuan → '1,110,000.00元' (only where the unit is yuan)."""
    return money.format_yuan(value)


@register.filter
def yuan_plain(value):
    """Yuan → '1,110,000.00' (a cell or field whose label says 元)."""
    return "" if value in (None, "") else money.grouped(money.to_decimal(value))


@register.filter
def ymd(value):
    """A date / datetime → 'YYYY-MM-DD' (Beijing time)."""
    return money.format_date(value)


@register.filter
def yi(value):
    """Yuan → '1.01亿元'."""
    return money.format_yi(value)


@register.filter
def percent(value):
    """A 0–1 share → '33.3%'."""
    return money.format_percent(value)


@register.filter
def times(value):
    """A ratio → '12.02×'."""
    return money.format_times(value)


@register.filter
def hours_text(value):
    """Hours → '4.0小时'."""
    return money.format_hours(value)


@register.filter
def kpi_definition(code):
    """A KPI code → its one-sentence definition (portal.kpi)."""

    return kpi.definition(code) if code in kpi.KPIS else ""


@register.filter
def kpi_label(code):

    return kpi.label(code) if code in kpi.KPIS else code


@register.filter
def rate(value):
    """Percent Decimal → '3.10%'."""
    return money.format_rate(value)


@register.filter
def bs(field):
    """Render a form field's widget with Bootstrap's classes (and is-invalid when it has errors)."""
    widget = field.field.widget
    input_type = getattr(widget, "input_type", "")
    if input_type in ("checkbox", "radio"):
        css = "form-check-input"
    elif widget.__class__.__name__ in ("Select", "SelectMultiple", "NullBooleanSelect"):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})
