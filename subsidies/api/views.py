"""API of the subsidies app: the public quote, claims (scoped, with review actions), the
ledger balances and the leverage figures. Thin: selectors read, services write."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from enterprises.selectors import need_for_user
from portal.api.permissions import IsFirm, IsSubsidyDesk
from portal.models import Role
from portal.reauth import reauth_check_api
from subsidies import services
from subsidies.filtersets import ClaimFilterSet
from subsidies.forms import QuoteQueryForm
from subsidies.rules import lpr_in_force, no_lpr_reason
from subsidies.selectors import (
    claim_for_user,
    ledger_balances,
    leverage_for_year,
    lpr_list,
    need_offers,
    quote_for_product,
)

from .serializers import (
    ClaimSerializer,
    ConfirmSerializer,
    LedgerSerializer,
    LeverageSerializer,
    LprSerializer,
    OfferSerializer,
    QuoteSerializer,
    RejectSerializer,
)


def _strings(value):
    """Decimals → strings, recursively (amounts are yuan decimal strings in the API)."""
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _year(request) -> int:
    raw = request.query_params.get("year") or str(timezone.localdate().year)
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise drf_serializers.ValidationError({"year": ["年度须为四位数字，如 2026"]})
    return int(raw)


class QuoteView(APIView):
    """贴息后成本测算（公开）：按起息日有效的贷款贴息政策计算。"""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("product", OpenApiTypes.INT, required=True, description="产品 ID"),
            OpenApiParameter("amount", OpenApiTypes.STR, required=True, description="贷款金额（元）"),
            OpenApiParameter("term_months", OpenApiTypes.INT, required=True, description="期限（月）"),
            OpenApiParameter("annual_rate", OpenApiTypes.STR, description="年利率（%），缺省取产品最低利率"),
            OpenApiParameter("start", OpenApiTypes.DATE, description="起息日 YYYY-MM-DD，缺省为今天"),
        ],
        responses=QuoteSerializer,
    )
    def get(self, request):
        form = QuoteQueryForm(request.query_params)
        if not form.is_valid():
            return Response(
                {k: [str(m) for m in v] for k, v in form.errors.items()}, status=status.HTTP_400_BAD_REQUEST
            )
        d = form.cleaned_data
        quote = quote_for_product(
            product=d["product"],
            amount=d["amount"],
            term_months=d["term_months"],
            annual_rate=d.get("annual_rate"),
            start=d.get("start") or timezone.localdate(),
            enterprise=request.user.enterprise_id if getattr(request.user, "role", "") == Role.FIRM else None,
        )
        return Response(quote.as_api())


class NeedOffersView(APIView):
    """企业某项融资需求的全部有效授信方案并列比较（仅本企业的需求，其他企业的需求为 404）。
    金额单位为元（十进制字符串），利率单位为 %；利息、贴息、贴息后利息和实际年化利率由贴息测算
    按各方案的额度、利率、期限自今日起计算，已扣除企业当年已享受的贴息。"""

    permission_classes = [IsFirm]

    @extend_schema(responses=OfferSerializer(many=True), summary="需求的授信方案比较")
    def get(self, request, pk: int):
        from django.shortcuts import get_object_or_404


        need = get_object_or_404(need_for_user(request.user), pk=pk)
        return Response([offer.as_api() for offer in need_offers(user=request.user, need=need)])


class LprView(APIView):
    """贷款市场报价利率（公开）：带 ``on=YYYY-MM-DD`` 返回当日适用的 LPR；不带则返回全部报价（按生效日期）。
    2019-08-20 之前没有 LPR：返回 null 并说明原因。"""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("on", OpenApiTypes.DATE, description="日期 YYYY-MM-DD；缺省返回全部报价")
        ],
        responses=LprSerializer(many=True),
    )
    def get(self, request):
        raw = request.query_params.get("on")
        if raw is None:
            rows = lpr_list()
            return Response(
                [
                    {
                        "effective_from": r.effective_from,
                        "one_year": str(r.one_year),
                        "five_year": str(r.five_year),
                    }
                    for r in rows
                ]
            )
        try:
            on = date.fromisoformat(raw.strip())
        except ValueError:
            return Response(
                {"on": ["日期格式应为 YYYY-MM-DD，如 2026-01-20"]}, status=status.HTTP_400_BAD_REQUEST
            )
        row = lpr_in_force(on)
        if row is None:
            return Response(
                {
                    "on": on,
                    "one_year": None,
                    "five_year": None,
                    "effective_from": None,
                    "detail": no_lpr_reason(on),
                }
            )
        return Response(
            {
                "on": on,
                "one_year": str(row.one_year),
                "five_year": str(row.five_year),
                "effective_from": row.effective_from,
            }
        )


class ClaimViewSet(viewsets.ReadOnlyModelViewSet):
    """补贴申领：专班看全部，企业看本企业，银行看本机构；审核动作见各子路径。"""

    serializer_class = ClaimSerializer
    filterset_class = ClaimFilterSet
    permission_classes = [IsAuthenticated]
    ordering_fields = ["created_at", "amount", "year"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return claim_for_user(self.request.user)

    def _done(self, claim):
        return Response(ClaimSerializer(claim, context={"request": self.request}).data)

    @extend_schema(request=None, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsSubsidyDesk])
    def review(self, request, pk=None):
        """初审（省级专班）：待初审 → 已初审，交财政专班批准。"""
        return self._done(services.claim_review(user=request.user, claim=self.get_object()))

    @extend_schema(request=None, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsSubsidyDesk])
    def approve(self, request, pk=None):
        """批准（财政专班）：已初审 → 已批准；初审人、政策创建/修改人、贷款事项登记人不得批准。"""
        claim = self.get_object()
        reauth_check_api(request)
        return self._done(services.claim_approve(user=request.user, claim=claim))

    @extend_schema(request=RejectSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsSubsidyDesk])
    def reject(self, request, pk=None):
        claim = self.get_object()
        services.claim_reject_check(user=request.user, claim=claim)  # 403 before the reason is read
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(
            services.claim_reject(user=request.user, claim=claim, reason=data.validated_data["reason"])
        )

    @extend_schema(request=None, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsSubsidyDesk])
    def pay(self, request, pk=None):
        """标记拨付（财政专班）：须由批准人以外的另一名财政专班人员办理。"""
        return self._done(services.claim_pay(user=request.user, claim=self.get_object()))

    @extend_schema(request=ConfirmSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsFirm])
    def confirm(self, request, pk=None):
        claim = self.get_object()
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.claim_confirm(user=request.user, claim=claim, **data.validated_data))


YEAR_PARAM = OpenApiParameter("year", OpenApiTypes.INT, description="年度，缺省为今年")


class LedgerView(APIView):
    """财政资金台账余额：按政策和年度，全部由台账分录求和（专班）。"""

    permission_classes = [IsSubsidyDesk]

    @extend_schema(parameters=[YEAR_PARAM], responses=LedgerSerializer)
    def get(self, request):
        data = ledger_balances(year=_year(request))
        rows = [
            {
                **{k: v for k, v in row.items() if k != "policy"},
                "name": row["policy"].name,
                "kind": row["policy"].kind,
            }
            for row in data["rows"]
        ]
        return Response(_strings({"year": data["year"], "rows": rows, "total": data["total"]}))


class LeverageView(APIView):
    """财政资金杠杆率：专班看全省，银行看本机构。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[YEAR_PARAM], responses=LeverageSerializer)
    def get(self, request):
        user = request.user
        if user.role == Role.STAFF:
            data = leverage_for_year(_year(request))
        elif user.role in (Role.OFFICER, Role.MANAGER):
            data = leverage_for_year(_year(request), institution=user.institution_id)
        else:
            return Response({"detail": "当前账号的角色无权查看。"}, status=status.HTTP_403_FORBIDDEN)
        data.pop("institution_id", None)
        return Response(_strings(data))
