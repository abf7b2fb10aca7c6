"""The bank API: lead actions, application transitions, incubation pools. Thin: scope with a
selector (another tenant's id → 404), validate with a serializer, call one service."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from lenders.choices import WEBHOOK_EVENTS
from lenders.models import API_CLIENT_SCOPES, Institution
from lenders.oauth import ClientScope
from lenders.selectors import api_client_for_user, lead_for_user, pool_for_user
from lenders.services import api_client_create, api_client_revoke, pool_leave, webhook_settings_update
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
    permission_classes = [IsBank, ClientScope]  # firms and staff: 403 before any lookup or validation
    client_scope = "leads"  # a bank's machine client: leads:write

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
    permission_classes = [IsManager, ClientScope]

    def run(self, *, user, lead, data):
        officer = get_object_or_404(
            User, pk=data["officer"], branch__institution_id=user.institution_id, api_client__isnull=True
        )
        return lead_services.lead_reassign(user=user, match=lead, officer=officer, note=data["note"])


class ApplicationTransitionView(APIView):
    """银行办理申请：受理、补充材料、授信、不予授信、放款、还款、违约。"""

    permission_classes = [IsBank, ClientScope]
    client_scope = "applications"  # a bank's machine client: applications:write (no password step)

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

    permission_classes = [IsManager, ClientScope]
    client_scope = "webhooks"  # a bank's machine client: webhooks:write, for reading and saving
    client_scope_read = "webhooks:write"

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


# ------------------------------------------------------------------------------------------------
# Machine clients (OAuth2 client credentials): managers only, never a machine client itself
# ------------------------------------------------------------------------------------------------


class ApiClientSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    client_id = serializers.CharField(source="application.client_id", read_only=True)
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    last_used_at = serializers.DateTimeField(read_only=True)
    revoked_at = serializers.DateTimeField(read_only=True)
    active = serializers.SerializerMethodField()

    def get_active(self, obj) -> bool:
        return obj.is_live()


class ApiClientCreateSerializer(serializers.Serializer):
    name = serializers.CharField(label="名称", max_length=80)
    scopes = serializers.ListField(
        label="权限范围",
        child=serializers.ChoiceField(choices=[(k, str(v)) for k, v in API_CLIENT_SCOPES.items()]),
        allow_empty=False,
        max_length=len(API_CLIENT_SCOPES),
    )
    expires_at = serializers.DateTimeField(label="有效期至", required=False, allow_null=True)


class ApiClientCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    client_id = serializers.CharField()
    client_secret = serializers.CharField(help_text="只在创建时返回这一次")
    scopes = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)


class ApiClientListView(generics.ListAPIView):
    """本机构的系统接入客户端（银行管理者）：GET 列表；POST {"name", "scopes", "expires_at"} 新建，
    返回 201 {"client_id", "client_secret", "scopes"}，密钥只返回这一次；新建前须确认密码
    （POST /api/v1/auth/confirm/）。客户端用 POST /o/token/（grant_type=client_credentials）换取 Bearer 令牌。"""

    serializer_class = ApiClientSerializer
    permission_classes = [IsManager]

    def get_queryset(self):
        return api_client_for_user(self.request.user)

    @extend_schema(
        request=ApiClientCreateSerializer,
        responses={201: ApiClientCreatedSerializer},
        summary="新建接入客户端",
    )
    def post(self, request):
        serializer = ApiClientCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reauth_check_api(request)
        data = serializer.validated_data
        client, secret = api_client_create(
            user=request.user, name=data["name"], scopes=data["scopes"], expires_at=data.get("expires_at")
        )
        body = {
            "id": client.pk,
            "name": client.name,
            "client_id": client.application.client_id,
            "client_secret": secret,
            "scopes": client.scopes,
            "expires_at": client.expires_at,
        }
        return Response(ApiClientCreatedSerializer(body).data, status=status.HTTP_201_CREATED)


class ApiClientRevokeView(APIView):
    """吊销接入客户端：其令牌立即失效（401），不能再换取新令牌。"""

    permission_classes = [IsManager]

    @extend_schema(request=None, responses=ApiClientSerializer, summary="吊销接入客户端")
    def post(self, request, pk: int):
        client = get_object_or_404(api_client_for_user(request.user, ACT), pk=pk)
        client = api_client_revoke(user=request.user, client=client)
        return Response(ApiClientSerializer(client).data)
