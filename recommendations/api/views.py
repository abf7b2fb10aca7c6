"""API of recommended lists. Thin: selectors read (through the access model), services decide."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from lenders.oauth import ClientScope
from portal.api.permissions import IsBank, IsStaff
from portal.services import ServiceError

from .. import selectors, services
from .serializers import (
    FeedbackCreateSerializer,
    FeedbackSerializer,
    RecommendationCreateSerializer,
    RecommendationDetailSerializer,
    RecommendationListSerializer,
)


class RecommendationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """推荐清单：省级专班按条件编制清单（可同时发送给金融机构并限定反馈工作日）；银行看到发送给本机构的清单，
    企业资料按企业对本机构的授权显示（科创积分属财务数据），逐户反馈 contacted 已联系 / granted 已授信（amount，元）/
    declined 不予支持（reason_code：not_eligible 不符合准入、incomplete 资料不全、no_interest 企业无意向、
    quota_full 额度已满、other 其他）。"""

    client_scope = "recommendations"  # a bank's machine client: recommendations:read / :write

    def get_permissions(self):
        if self.action == "create":
            return [IsStaff(), ClientScope()]
        if self.action == "feedback":
            return [IsBank(), ClientScope()]
        return [(IsStaff | IsBank)(), ClientScope()]

    def get_queryset(self):
        return selectors.list_for_user(self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self):
        if self.action == "create":
            return RecommendationCreateSerializer
        if self.action == "feedback":
            return FeedbackCreateSerializer
        return RecommendationDetailSerializer if self.action == "retrieve" else RecommendationListSerializer

    @extend_schema(request=RecommendationCreateSerializer, responses={201: RecommendationDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = RecommendationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            rec_list = services.list_build(filters=data["filters"], by=request.user, title=data["title"])
            if data["institutions"]:
                services.list_send(
                    rec_list=rec_list,
                    institutions=data["institutions"],
                    due_working_days=data["due_working_days"],
                    by=request.user,
                )
        rec_list = self.get_queryset().get(pk=rec_list.pk)
        body = RecommendationDetailSerializer(rec_list, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=FeedbackCreateSerializer, responses={200: FeedbackSerializer})
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        rec_list = selectors.list_get(request.user, pk, "act")
        serializer = FeedbackCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = rec_list.entries.filter(enterprise_id=data["enterprise"]).first()
        if entry is None:
            raise ServiceError("该企业不在此清单中。", status=404, field="enterprise")
        fb = services.feedback_record(
            entry=entry,
            institution=request.user.institution_id,
            outcome=data["outcome"],
            amount=data["amount"],
            reason_code=data["reason_code"],
            note=data["note"],
            by=request.user,
        )
        fb = type(fb).objects.select_related("entry", "institution").get(pk=fb.pk)
        return Response(FeedbackSerializer(fb).data, status=status.HTTP_200_OK)
