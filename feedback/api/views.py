"""API of ratings and complaints. Thin: selectors read (role-scoped), services write."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from lenders.models import Institution
from matching.selectors import application_for_user, match_for_user
from portal.api.permissions import IsFirm
from portal.services import ServiceError

from .. import services
from ..filtersets import ComplaintFilterSet, RatingFilterSet
from ..models import Complaint
from ..selectors import complaint_for_user, rating_for_user
from .serializers import (
    ComplaintCreateSerializer,
    ComplaintDetailSerializer,
    ComplaintSerializer,
    ComplaintTransitionSerializer,
    RatingCreateSerializer,
    RatingSerializer,
)

STATUS_LABELS = dict(Complaint.Status.choices)


def _hidden(message: str):
    return ServiceError(message, status=404)


class RatingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """服务评价：企业对办结案件（已结清、未通过、已撤回的申请，已婉拒的线索）评价一次；企业看到自己的评价，
    银行看到对本机构的评价（匿名评价不含企业名称与案件），省级专班看到全部。"""

    filterset_class = RatingFilterSet

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsFirm()]

    def get_queryset(self):
        return rating_for_user(self.request.user)

    def get_serializer_class(self):
        return RatingCreateSerializer if self.action == "create" else RatingSerializer

    @extend_schema(request=RatingCreateSerializer, responses={201: RatingSerializer})
    def create(self, request, *args, **kwargs):
        serializer = RatingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        application = match = None
        if data.get("application") is not None:
            application = application_for_user(request.user).filter(pk=data["application"]).first()
            if application is None:
                raise _hidden("未找到该申请。")
        else:
            match = match_for_user(request.user).filter(pk=data["match"], is_lead=True).first()
            if match is None:
                raise _hidden("未找到该线索。")
        rating = services.rating_create(
            user=request.user,
            application=application,
            match=match,
            stars=data["stars"],
            comment=data["comment"],
            anonymous=data["anonymous"],
        )
        rating = self.get_queryset().get(pk=rating.pk)
        return Response(
            RatingSerializer(rating, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ComplaintViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """投诉与建议：企业提交并查看本企业的投诉，确认办结或不满意重新办理（一次）；涉及的机构查看并说明；
    省级专班受理、答复（5 个工作日内）。状态：intake 已提交 → handling 办理中 → replied 已答复 → closed 已办结。"""

    filterset_class = ComplaintFilterSet
    ordering_fields = ["created_at", "response_due_at"]

    def get_permissions(self):
        if self.request.method in SAFE_METHODS or self.action == "transition":
            return [IsAuthenticated()]
        return [IsFirm()]

    def get_queryset(self):
        return complaint_for_user(self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return ComplaintCreateSerializer
        if self.action == "transition":
            return ComplaintTransitionSerializer
        return ComplaintDetailSerializer if self.action == "retrieve" else ComplaintSerializer

    @extend_schema(request=ComplaintCreateSerializer, responses={201: ComplaintDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ComplaintCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        application = match = institution = None
        if data.get("application") is not None:
            application = application_for_user(request.user).filter(pk=data["application"]).first()
            if application is None:
                raise _hidden("未找到该申请。")
        elif data.get("match") is not None:
            match = match_for_user(request.user).filter(pk=data["match"], is_lead=True).first()
            if match is None:
                raise _hidden("未找到该线索。")
        elif data.get("institution") is not None:
            institution = Institution.objects.filter(pk=data["institution"]).first()
            if institution is None:
                raise ValidationError({"institution": ["未找到该机构。"]})
        complaint = services.complaint_file(
            user=request.user,
            kind=data["kind"],
            subject=data["subject"],
            body=data["body"],
            application=application,
            match=match,
            institution=institution,
        )
        fresh = self.get_queryset().get(pk=complaint.pk)
        return Response(
            ComplaintDetailSerializer(fresh, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=ComplaintTransitionSerializer, responses=ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """``{"to": "handling" | "replied" | "closed", "note": …}`` (or ``{"action": "answer"}`` for
        the institution's statement). An illegal step answers 409 and changes nothing."""
        complaint = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = ComplaintTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        name = data.get("action") or services.action_for_target(
            user=request.user, complaint=complaint, to=data["to"]
        )
        if name is None or name not in services.TRANSITIONS:
            raise ServiceError(
                _("投诉当前状态为“%(s)s”，不能转为“%(to)s”。")
                % {
                    "s": complaint.get_status_display(),
                    "to": STATUS_LABELS.get(data.get("to"), data.get("to") or ""),
                },
                status=409,
                code="illegal_transition",
            )
        complaint = services.complaint_transition(
            user=request.user, complaint=complaint, action=name, note=data["note"]
        )
        fresh = self.get_queryset().get(pk=complaint.pk)
        return Response(ComplaintDetailSerializer(fresh, context={"request": request}).data)
