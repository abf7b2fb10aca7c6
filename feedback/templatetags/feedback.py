"""Template tags that other apps' pages use to show ratings: ``{% load feedback %}``.

``{% institution_ratings products as ratings %}`` reads the average and count of every institution
on a page in one query; ``{{ ratings|rating_for:product.institution_id }}`` picks one and
``{% rating_badge summary %}`` shows it; ``{% rate_button application %}`` is the firm's 评价 button
on an ended case."""

from django import template

from ..models import Rating
from ..selectors import RATEABLE_APPLICATION_STATUSES
from ..selectors import institution_ratings as _ratings

register = template.Library()


@register.simple_tag
def institution_ratings(objects):
    ids = set()
    for obj in objects or ():
        ids.add(getattr(obj, "institution_id", None) if not isinstance(obj, int) else obj)
    return _ratings(ids)


@register.filter
def rating_for(ratings, institution_id):
    return (ratings or {}).get(institution_id)


@register.filter
def institution_rating(obj):
    """A product's (or anything with ``institution_id``'s) institution: its average and count."""
    institution_id = getattr(obj, "institution_id", None)
    return _ratings([institution_id]).get(institution_id)


@register.filter
def stars(value):
    """3 → '★★★☆☆'."""
    n = max(0, min(5, int(value or 0)))
    return "★" * n + "☆" * (5 - n)


@register.inclusion_tag("feedback/_rating_badge.html")
def rating_badge(summary):
    return {"summary": summary}


@register.inclusion_tag("feedback/_rate_button.html", takes_context=True)
def rate_button(context, application):
    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(
        user
        and getattr(user, "role", "") == "firm"
        and application.status in RATEABLE_APPLICATION_STATUSES
        and application.enterprise_id == user.enterprise_id
    )
    rated = show and Rating.objects.filter(application_id=application.pk).exists()
    return {"show": show, "rated": rated, "application": application}
