from django import template

from portal import money

register = template.Library()


@register.filter
def wan(value):
    """Yuan → '1,234.50万元'."""
    return money.format_wan(value)


@register.filter
def wan_number(value):
    """Yuan → '1234.50' (for form inputs in 万元)."""
    return "" if value in (None, "") else f"{money.yuan_to_wan(value):.2f}"


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
    from portal import kpi

    return kpi.definition(code) if code in kpi.KPIS else ""


@register.filter
def kpi_label(code):
    from portal import kpi

    return kpi.label(code) if code in kpi.KPIS else code


@register.filter
def rate(value):
    """Percent Decimal → '3.10%'."""
    return "—" if value in (None, "") else f"{value:.2f}%"


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
