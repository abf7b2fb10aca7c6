"""Serializers of the bank API: lead actions, application transitions, incubation pools."""

from decimal import Decimal

from rest_framework import serializers

from lenders.choices import CONTACT_CHANNELS, DECLINE_REASON_CHOICES, REJECT_REASON_CHOICES
from lenders.models import PoolEntry
from matching.models import Application, Loan, Match
from matching.services.review import BANK, TRANSITIONS

MONEY = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0")}
RATE = {"max_digits": 6, "decimal_places": 3, "min_value": Decimal("0")}


class LeadStateSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        read_only=True, help_text="suggested|claimed|contacted|invited|declined|expired|withdrawn"
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    assigned_officer = serializers.CharField(source="assigned_officer.username", default=None, read_only=True)
    assigned_officer_name = serializers.CharField(
        source="assigned_officer.display_name", default=None, read_only=True
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Match
        fields = [
            "id",
            "status",
            "status_display",
            "enterprise",
            "product",
            "need",
            "score",
            "branch",
            "assigned_officer",
            "assigned_officer_name",
            "claimed_at",
            "response_deadline",
            "first_response_at",
            "is_overdue",
            "decline_reason",
            "decline_note",
        ]
        read_only_fields = fields


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ContactSerializer(NoteSerializer):
    channel = serializers.ChoiceField(choices=list(CONTACT_CHANNELS.items()))


class DeclineSerializer(NoteSerializer):
    reason_code = serializers.ChoiceField(choices=DECLINE_REASON_CHOICES)


class ReassignSerializer(NoteSerializer):
    officer = serializers.IntegerField(help_text="接手的客户经理用户编号（本机构）")


class TransitionSerializer(serializers.Serializer):
    """One action on an application. Which fields an action needs: approve → credit_line,
    annual_rate, term_months (confirm_over_request to exceed the amount applied for), valid_until
    (the offer's last valid day, default 30 days after approval); reject → reason_code, note;
    disburse (only an offer the firm has signed, 签约确认; otherwise 409) → principal, annual_rate,
    start_date, maturity_date; repay → date, principal, interest; default → date,
    outstanding_principal. Every action takes an optional note. Amounts in yuan (元)."""

    action = serializers.ChoiceField(
        choices=[(k, str(v.label)) for k, v in TRANSITIONS.items() if v.roles & BANK]
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    credit_line = serializers.DecimalField(required=False, **MONEY)
    annual_rate = serializers.DecimalField(required=False, **RATE)
    term_months = serializers.IntegerField(required=False, min_value=1, max_value=360)
    confirm_over_request = serializers.BooleanField(required=False, default=False)
    valid_until = serializers.DateField(required=False, help_text="授信有效期至 YYYY-MM-DD，缺省为授信日后 30 天")
    reason_code = serializers.ChoiceField(required=False, choices=REJECT_REASON_CHOICES)
    principal = serializers.DecimalField(required=False, **MONEY)
    start_date = serializers.DateField(required=False)
    maturity_date = serializers.DateField(required=False)
    date = serializers.DateField(required=False)
    interest = serializers.DecimalField(required=False, **MONEY)
    outstanding_principal = serializers.DecimalField(required=False, **MONEY)


class LoanSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="active|repaid|defaulted")
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Loan
        fields = [
            "id",
            "principal",
            "annual_rate",
            "start_date",
            "maturity_date",
            "status",
            "status_display",
            "repaid_on",
            "defaulted_on",
            "outstanding_at_default",
        ]
        read_only_fields = fields


class ApplicationStateSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        read_only=True,
        help_text="submitted|accepted|approved|signed|expired|rejected|withdrawn|disbursed|repaid|defaulted",
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    loan = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "status",
            "status_display",
            "enterprise",
            "product",
            "amount",
            "term_months",
            "credit_line",
            "approved_rate",
            "approved_term_months",
            "approved_at",
            "valid_until",
            "signed_at",
            "withdraw_reason",
            "reject_reason",
            "reject_note",
            "status_changed_at",
            "loan",
        ]
        read_only_fields = fields

    def get_loan(self, obj) -> dict | None:
        loan = Loan.objects.filter(application=obj).first()
        return LoanSerializer(loan).data if loan else None


class PoolEntrySerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = PoolEntry
        fields = ["id", "institution", "institution_name", "enterprise", "enterprise_name", "note", "created"]
        read_only_fields = fields
