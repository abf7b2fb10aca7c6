from django.contrib import admin

from .models import Application, Loan, Match, MatchRun, Repayment


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "trigger",
        "status",
        "chunks_done",
        "total_chunks",
        "pairs_evaluated",
        "matches_count",
        "near_misses_count",
        "leads_count",
        "created_at",
        "finished_at",
    ]
    list_filter = ["trigger", "status"]
    readonly_fields = [f.name for f in MatchRun._meta.fields]


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "enterprise",
        "product",
        "score",
        "is_lead",
        "is_near_miss",
        "status",
        "branch",
        "assigned_officer",
        "response_deadline",
    ]
    list_filter = ["status", "is_lead", "is_near_miss", "institution"]
    search_fields = ["enterprise__name", "product__name"]
    list_select_related = ["enterprise", "product", "branch", "assigned_officer"]
    raw_id_fields = ["need", "product", "enterprise", "institution", "branch", "assigned_officer", "run"]


class LoanInline(admin.StackedInline):
    model = Loan
    extra = 0
    raw_id_fields = ["created_by"]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "enterprise",
        "product",
        "amount",
        "term_months",
        "status",
        "credit_line",
        "created_at",
    ]
    list_filter = ["status", "product__institution"]
    search_fields = ["enterprise__name", "product__name"]
    list_select_related = ["enterprise", "product"]
    raw_id_fields = ["enterprise", "product", "match", "need", "submitted_by"]
    filter_horizontal = ["documents"]
    date_hierarchy = "created_at"


class RepaymentInline(admin.TabularInline):
    model = Repayment
    extra = 0
    raw_id_fields = ["recorded_by"]


@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = ["id", "application", "principal", "annual_rate", "start_date", "maturity_date", "status"]
    list_filter = ["status"]
    search_fields = ["application__enterprise__name"]
    raw_id_fields = ["application", "created_by"]
    inlines = [RepaymentInline]
