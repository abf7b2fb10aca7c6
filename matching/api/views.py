"""API views of the matching app: matches (scoped per role) and matching runs (staff)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from enterprises.consent import ConsentPurpose
from enterprises.selectors import first_loan_firm_for
from lenders.oauth import ClientScope
from matching.filtersets import LoanFilterSet, MatchFilterSet, MatchRunFilterSet
from matching.models import MatchRun
from matching.selectors import loan_for_user, match_for_user
from matching.services.dispatch import start_full_run
from matching.services.loans import loan_request_renewal
from portal.access import ACT
from portal.api.caching import CachedListMixin
from portal.api.permissions import IsStaff

from .serializers import (
    LoanSerializer,
    MatchDetailSerializer,
    MatchRunSerializer,
    MatchSerializer,
    RenewalNeedSerializer,
)


class MatchViewSet(CachedListMixin, viewsets.ReadOnlyModelViewSet):
    """匹配结果：企业看到自己的推荐与差一点匹配，客户经理看到本网点线索，银行管理者看到本机构线索，省级专班看到全部。"""

    cache_topic = "matching.match"
    client_scope = "leads"  # a bank's machine client: leads:read
    permission_classes = [IsAuthenticated, ClientScope]
    filterset_class = MatchFilterSet
    ordering_fields = ["score", "created_at", "response_deadline"]
    ordering = ["-score", "id"]

    def get_queryset(self):
        qs = match_for_user(self.request.user).annotate(
            is_first_loan_firm=first_loan_firm_for(self.request.user, purpose=ConsentPurpose.LEAD)
        )
        if self.action == "list":  # the list shows neither: no need to read and decode them per row
            qs = qs.defer("reasons", "score_parts")
        return qs

    def get_serializer_class(self):
        return MatchDetailSerializer if self.action == "retrieve" else MatchSerializer


class MatchRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """匹配任务（仅省级专班）：发起全量匹配、查看进度与历史。"""

    serializer_class = MatchRunSerializer
    filterset_class = MatchRunFilterSet
    permission_classes = [IsStaff]
    queryset = MatchRun.objects.all()

    @extend_schema(
        request=None, responses={202: OpenApiResponse(MatchRunSerializer, description="已排队的全量匹配任务")}
    )
    def create(self, request, *args, **kwargs):
        run = start_full_run(trigger=MatchRun.Trigger.MANUAL, user=request.user)
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)


class LoanViewSet(viewsets.ReadOnlyModelViewSet):
    """贷款：企业看到本企业的贷款，银行看到本机构产品的贷款，省级专班看到全部；含已还、未偿本金、
    已付利息、还款记录与当前状态（normal 正常 / overdue 逾期 / repaid 已结清 / defaulted 已违约）。"""

    serializer_class = LoanSerializer
    filterset_class = LoanFilterSet
    ordering_fields = ["start_date", "maturity_date", "principal"]
    ordering = ["-start_date", "-id"]

    def get_queryset(self):
        return loan_for_user(self.request.user).select_related("renewal").prefetch_related("repayments")

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(
                RenewalNeedSerializer, description="续贷融资需求（由贷款预填，优先推送原贷款机构）"
            ),
            404: OpenApiResponse(description="不是本企业的贷款"),
            409: OpenApiResponse(
                description="无还本续贷预审未通过（reasons 列出未满足的条件）或已申请过续贷"
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="renewal")
    def renewal(self, request, pk=None):
        """企业为本企业的贷款申请续贷：生成标记为续贷、关联原贷款的融资需求，优先推送给原贷款机构。"""
        loan = get_object_or_404(loan_for_user(request.user, ACT), pk=pk)
        need = loan_request_renewal(user=request.user, loan=loan)
        return Response(RenewalNeedSerializer(need).data, status=status.HTTP_201_CREATED)
