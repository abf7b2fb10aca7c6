from django.contrib import admin

from .models import Criteria, Product


class CriteriaInline(admin.StackedInline):
    model = Criteria
    can_delete = False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "institution",
        "product_type",
        "amount_min",
        "amount_max",
        "rate_min",
        "rate_max",
        "status",
    ]
    list_filter = ["status", "product_type", "institution", "fully_online", "is_exclusive"]
    search_fields = ["name", "institution__name", "description"]
    list_select_related = ["institution"]
    inlines = [CriteriaInline]
