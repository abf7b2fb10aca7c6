"""API views of the matching app: matches (scoped per role) and matching runs (staff)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from lenders.oauth import ClientScope
from matching.filtersets import LoanFilterSet, MatchFilterSet, MatchRunFilterSet
from matching.models import MatchRun
from matching.selectors import loan_for_user, match_for_user
from matching.services.runs import start_full_run
from portal.api.caching import CachedListMixin
from portal.api.permissions import IsStaff

from .serializers import LoanSerializer, MatchDetailSerializer, MatchRunSerializer, MatchSerializer


class MatchViewSet(CachedListMixin, viewsets.ReadOnlyModelViewSet):
    """匹配结果：企业看到自己的推荐与差一点匹配，客户经理看到本网点线索，银行管理者看到本机构线索，省级专班看到全部。"""

    cache_topic = "matching.match"
    client_scope = "leads"  # a bank's machine client: leads:read
    permission_classes = [IsAuthenticated, ClientScope]
    filterset_class = MatchFilterSet
    ordering_fields = ["score", "created_at", "response_deadline"]
    ordering = ["-score", "id"]

    def get_queryset(self):
        qs = match_for_user(self.request.user)
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
        return loan_for_user(self.request.user).prefetch_related("repayments")
