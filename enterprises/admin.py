from django.contrib import admin

from .models import Document, Enterprise, FinancingNeed, IPAsset, Qualification, ServiceVisit


class QualificationInline(admin.TabularInline):
    model = Qualification
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


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
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
