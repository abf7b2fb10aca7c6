"""Serializers of the recommended-lists API. Amounts are in yuan (as everywhere in the API)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.models import BANK_ROLES
from portal.text import NOTE_MAX

from .. import selectors
from ..models import Outcome, RecommendationFeedback, RecommendationList

OUTCOME_MESSAGE = "请选择反馈结果：已联系（contacted）、已授信（granted）或不予支持（declined）。"


def _user(context):
    request = context.get("request")
    return request.user if request else None


class RecipientSerializer(serializers.Serializer):
    institution = serializers.IntegerField(source="institution_id")
    institution_name = serializers.CharField(source="institution.short_name")
    sent_at = serializers.DateTimeField()
    due_on = serializers.DateField()


class FunnelSerializer(serializers.Serializer):
    institution = serializers.IntegerField(source="institution_id")
    institution_name = serializers.CharField(source="institution.short_name")
    sent = serializers.IntegerField()
    answered = serializers.IntegerField()
    contacted = serializers.IntegerField()
    granted = serializers.IntegerField()
    granted_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    loans = serializers.IntegerField()
    loan_amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class FeedbackSerializer(serializers.ModelSerializer):
    enterprise = serializers.IntegerField(source="entry.enterprise_id", read_only=True)
    institution_name = serializers.CharField(source="institution.short_name", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    reason_label = serializers.CharField(source="get_reason_code_display", read_only=True)

    class Meta:
        model = RecommendationFeedback
        fields = [
            "enterprise",
            "institution",
            "institution_name",
            "outcome",
            "outcome_label",
            "amount",
            "reason_code",
            "reason_label",
            "note",
            "answered_at",
        ]
        read_only_fields = fields


class RecommendationListSerializer(serializers.ModelSerializer):
    """A list. A bank sees only its own institution's recipient row; the filters are staff's."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    firms = serializers.SerializerMethodField()
    recipients = serializers.SerializerMethodField()

    class Meta:
        model = RecommendationList
        fields = [
            "id",
            "title",
            "status",
            "status_label",
            "created_at",
            "sent_at",
            "due_working_days",
            "feedback_due",
            "firms",
            "recipients",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_firms(self, obj) -> int:
        return obj.entries.count()

    @extend_schema_field(RecipientSerializer(many=True))
    def get_recipients(self, obj):
        rows = obj.recipients.select_related("institution")
        user = _user(self.context)
        if user is not None and user.role in BANK_ROLES:
            rows = rows.filter(institution_id=user.institution_id)
        return RecipientSerializer(rows, many=True).data

    def to_representation(self, obj):
        data = super().to_representation(obj)
        user = _user(self.context)
        if user is not None and user.role not in BANK_ROLES:
            data["filters"] = obj.filters
        return data


class EntrySerializer(serializers.Serializer):
    """One firm of a list through the bank view: ``score`` and ``first_loan`` are null unless the
    firm lets the institution see its financials (``financials`` in ``groups``)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    city_name = serializers.CharField()
    industry_display = serializers.CharField()
    groups = serializers.ListField(child=serializers.CharField())
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    first_loan = serializers.BooleanField(allow_null=True)
    feedback = FeedbackSerializer(many=True)


class RecommendationDetailSerializer(RecommendationListSerializer):
    entries = serializers.SerializerMethodField()
    funnel = serializers.SerializerMethodField()

    class Meta(RecommendationListSerializer.Meta):
        fields = [*RecommendationListSerializer.Meta.fields, "entries", "funnel"]
        read_only_fields = fields

    @extend_schema_field(EntrySerializer(many=True))
    def get_entries(self, obj):
        user = _user(self.context)
        entries = list(selectors.entries_of(obj))
        institution_id = user.institution_id if user.role in BANK_ROLES else None
        answers = selectors.feedback_by_entry(entries, institution_id=institution_id)
        rows = []
        for e in entries:
            row = selectors.entry_view(user=user, entry=e)
            row["feedback"] = answers.get(e.pk, [])
            rows.append(row)
        return EntrySerializer(rows, many=True).data

    @extend_schema_field(FunnelSerializer(many=True))
    def get_funnel(self, obj):
        found = selectors.list_funnel(user=_user(self.context), rec_list=obj)
        return FunnelSerializer(found["recipients"] if found else [], many=True).data


class RecommendationCreateSerializer(serializers.Serializer):
    title = serializers.CharField(
        max_length=100, error_messages={"required": "请填写清单名称。", "blank": "请填写清单名称。"}
    )
    filters = serializers.DictField(required=False, default=dict)
    institutions = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    due_working_days = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if attrs.get("institutions") and attrs.get("due_working_days") is None:
            raise serializers.ValidationError({"due_working_days": ["同时发送时请填写反馈期限（工作日）。"]})
        return attrs


class FeedbackCreateSerializer(serializers.Serializer):
    enterprise = serializers.IntegerField(
        error_messages={
            "required": "请填写企业编号 enterprise。",
            "invalid": "企业编号 enterprise 须为整数。",
        }
    )
    outcome = serializers.ChoiceField(
        choices=Outcome.choices,
        error_messages={"required": OUTCOME_MESSAGE, "invalid_choice": OUTCOME_MESSAGE},
    )
    amount = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    reason_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=16)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)
