"""Serializers of the matching API. Amounts are yuan decimal strings."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enterprises.api.serializers import FirstLoanFirmField, NeedSerializer
from enterprises.consent import ConsentPurpose
from enterprises.selectors import enterprise_profile_for_bank
from matching import explain
from matching.models import Loan, LoanRenewal, Match, MatchRun, Repayment


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
    enterprise_verified = serializers.BooleanField(source="enterprise.is_verified", read_only=True)
    first_loan_firm = FirstLoanFirmField()

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
            "enterprise_verified",
            "first_loan_firm",
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
    """One match with its reasons: each hard criterion (met or not, why) and the score's parts, and
    the firm as the viewer may see it. A bank reads both through the bank view of the firm (purpose
    ``lead``) and ``matching.explain``: generic reasons where the consent does not cover them."""

    reasons = serializers.SerializerMethodField()
    score_parts = serializers.SerializerMethodField()
    enterprise_profile = serializers.SerializerMethodField()

    class Meta(MatchSerializer.Meta):
        fields = [*MatchSerializer.Meta.fields, "reasons", "score_parts", "enterprise_profile"]
        read_only_fields = fields

    def _view(self, obj) -> dict:
        cache = self.context.setdefault("_bank_views", {})
        if obj.pk not in cache:

            view = enterprise_profile_for_bank(
                user=self.context["request"].user,
                enterprise=obj.enterprise,
                purpose=ConsentPurpose.LEAD,
                scoped=True,
            )
            cache[obj.pk] = (view, explain.match_explanation(obj, view["groups"]))
        return cache[obj.pk]

    @extend_schema_field(CriterionSerializer(many=True))
    def get_reasons(self, obj) -> list[dict]:
        return CriterionSerializer(self._view(obj)[1]["reasons"], many=True).data

    @extend_schema_field(ScorePartSerializer(many=True))
    def get_score_parts(self, obj) -> list[dict]:
        return ScorePartSerializer(self._view(obj)[1]["score_parts"], many=True).data

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_enterprise_profile(self, obj) -> dict:
        """名称、城市、行业始终可见；其余资料分组（groups）仅在企业授权范围内返回。"""
        return self._view(obj)[0]


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
    next_due = serializers.DateField(read_only=True, allow_null=True)
    renewal_need = serializers.SerializerMethodField()
    repayments = RepaymentSerializer(many=True, read_only=True)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_renewal_need(self, obj) -> int | None:
        """续贷需求编号：企业已为本笔贷款申请续贷时为该融资需求的编号，否则为 null。"""
        try:
            return obj.renewal.need_id
        except LoanRenewal.DoesNotExist:
            return None

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
            "next_due",
            "renewal_need",
            "repayments",
        ]
        read_only_fields = fields


class RenewalNeedSerializer(NeedSerializer):
    """The financing need a renewal request created: pre-filled from the loan, marked as renewal."""

    loan = serializers.IntegerField(source="renewal_of.loan_id", read_only=True)

    class Meta(NeedSerializer.Meta):
        fields = [*NeedSerializer.Meta.fields, "is_renewal", "loan"]
        read_only_fields = fields
