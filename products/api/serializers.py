from rest_framework import serializers

from portal.vocabulary import GUARANTEE_TYPES
from products.models import INNOVATION_SCORE_RANGE_MESSAGE, Criteria, Product


class CriteriaSerializer(serializers.ModelSerializer):
    min_innovation_score = serializers.IntegerField(
        label="最低科创积分",
        help_text="企业当前科创积分须不低于此分（0–100）；null 为不限",
        min_value=0,
        max_value=100,
        allow_null=True,
        required=False,
        error_messages={
            "min_value": INNOVATION_SCORE_RANGE_MESSAGE,
            "max_value": INNOVATION_SCORE_RANGE_MESSAGE,
            "invalid": "最低科创积分应为 0–100 之间的整数",
        },
    )

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
            "min_innovation_score",
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
