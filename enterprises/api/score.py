"""The 科创积分 API: the firm's own score, and a firm's score for the desks. Banks read a firm's score
only through the bank view (lead, application and pool payloads, scope ``financials``)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.permissions import IsFirm, IsRegionDesk, IsStaff

from ..score import CLASSES
from ..selectors import enterprise_for_user, score_current, score_payload


class InnovationScorePartSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    # "class" is a Python keyword: the field is declared below
    value = serializers.CharField(
        allow_null=True, help_text="指标值：金额为元，占比与增长率为小数，数量为整数"
    )
    points = serializers.DecimalField(max_digits=5, decimal_places=2)
    max_points = serializers.DecimalField(max_digits=5, decimal_places=2)
    reason = serializers.CharField()


InnovationScorePartSerializer._declared_fields["class"] = serializers.ChoiceField(
    choices=list(CLASSES.items()), help_text="指标类别：tech 技术创新、growth 成长经营、aux 辅助"
)


class InnovationScoreAdviceSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    text = serializers.CharField()
    points_gain = serializers.DecimalField(max_digits=5, decimal_places=2)


class ScoreSerializer(serializers.Serializer):
    total = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    percentile = serializers.IntegerField(allow_null=True, help_text="同组百分位 0–100")
    stage = serializers.CharField(
        help_text="参评组别：early 种子期/初创期、growth 成长期、mature 成熟期",
    )
    as_of = serializers.DateField(allow_null=True)
    parts = InnovationScorePartSerializer(many=True)
    advice = InnovationScoreAdviceSerializer(many=True)


class ScoreMeView(APIView):
    """本企业科创积分：总分、同组百分位、参评组别、计算日期、16 项分项（分值合计等于总分）与提分建议。
    尚未计算（未认证或未填报年度经营数据）时 total、percentile、as_of 为 null。"""

    permission_classes = [IsFirm]

    @extend_schema(responses=ScoreSerializer)
    def get(self, request):
        enterprise = get_object_or_404(enterprise_for_user(request.user), pk=request.user.enterprise_id)
        row = score_current(user=request.user, enterprise=enterprise)
        return Response(score_payload(row, enterprise=enterprise))


class EnterpriseScoreView(APIView):
    """某企业的科创积分（省级专班：全部企业；区域专班：本区域企业，其他区域为 404）。"""

    permission_classes = [IsStaff | IsRegionDesk]

    @extend_schema(responses=ScoreSerializer)
    def get(self, request, pk: int):
        enterprise = get_object_or_404(enterprise_for_user(request.user), pk=pk)
        row = score_current(user=request.user, enterprise=enterprise)
        return Response(score_payload(row, enterprise=enterprise))
