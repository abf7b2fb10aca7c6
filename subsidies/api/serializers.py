from rest_framework import serializers

from subsidies.models import Claim, Policy


class PolicyBriefSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(
        read_only=True, help_text="interest 贷款贴息 / risk 风险补偿 / reward 专属产品奖励"
    )

    class Meta:
        model = Policy
        fields = ["id", "series", "version", "name", "kind"]


class ClaimSerializer(serializers.ModelSerializer):
    policy = PolicyBriefSerializer(read_only=True)
    kind = serializers.CharField(
        read_only=True, help_text="interest 贷款贴息 / risk 风险补偿 / reward 专属产品奖励"
    )
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, default=None)
    institution_name = serializers.CharField(source="institution.name", read_only=True, default=None)
    explanation = serializers.ListField(child=serializers.CharField(), read_only=True)
    reviewed_by_name = serializers.SerializerMethodField(help_text="初审人（省级专班；仅专班可见）")
    approved_by_name = serializers.SerializerMethodField(help_text="审批人（财政专班；仅专班可见）")
    paid_by_name = serializers.SerializerMethodField(help_text="拨付人（财政专班；仅专班可见）")

    def _desk_name(self, user) -> str | None:
        request = self.context.get("request")
        viewer = getattr(request, "user", None)
        if user is None or getattr(viewer, "role", "") not in ("staff", "finance"):
            return None
        return user.display_name

    def get_reviewed_by_name(self, obj) -> str | None:
        return self._desk_name(obj.reviewed_by)

    def get_approved_by_name(self, obj) -> str | None:
        return self._desk_name(obj.approved_by)

    def get_paid_by_name(self, obj) -> str | None:
        return self._desk_name(obj.paid_by)

    class Meta:
        model = Claim
        fields = [
            "id",
            "kind",
            "kind_display",
            "status",
            "status_display",
            "policy",
            "year",
            "period_start",
            "period_end",
            "amount",
            "loan",
            "enterprise",
            "enterprise_name",
            "institution",
            "institution_name",
            "explanation",
            "payee_name",
            "payee_bank",
            "payee_account",
            "reject_reason",
            "reward_units",
            "created_at",
            "reviewed_at",
            "reviewed_by_name",
            "approved_at",
            "approved_by_name",
            "paid_at",
            "paid_by_name",
        ]
        read_only_fields = fields


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ConfirmSerializer(serializers.Serializer):
    payee_name = serializers.CharField(max_length=120)
    payee_bank = serializers.CharField(max_length=120)
    payee_account = serializers.CharField(max_length=40)


class QuoteSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    interest = serializers.CharField()
    subsidy = serializers.CharField()
    interest_after_subsidy = serializers.CharField()
    effective_annual_rate = serializers.CharField()
    policy = PolicyBriefSerializer(allow_null=True)
    basis = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class LprSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="查询日期（带 on 参数时）")
    effective_from = serializers.DateField(allow_null=True, help_text="该报价的生效日期")
    one_year = serializers.CharField(allow_null=True, help_text="1 年期 LPR（%），无 LPR 时为 null")
    five_year = serializers.CharField(allow_null=True, help_text="5 年期以上 LPR（%），无 LPR 时为 null")
    detail = serializers.CharField(required=False, help_text="无 LPR 时的说明")


class BalanceSerializer(serializers.Serializer):
    series = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    year = serializers.IntegerField()
    budget = serializers.CharField()
    committed = serializers.CharField()
    paid = serializers.CharField()
    committed_unpaid = serializers.CharField()
    recovered = serializers.CharField()
    remaining = serializers.CharField()


class LeverageFiguresSerializer(serializers.Serializer):
    paid = serializers.CharField()
    recovered = serializers.CharField()
    fiscal = serializers.CharField()
    loans = serializers.IntegerField(help_text="政策支持产品下、起息日在统计期内的贷款笔数")
    finance = serializers.CharField(help_text="撬动融资：政策支持产品下统计期内的放款本金（元）")
    ratio = serializers.CharField(allow_null=True, help_text="撬动倍数 = finance ÷ fiscal；无净拨付时为 null")


class LeveragePolicySerializer(LeverageFiguresSerializer):
    series = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class LeverageSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    definition = serializers.CharField()
    finance_definition = serializers.CharField()
    fiscal_definition = serializers.CharField()
    policies = LeveragePolicySerializer(many=True)
    overall = LeverageFiguresSerializer()


class LedgerSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    rows = BalanceSerializer(many=True)
    total = serializers.DictField(child=serializers.CharField())


class OfferSerializer(serializers.Serializer):
    """One open offer for a need at its cost after subsidy. Money in yuan (元) as decimal strings,
    rates in percent; the costs are the subsidies quote for the offer's own terms from today."""

    application = serializers.IntegerField(help_text="申请（授信）ID")
    institution_name = serializers.CharField(help_text="授信机构")
    product_name = serializers.CharField(help_text="产品")
    credit_line = serializers.CharField(help_text="授信额度（元）")
    annual_rate = serializers.CharField(help_text="授信年利率（%）")
    term_months = serializers.IntegerField(help_text="授信期限（月）")
    interest = serializers.CharField(allow_null=True, help_text="测算利息（元）")
    subsidy = serializers.CharField(allow_null=True, help_text="测算贴息（元），已扣除企业当年已享贴息")
    interest_after_subsidy = serializers.CharField(allow_null=True, help_text="贴息后利息（元）")
    effective_annual_rate = serializers.CharField(allow_null=True, help_text="贴息后实际年化利率（%）")
    valid_until = serializers.DateField(allow_null=True, help_text="授信有效期至 YYYY-MM-DD")
