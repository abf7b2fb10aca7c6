from django.contrib import admin

from .models import Branch, Institution


class BranchInline(admin.TabularInline):
    model = Branch
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "is_lender"]
    list_filter = ["kind", "is_lender"]
    search_fields = ["name", "short_name"]
    inlines = [BranchInline]
    exclude = ["webhook_secret"]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "institution", "city", "is_scitech", "is_provincial"]
    list_filter = ["institution", "city", "is_scitech", "is_provincial"]
    search_fields = ["name", "institution__name"]
    list_select_related = ["institution", "city"]
