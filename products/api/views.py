from rest_framework import viewsets
from rest_framework.permissions import AllowAny

from products.api.serializers import ProductSerializer
from products.filtersets import ProductFilterSet
from products.selectors import product_for_user


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """产品超市：已上架的金融产品（公开）。"""

    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    permission_classes = [AllowAny]
    ordering_fields = ["amount_max", "rate_min", "term_max_months", "published_at", "name"]
    ordering = ["institution__name", "name"]

    def get_queryset(self):
        return product_for_user(self.request.user)
