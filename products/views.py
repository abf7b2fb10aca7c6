"""The product supermarket (产品超市): public list and product page."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from lenders.models import Institution

from .filtersets import ProductFilterSet
from .selectors import product_for_user


def product_list(request):
    filterset = ProductFilterSet(request.GET or None, queryset=product_for_user(request.user))
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else product_for_user(request.user)
    page = Paginator(qs.order_by("institution__name", "name"), 20).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filterset": filterset,
        "institutions": Institution.objects.filter(is_lender=True),
    }
    return render(request, "products/product_list.html", context)


def product_detail(request, pk: int):
    product = get_object_or_404(product_for_user(request.user), pk=pk)
    return render(request, "products/product_detail.html", {"product": product})
