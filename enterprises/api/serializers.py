"""Serializers of the firm API. They parse and format; the rules live in services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matching.models import Application
from portal.models import Region
from portal.selectors import transitions_for
from portal.text import DESCRIPTION_MAX, NOTE_MAX
from portal.vocabulary import GUARANTEE_TYPES
from products.models import Product

from ..consent import ConsentPurpose, ProfileGroup
from ..models import (
    AnnualFigures,
    Document,
    Enterprise,
    FinancingNeed,
    IPAsset,
    ProfileView,
    Qualification,
    financial_years,
)
from ..selectors import enterprise_profile_for_bank, enterprise_summary, first_loan_firm_for
from ..services import FIGURE_ALIASES, PROFILE_FIELDS


class AnnualFiguresSerializer(serializers.ModelSerializer):
    """One financial year's figures: money in yuan (``net_profit`` may be negative), people and
    counts whole numbers, ``null`` not reported. Writing (``PUT …/me/figures/<year>/``) replaces the
    year's row: a figure left out becomes ``null``. The rules are ``annual_figures_save``'s."""

    class Meta:
        model = AnnualFigures
        fields = ["year", *AnnualFigures.FIGURE_FIELDS, "updated_at"]
        read_only_fields = ["year", "updated_at"]
        extra_kwargs = {name: {"required": False} for name in AnnualFigures.FIGURE_FIELDS}


class LatestFigureMixin:
    """A single-year field of the enterprise (``revenue_last_year`` …): reads the figure of the
    firm's latest recorded year (``null`` when not reported or no year is recorded); a write goes to
    ``enterprise_update``, which saves it into that year (see ``services.figures_alias_year``)."""

    def __init__(self, *, figure: str, **kwargs):
        self.figure = figure
        super().__init__(required=False, allow_null=True, min_value=0, **kwargs)

    def get_attribute(self, instance):
        latest = instance.latest_figures
        return getattr(latest, self.figure) if latest is not None else None


class LatestMoneyField(LatestFigureMixin, serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=16, decimal_places=2, **kwargs)


class LatestCountField(LatestFigureMixin, serializers.IntegerField):
    pass


@extend_schema_field(OpenApiTypes.BOOL)
class FirstLoanFirmField(serializers.ReadOnlyField):
    """首贷户 of the row's firm (a lead's, an application's): the list's ``is_first_loan_firm``
    annotation (``enterprises.selectors.first_loan_firm_for``, computed for the reader), else the
    same rule for the request's user (one query)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("help_text", "首贷户：企业声明从未获得过银行贷款，且在平台上也没有放款记录")
        super().__init__(**kwargs)

    def to_representation(self, obj):
        flag = getattr(obj, "is_first_loan_firm", None)
        if flag is not None:
            return bool(flag)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        rule = first_loan_firm_for(user, "pk")  # a bank: only with the firm's financials consent
        return Enterprise.objects.filter(rule, pk=obj.enterprise_id).exists()


class EnterpriseSerializer(serializers.ModelSerializer):
    city = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all())
    city_name = serializers.CharField(source="city.name", read_only=True)
    employees = LatestCountField(figure="employees", help_text="职工人数：最近年度经营数据的别名")
    rd_staff = LatestCountField(figure="st_staff", help_text="研发（科技）人员：最近年度 st_staff 的别名")
    revenue_last_year = LatestMoneyField(
        figure="revenue", help_text="上年营业收入（元）：最近年度 revenue 的别名"
    )
    rd_spend_last_year = LatestMoneyField(
        figure="rd_spend", help_text="上年研发投入（元）：最近年度 rd_spend 的别名"
    )
    annual_figures = serializers.SerializerMethodField(
        help_text="最近三个财务年度的经营数据，新年度在前；修改用 PUT /api/v1/enterprises/me/figures/<year>/"
    )
    is_first_loan_firm = serializers.BooleanField(
        read_only=True,
        help_text="首贷户：声明从未获得过银行贷款（had_bank_loan 为 false）且平台上没有放款记录",
    )

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "uscc",
            *PROFILE_FIELDS,
            *FIGURE_ALIASES,
            "annual_figures",
            "city_name",
            "is_first_loan_firm",
            "verification_status",
            "verified_at",
            "shares_profile",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "uscc",
            "verification_status",
            "verified_at",
            "shares_profile",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(AnnualFiguresSerializer(many=True))
    def get_annual_figures(self, obj) -> list[dict]:

        rows = [r for r in obj.annual_figures.all() if r.year in financial_years()]
        rows.sort(key=lambda r: -r.year)
        return AnnualFiguresSerializer(rows, many=True).data


