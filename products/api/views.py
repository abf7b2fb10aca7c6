from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from lenders.oauth import ClientScope
from portal.api.caching import CachedListMixin
from portal.api.permissions import IsManager
from products import services
from products.api.serializers import ProductSerializer, ProductWriteSerializer
from products.filtersets import ProductFilterSet
from products.models import Product
from products.selectors import product_for_user

WRITE_ACTIONS = {"create", "update", "partial_update", "publish", "retire"}


class ProductViewSet(
    CachedListMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """产品超市：已上架的金融产品（公开）；银行管理者可新建、修改、上架、下架本机构产品。"""

    cache_topic = "products.product"
    client_scope = "products"  # a bank's machine client: products:write to create, change, publish, retire
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    ordering_fields = ["amount_max", "rate_min", "term_max_months", "published_at", "name"]
    ordering = ["institution__name", "name"]

    def get_permissions(self):
        if self.action in WRITE_ACTIONS:
            return [IsManager(), ClientScope()]
        return [AllowAny()]

    def get_queryset(self):
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        if self.action in WRITE_ACTIONS:
            # Another institution's product is not found (404), whatever its status.
            return Product.objects.select_related("institution", "criteria").filter(
                institution_id=user.institution_id
            )
        return product_for_user(user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return ProductWriteSerializer
        return ProductSerializer

    @extend_schema(request=ProductWriteSerializer, responses={201: ProductSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ProductWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        criteria = data.pop("criteria", None)
        product = services.product_create(user=request.user, criteria=criteria, **data)
        return Response(ProductSerializer(self._fresh(product)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProductWriteSerializer, responses=ProductSerializer)
    def update(self, request, *args, **kwargs):
        product = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = ProductWriteSerializer(product, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        criteria = data.pop("criteria", None)
        product = services.product_update(user=request.user, product=product, criteria=criteria, **data)
        return Response(ProductSerializer(self._fresh(product)).data)

    @extend_schema(request=None, responses=ProductSerializer, summary="上架产品（触发匹配）")
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        product = services.product_publish(user=request.user, product=self.get_object())
        return Response(ProductSerializer(self._fresh(product)).data)

    @extend_schema(request=None, responses=ProductSerializer, summary="下架产品")
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        product = services.product_retire(user=request.user, product=self.get_object())
        return Response(ProductSerializer(self._fresh(product)).data)

    @staticmethod
    def _fresh(product: Product) -> Product:
        return Product.objects.select_related("institution", "criteria").get(pk=product.pk)
