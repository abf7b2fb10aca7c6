"""The bank API: lead actions, application transitions, incubation pools. Thin: scope with a
selector (another tenant's id → 404), validate with a serializer, call one service."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from lenders.choices import WEBHOOK_EVENTS
from lenders.models import Institution
from lenders.selectors import lead_for_user, pool_for_user
from lenders.services import pool_leave, webhook_settings_update
from matching.selectors import application_for_user
from matching.services import leads as lead_services
from matching.services.review import application_transition
from portal.access import ACT
from portal.api.permissions import IsBank, IsManager
from portal.models import User
from portal.reauth import reauth_check_api

from .serializers import (
    ApplicationStateSerializer,
    ContactSerializer,
    DeclineSerializer,
    LeadStateSerializer,
    NoteSerializer,
    PoolEntrySerializer,
    ReassignSerializer,
    TransitionSerializer,
)


class _LeadAction(APIView):
    """POST on one lead: subclasses set ``serializer_class`` and define ``run``."""

    serializer_class = NoteSerializer
    permission_classes = [IsBank]  # firms and staff: 403 before any lookup or validation

    def post(self, request, pk: int):
        lead = get_object_or_404(lead_for_user(request.user, ACT), pk=pk)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = self.run(user=request.user, lead=lead, data=serializer.validated_data)
        return Response(LeadStateSerializer(lead).data)


@extend_schema(request=None, responses=LeadStateSerializer, summary="认领线索（他人已认领时 409）")
class LeadClaimView(_LeadAction):
    def run(self, *, user, lead, data):
        return lead_services.lead_claim(user=user, match=lead, note=data["note"])


@extend_schema(
    request=ContactSerializer, responses=LeadStateSerializer, summary="登记联系（首次联系停止计时）"
)
class LeadContactView(_LeadAction):
    serializer_class = ContactSerializer

    def run(self, *, user, lead, data):
        return lead_services.lead_contact(user=user, match=lead, channel=data["channel"], note=data["note"])


@extend_schema(request=NoteSerializer, responses=LeadStateSerializer, summary="邀请企业申请")
class LeadInviteView(_LeadAction):
    def run(self, *, user, lead, data):
        return lead_services.lead_invite(user=user, match=lead, note=data["note"])


@extend_schema(request=DeclineSerializer, responses=LeadStateSerializer, summary="婉拒线索（附原因代码）")
class LeadDeclineView(_LeadAction):
    serializer_class = DeclineSerializer

    def run(self, *, user, lead, data):
        return lead_services.lead_decline(
            user=user, match=lead, reason_code=data["reason_code"], note=data["note"]
        )


@extend_schema(request=ReassignSerializer, responses=LeadStateSerializer, summary="转派线索（管理者）")
class LeadReassignView(_LeadAction):
    serializer_class = ReassignSerializer
    permission_classes = [IsManager]

    def run(self, *, user, lead, data):
        officer = get_object_or_404(User, pk=data["officer"], branch__institution_id=user.institution_id)
        return lead_services.lead_reassign(user=user, match=lead, officer=officer, note=data["note"])


class ApplicationTransitionView(APIView):
    """银行办理申请：受理、补充材料、授信、不予授信、放款、还款、违约。"""

    permission_classes = [IsBank]

    @extend_schema(request=TransitionSerializer, responses=ApplicationStateSerializer, summary="申请状态流转")
    def post(self, request, pk: int):
        application = get_object_or_404(application_for_user(request.user, ACT), pk=pk)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = dict(serializer.validated_data)
        name = params.pop("action")
        if name == "approve":
            reauth_check_api(request)
        application = application_transition(
            user=request.user, application=application, action=name, **params
        )
        return Response(ApplicationStateSerializer(application).data, status=status.HTTP_200_OK)


class PoolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """培育库：企业看到哪些机构把它加入了培育库（可退出）；银行看到本机构的培育库。"""

    serializer_class = PoolEntrySerializer
    filterset_fields = ["institution", "enterprise"]

    def get_queryset(self):
        return pool_for_user(self.request.user).order_by("-created", "-id")

    @extend_schema(request=None, responses={204: None}, summary="企业退出该培育库")
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        entry = self.get_object()
        pool_leave(user=request.user, entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSettingsSerializer(serializers.Serializer):
    url = serializers.CharField(label="推送地址", max_length=200, allow_blank=True)
    events = serializers.ListField(
        label="推送事件",
        child=serializers.ChoiceField(choices=list(WEBHOOK_EVENTS.items())),
        required=False,
        max_length=len(WEBHOOK_EVENTS),
    )
    active = serializers.BooleanField(label="启用推送", required=False)

    @staticmethod
    def of(institution) -> dict:
        return {
            "url": institution.webhook_url,
            "events": list(institution.webhook_events or []),
            "active": institution.webhook_active,
        }


class WebhookSettingsView(APIView):
    """本机构的事件推送设置（客户经理主管）：GET → {"url", "events", "active"}；PUT 同样的结构保存。
    地址须为 https，且不能指向内部网络、本机或保留地址（保存时和每次推送时都检查）；events 为空表示全部事件。"""

    permission_classes = [IsManager]

    @extend_schema(responses=WebhookSettingsSerializer, summary="查看事件推送设置")
    def get(self, request):
        institution = get_object_or_404(Institution, pk=request.user.institution_id)
        return Response(WebhookSettingsSerializer.of(institution))

    @extend_schema(
        request=WebhookSettingsSerializer, responses=WebhookSettingsSerializer, summary="保存事件推送设置"
    )
    def put(self, request):
        serializer = WebhookSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        institution = webhook_settings_update(
            user=request.user, url=data["url"], events=data.get("events"), active=data.get("active")
        )
        return Response(WebhookSettingsSerializer.of(institution))
