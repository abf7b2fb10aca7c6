from rest_framework import serializers

from portal.vocabulary import GUARANTEE_TYPES
from products.models import Criteria, Product


class CriteriaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criteria
        fields = [
            "cities",
            "industries",
            "stages",
            "required_qualifications",
            "min_revenue",
            "min_invention_patents",
            "min_years",
            "export_required",
            "max_amount_revenue_ratio",
        ]


class ProductSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    product_type_display = serializers.CharField(source="get_product_type_display", read_only=True)
    criteria = CriteriaSerializer(read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "institution",
            "institution_name",
            "product_type",
            "product_type_display",
            "amount_min",
            "amount_max",
            "term_min_months",
            "term_max_months",
            "rate_min",
            "rate_max",
            "guarantee_types",
            "fully_online",
            "is_exclusive",
            "status",
            "description",
            "published_at",
            "criteria",
        ]
        read_only_fields = fields


class ProductWriteSerializer(serializers.ModelSerializer):
    """What a manager sends to create or change a product (status changes through publish/retire).
    Cross-field rules (min ≤ max, at least one guarantee type) are the model's and the service's."""

    guarantee_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(GUARANTEE_TYPES.items())), allow_empty=False
    )
    criteria = CriteriaSerializer(required=False)

    class Meta:
        model = Product
        fields = [
            "name",
            "product_type",
            "amount_min",
            "amount_max",
            "term_min_months",
            "term_max_months",
            "rate_min",
            "rate_max",
            "guarantee_types",
            "fully_online",
            "is_exclusive",
            "description",
            "criteria",
        ]
        # Uniqueness per institution is checked by the service (the institution is the caller's).
        validators = []
