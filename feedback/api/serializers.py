"""Serializers of the ratings and complaints API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.models import Role
from portal.selectors import transitions_for
from portal.text import NOTE_MAX

from ..models import COMMENT_MAX, Complaint, Rating
from ..services import allowed_actions


def _viewer_is_bank(context) -> bool:
    request = context.get("request")
    return bool(request and getattr(request.user, "role", "") in (Role.OFFICER, Role.MANAGER))


class RatingSerializer(serializers.ModelSerializer):
    """A rating. For a bank reading an anonymous rating, the firm and the case are left out
    (``enterprise_name``, ``application`` and ``match`` are null)."""

    institution_name = serializers.CharField(source="institution.short_name", read_only=True)
    enterprise_name = serializers.SerializerMethodField()

    class Meta:
        model = Rating
        fields = [
            "id",
            "institution",
            "institution_name",
            "enterprise_name",
            "application",
            "match",
            "stars",
            "comment",
            "anonymous",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_enterprise_name(self, obj):
        if obj.anonymous and _viewer_is_bank(self.context):
            return None
        return obj.enterprise.name

    def to_representation(self, obj):
        data = super().to_representation(obj)
        if obj.anonymous and _viewer_is_bank(self.context):
            data["application"] = data["match"] = None
        return data


class RatingCreateSerializer(serializers.Serializer):
    application = serializers.IntegerField(required=False, allow_null=True)
    match = serializers.IntegerField(required=False, allow_null=True)
    stars = serializers.IntegerField(
        min_value=1,
        max_value=5,
        error_messages={
            "min_value": "请选择 1 到 5 星。",
            "max_value": "请选择 1 到 5 星。",
            "invalid": "请选择 1 到 5 星。",
            "required": "请选择 1 到 5 星。",
        },
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX)
    anonymous = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if (attrs.get("application") is None) == (attrs.get("match") is None):
            raise serializers.ValidationError({"application": ["请只填写 application 或 match 其中一项。"]})
        return attrs


class ComplaintSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.short_name", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "kind",
            "kind_label",
            "subject",
            "body",
            "status",
            "status_label",
            "enterprise_name",
            "institution",
            "institution_name",
            "application",
            "match",
            "response_due_at",
            "is_overdue",
            "reply",
            "replied_at",
            "institution_answer",
            "institution_answered_at",
            "reopen_count",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields


class TimelineStepSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    action = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_null=True)


class ComplaintDetailSerializer(ComplaintSerializer):
    timeline = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "timeline", "allowed_actions"]
        read_only_fields = fields

    @extend_schema_field(TimelineStepSerializer(many=True))
    def get_timeline(self, obj):

        return [
            {
                "at": t.at,
                "from_state": t.from_state,
                "to_state": t.to_state,
                "action": (t.data or {}).get("action", ""),
                "note": t.note,
                "actor": None if t.actor is None else t.actor.display_name,
            }
            for t in transitions_for(obj)
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, obj):

        request = self.context.get("request")
        return allowed_actions(user=request.user, complaint=obj) if request else []


class ComplaintCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Complaint.Kind.choices, default=Complaint.Kind.COMPLAINT)
    subject = serializers.CharField(max_length=100)
    body = serializers.CharField(max_length=NOTE_MAX)
    application = serializers.IntegerField(required=False, allow_null=True)
    match = serializers.IntegerField(required=False, allow_null=True)
    institution = serializers.IntegerField(required=False, allow_null=True)


class ComplaintTransitionSerializer(serializers.Serializer):
    to = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    action = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)

    def validate(self, attrs):
        if not attrs.get("to") and not attrs.get("action"):
            raise serializers.ValidationError({"to": ["请填写目标状态 to（如 handling、replied、closed）。"]})
        return attrs
