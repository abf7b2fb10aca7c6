"""The audit log API for staff: read-only, filterable, paginated. There is no write route."""

from django.urls import path
from rest_framework import mixins, serializers, viewsets

from portal.audit import AuditEventFilterSet, audit_event_for_user
from portal.models import AuditEvent

from .permissions import IsStaff


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "user",
            "username",
            "action",
            "object_type",
            "object_id",
            "from_state",
            "to_state",
            "detail",
            "ip_address",
            "user_agent",
        ]
        read_only_fields = fields


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """审计日志（仅专班可查，只读）：登录、退出、登录失败、状态变更与拒绝访问。"""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    permission_classes = [IsStaff]
    ordering_fields = ["at"]
    ordering = ["-at", "-id"]

    def get_queryset(self):
        return audit_event_for_user(self.request.user)


urlpatterns = [
    path("audit/", AuditEventViewSet.as_view({"get": "list"}), name="audit-event-list"),
]
