"""Serializers of the matching API. Amounts are yuan decimal strings."""

from rest_framework import serializers

from matching.models import Loan, Match, MatchRun, Repayment


class MatchSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    institution_name = serializers.CharField(source="product.institution.name", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    city = serializers.CharField(source="enterprise.city_id", read_only=True)
    city_name = serializers.CharField(source="enterprise.city.name", read_only=True)
    industry = serializers.CharField(source="enterprise.industry", read_only=True)
    need_amount = serializers.DecimalField(
        source="need.amount", max_digits=16, decimal_places=2, read_only=True
    )
    need_term_months = serializers.IntegerField(source="need.term_months", read_only=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True, default=None, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Match
        fields = [
            "id",
            "need",
            "need_amount",
            "need_term_months",
            "product",
            "product_name",
            "institution",
            "institution_name",
            "enterprise",
            "enterprise_name",
            "city",
            "city_name",
            "industry",
            "score",
            "is_near_miss",
            "is_lead",
            "status",
            "missing",
            "branch",
            "branch_name",
            "assigned_officer",
            "routed_at",
            "response_deadline",
            "first_response_at",
            "is_overdue",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    met = serializers.BooleanField()
    reason = serializers.CharField()


class ScorePartSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    points = serializers.IntegerField()
    max_points = serializers.IntegerField()
    reason = serializers.CharField()


class MatchDetailSerializer(MatchSerializer):
    """One match with its reasons: each hard criterion (met or not, why) and the score's parts."""

    reasons = CriterionSerializer(many=True, read_only=True)
    score_parts = ScorePartSerializer(many=True, read_only=True)

    class Meta(MatchSerializer.Meta):
        fields = [*MatchSerializer.Meta.fields, "reasons", "score_parts"]
        read_only_fields = fields


class MatchRunSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = MatchRun
        fields = [
            "id",
            "trigger",
            "status",
            "need",
            "product",
            "total_chunks",
            "chunks_done",
            "progress_percent",
            "pairs_total",
            "pairs_evaluated",
            "matches_count",
            "near_misses_count",
            "leads_count",
            "chunk_timings",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RepaymentSerializer(serializers.ModelSerializer):
    date = serializers.DateField(source="paid_on", read_only=True)

    class Meta:
        model = Repayment
        fields = ["date", "principal", "interest"]
        read_only_fields = fields


class LoanSerializer(serializers.ModelSerializer):
    """A loan with what has been repaid and what is outstanding; ``status`` is its phase today:
    normal, overdue (past maturity with principal outstanding), repaid or defaulted."""

    product = serializers.IntegerField(source="application.product_id", read_only=True)
    repaid_principal = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    outstanding_principal = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    interest_paid = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    status = serializers.ChoiceField(source="phase", choices=Loan.Phase.choices, read_only=True)
    repayments = RepaymentSerializer(many=True, read_only=True)

    class Meta:
        model = Loan
        fields = [
            "id",
            "application",
            "product",
            "principal",
            "annual_rate",
            "start_date",
            "maturity_date",
            "repaid_principal",
            "outstanding_principal",
            "interest_paid",
            "status",
            "repayments",
        ]
        read_only_fields = fields