class RegisterEnterpriseSerializer(serializers.Serializer):
    """The nested ``enterprise`` of a registration. The USCC is checked by the service."""

    name = serializers.CharField(max_length=120)
    uscc = serializers.CharField(max_length=40)
    legal_representative = serializers.CharField(max_length=40)
    city = serializers.CharField(max_length=6, help_text="区划代码，如 140100")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    founded_on = serializers.DateField(required=False, allow_null=True)
    registered_capital = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    industry = serializers.ChoiceField(choices=Enterprise._meta.get_field("industry").choices, required=False)
    stage = serializers.ChoiceField(choices=Enterprise._meta.get_field("stage").choices, required=False)
    employees = serializers.IntegerField(min_value=0, required=False)
    rd_staff = serializers.IntegerField(min_value=0, required=False)
    revenue_last_year = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, required=False)
    rd_spend_last_year = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False
    )
    total_assets = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    export_business = serializers.BooleanField(required=False)
    export_amount_last_year = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False
    )
    contact_name = serializers.CharField(max_length=40, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=DESCRIPTION_MAX)


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    mobile = serializers.CharField(max_length=11)
    email = serializers.EmailField(required=False, allow_blank=True)
    shares_profile = serializers.BooleanField(required=False, default=False)
    enterprise = RegisterEnterpriseSerializer()


class QualificationSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="有效期至 YYYY-MM-DD；留空按规定计算（高企、专精特新三年，科小至入库当年 12 月 31 日），不得晚于该日期。返回时总是日期。",
    )
    valid_today = serializers.SerializerMethodField()

    class Meta:
        model = Qualification
        fields = [
            "id",
            "kind",
            "level",
            "code",
            "display_name",
            "number",
            "issued_on",
            "expires_on",
            "source",
            "valid_today",
        ]
        read_only_fields = ["id", "source"]

    def get_valid_today(self, obj) -> bool:
        from django.utils import timezone

        return obj.counts_on(timezone.localdate())


class IPAssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = IPAsset
        fields = ["id", "kind", "number", "title", "granted_on", "valuation"]
        read_only_fields = ["id"]
        validators: list = []  # uniqueness is checked by the service


