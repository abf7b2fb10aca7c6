from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from portal.services import ServiceError

from .models import (
    Document,
    Enterprise,
    FinancingNeed,
    IPAsset,
    ProfileConsent,
    ProfileView,
    Qualification,
    ServiceVisit,
)
from .services import enterprise_verify, qualification_expiry


class QualificationAdminForm(forms.ModelForm):
    """Admin edits follow the same expiry rule as the firm's form (statutory default, no later)."""

    class Meta:
        model = Qualification
        fields = ["enterprise", "kind", "level", "number", "issued_on", "expires_on", "source"]

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("issued_on"):
            try:
                data["expires_on"] = qualification_expiry(
                    kind=data["kind"], issued_on=data["issued_on"], expires_on=data.get("expires_on")
                )
            except ServiceError as exc:
                self.add_error("expires_on", exc.message)
        return data


class QualificationInline(admin.TabularInline):
    model = Qualification
    form = QualificationAdminForm
    extra = 0


class IPAssetInline(admin.TabularInline):
    model = IPAsset
    extra = 0


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "uscc",
        "city",
        "industry",
        "stage",
        "verification_status",
        "shares_profile",
        "created_at",
    ]
    list_filter = ["verification_status", "city", "industry", "stage", "export_business", "shares_profile"]
    search_fields = ["name", "uscc", "legal_representative"]
    list_select_related = ["city"]
    inlines = [QualificationInline, IPAssetInline]
    readonly_fields = ["verified_at", "verified_by", "created_at", "updated_at"]
    actions = ["verify_selected"]

    @admin.action(description=_("认证所选企业（记录审核并通知企业）"))
    def verify_selected(self, request, queryset):
        done = 0
        for firm in queryset.filter(verification_status=Enterprise.Verification.PENDING):
            try:
                enterprise_verify(user=request.user, enterprise=firm, approve=True, note=_("管理后台认证"))
            except ServiceError as exc:
                self.message_user(request, f"{firm}: {exc.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("已认证 %(n)d 家企业。") % {"n": done}, messages.SUCCESS)


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    form = QualificationAdminForm
    list_display = ["enterprise", "kind", "level", "number", "issued_on", "expires_on", "source"]
    list_filter = ["kind", "level", "source"]
    search_fields = ["enterprise__name", "number"]
    raw_id_fields = ["enterprise"]


@admin.register(IPAsset)
class IPAssetAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "kind", "number", "title", "granted_on", "valuation"]
    list_filter = ["kind"]
    search_fields = ["enterprise__name", "number", "title"]
    raw_id_fields = ["enterprise"]


@admin.register(FinancingNeed)
class FinancingNeedAdmin(admin.ModelAdmin):
    list_display = [
        "enterprise",
        "amount",
        "term_months",
        "purpose",
        "max_annual_rate",
        "status",
        "created_at",
    ]
    list_filter = ["status", "purpose", "on_behalf"]
    search_fields = ["enterprise__name", "description"]
    raw_id_fields = ["enterprise", "posted_by"]
    date_hierarchy = "created_at"


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "kind", "original_name", "content_type", "size", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["enterprise__name", "original_name"]
    raw_id_fields = ["enterprise", "uploaded_by"]


@admin.register(ServiceVisit)
class ServiceVisitAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "visited_on", "team", "institution", "follow_up_due", "follow_up_done"]
    list_filter = ["follow_up_done", "institution"]
    search_fields = ["enterprise__name", "team", "findings"]
    raw_id_fields = ["enterprise", "recorded_by"]
    date_hierarchy = "visited_on"


@admin.register(ProfileConsent)
class ProfileConsentAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "institution", "status", "granted_at", "expires_on", "changed_by"]
    list_filter = ["status", "for_lead", "for_application", "for_pool", "institution"]
    search_fields = ["enterprise__name"]
    raw_id_fields = ["enterprise", "changed_by"]


@admin.register(ProfileView)
class ProfileViewAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "institution", "viewer", "purpose", "restricted", "viewed_at"]
    list_filter = ["purpose", "restricted", "institution"]
    search_fields = ["enterprise__name", "viewer__username"]
    raw_id_fields = ["enterprise", "viewer"]
    date_hierarchy = "viewed_at"
