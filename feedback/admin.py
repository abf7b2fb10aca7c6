from django.contrib import admin

from .models import Complaint, Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("institution", "stars", "anonymous", "enterprise", "created_at")
    list_filter = ("stars", "anonymous")
    raw_id_fields = ("enterprise", "institution", "application", "match", "rated_by")


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("subject", "enterprise", "institution", "status", "response_due_at", "reopen_count")
    list_filter = ("status", "kind")
    search_fields = ("subject", "enterprise__name")
    raw_id_fields = ("enterprise", "institution", "application", "match", "filed_by")
