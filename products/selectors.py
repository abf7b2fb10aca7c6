"""Reads of the product catalogue, scoped to what each user may see."""

from django.db.models import QuerySet

from .filtersets import ProductFilterSet
from .models import Product


def product_for_user(user) -> QuerySet[Product]:
    """Published products for everyone; a bank manager or officer also sees its own drafts and retired ones."""
    qs = Product.objects.select_related("institution", "criteria")
    if user is not None and user.is_authenticated and getattr(user, "is_bank", False):
        from django.db.models import Q

        return qs.filter(Q(status=Product.Status.PUBLISHED) | Q(institution_id=user.institution_id))
    return qs.filter(status=Product.Status.PUBLISHED)


def product_list(*, user, filters=None) -> QuerySet[Product]:
    qs = product_for_user(user)
    if filters is not None:
        qs = ProductFilterSet(filters, queryset=qs).qs
    return qs