class NeedSerializer(serializers.ModelSerializer):
    guarantee_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(GUARANTEE_TYPES.items())), allow_empty=False
    )
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    term_months = serializers.IntegerField()
    max_annual_rate = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True
    )

    class Meta:
        model = FinancingNeed
        fields = [
            "id",
            "amount",
            "term_months",
            "purpose",
            "guarantee_types",
            "max_annual_rate",
            "needed_by",
            "description",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class DocumentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "file",
            "original_name",
            "content_type",
            "size",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = ["id", "original_name", "content_type", "size", "uploaded_at", "download_url"]

    def get_download_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("enterprises:document_download", args=[obj.pk])


class EligibilityCriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    met = serializers.BooleanField()
    reason = serializers.CharField()


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    criteria = EligibilityCriterionSerializer(many=True)


class TransitionSerializer(serializers.Serializer):
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.SerializerMethodField()
    at = serializers.DateTimeField()
    note = serializers.CharField()

    def get_actor(self, obj) -> str | None:
        return obj.actor.display_name if obj.actor_id else None


class ApplicationSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(status=Product.Status.PUBLISHED)
    )
    product_name = serializers.CharField(source="product.name", read_only=True)
    institution_name = serializers.CharField(source="product.institution.name", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    enterprise_verified = serializers.BooleanField(source="enterprise.is_verified", read_only=True)
    first_loan_firm = FirstLoanFirmField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    term_months = serializers.IntegerField()
    purpose = serializers.ChoiceField(choices=FinancingNeed.Purpose.choices)
    match = serializers.IntegerField(source="match_id", required=False, allow_null=True)
    need = serializers.IntegerField(source="need_id", required=False, allow_null=True)
    documents = serializers.ListField(child=serializers.IntegerField(), required=False, write_only=True)
    share_profile = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="必须为 true：同意向该产品所属机构展示企业资料（申请审查用途，全部资料分组，一年）。",
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "product",
            "product_name",
            "institution_name",
            "enterprise",
            "enterprise_name",
            "enterprise_verified",
            "first_loan_firm",
            "amount",
            "term_months",
            "purpose",
            "note",
            "match",
            "need",
            "documents",
            "share_profile",
            "status",
            "credit_line",
            "approved_rate",
            "approved_term_months",
            "valid_until",
            "signed_at",
            "withdraw_reason",
            "created_at",
            "status_changed_at",
        ]
        read_only_fields = [
            "id",
            "enterprise",
            "status",
            "credit_line",
            "approved_rate",
            "approved_term_months",
            "valid_until",
            "signed_at",
            "withdraw_reason",
            "created_at",
            "status_changed_at",
        ]


class ApplicationDetailSerializer(ApplicationSerializer):
    timeline = serializers.SerializerMethodField()
    enterprise_profile = serializers.SerializerMethodField()

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "timeline", "enterprise_profile"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_enterprise_profile(self, obj) -> dict:
        """The firm through the bank view for application review (only name, city and industry
        once the application is withdrawn); the firm and staff see everything."""
        from django.http import Http404


        user = self.context["request"].user
        try:
            return enterprise_profile_for_bank(
                user=user, enterprise=obj.enterprise, purpose=ConsentPurpose.APPLICATION
            )
        except Http404:
            return enterprise_summary(obj.enterprise, purpose=ConsentPurpose.APPLICATION)

    def get_timeline(self, obj) -> list[dict]:

        return TransitionSerializer(transitions_for(obj), many=True).data


class WithdrawSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class ConsentInstitutionSerializer(serializers.Serializer):
    """One institution's consent. Reading: ``granted`` (it may see something today), the record's
    ``purposes``, ``scope``, ``granted_at``, ``expires_on``, ``status`` (active / revoked / expired /
    none), ``source`` ("institution" or "all": the share-with-all switch) and ``via_all`` (the
    switch covers it as well). Writing: ``granted``
    false revokes; ``granted`` true (the default) grants, with the given ``purposes``, ``scope``
    and ``expires_on`` or, where left out, every purpose, every group and one year."""

    institution = serializers.IntegerField()
    institution_name = serializers.CharField(read_only=True)
    granted = serializers.BooleanField(required=False, allow_null=True, default=None)
    purposes = serializers.ListField(
        child=serializers.ChoiceField(choices=ConsentPurpose.choices), required=False, allow_empty=True
    )
    scope = serializers.ListField(
        child=serializers.ChoiceField(choices=ProfileGroup.choices), required=False, allow_empty=True
    )
    granted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True)
    status = serializers.CharField(read_only=True)
    source = serializers.CharField(read_only=True, allow_null=True)
    via_all = serializers.BooleanField(read_only=True)


class ConsentSerializer(serializers.Serializer):
    shares_profile = serializers.BooleanField()
    shares_profile_expires_on = serializers.DateField(read_only=True, allow_null=True)
    institutions = ConsentInstitutionSerializer(many=True, required=False)


class ProfileViewSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True, default=None)
    viewer_name = serializers.SerializerMethodField()

    class Meta:
        model = ProfileView
        fields = [
            "id",
            "institution",
            "institution_name",
            "viewer",
            "viewer_name",
            "purpose",
            "restricted",
            "viewed_at",
        ]

    def get_viewer_name(self, obj) -> str | None:
        return obj.viewer.display_name if obj.viewer_id else None
