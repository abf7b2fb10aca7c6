"""``{% product_quote product %}``: the cost-after-subsidy estimate on a product page."""

from decimal import Decimal

from django import template

from portal.services import ServiceError
from subsidies.selectors import quote_for_product

register = template.Library()


@register.inclusion_tag("subsidies/_product_quote.html", takes_context=True)
def product_quote(context, product):
    """For a logged-in firm user: the estimate for its latest open need's amount and term (or the
    product's minimum amount and term when it has none), at the product's lowest rate, from
    today. For anyone else: nothing."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_firm or not user.enterprise_id:
        return {"quote": None}
    need = (
        user.enterprise.needs.filter(status="open")
        .order_by("-created_at", "-id")
        .only("amount", "term_months")
        .first()
    )
    amount = need.amount if need else product.amount_min
    term = need.term_months if need else product.term_min_months
    if not amount or amount <= 0 or product.rate_min is None:
        return {"quote": None}
    try:
        q = quote_for_product(
            product=product, amount=Decimal(amount), term_months=int(term), enterprise=user.enterprise_id
        )
    except ServiceError:
        return {"quote": None}
    return {"quote": q, "from_need": need is not None, "product": product}
