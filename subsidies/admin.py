from django.contrib import admin

from .models import Claim, LedgerEntry, LprRate, Policy


@admin.register(LprRate)
class LprRateAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "one_year", "five_year"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "series",
        "version",
        "kind",
        "effective_from",
        "effective_to",
        "budget",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "series"]


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "policy", "enterprise", "institution", "year", "amount", "status"]
    list_filter = ["kind", "status", "year"]
    search_fields = ["enterprise__name", "institution__name"]
    raw_id_fields = ["loan", "enterprise", "institution"]
    # The money flow moves only through the services (four eyes), never by editing a row here.
    readonly_fields = [
        "status",
        "amount",
        "reviewed_by",
        "reviewed_at",
        "approved_by",
        "approved_at",
        "paid_by",
        "paid_at",
    ]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "policy", "kind", "amount", "year", "claim", "maker", "checker", "note"]
    list_filter = ["kind", "year", "policy"]
    raw_id_fields = ["claim", "by", "maker", "checker"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
