from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, Notification, Region, Transition, User, WorkdayOverride


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "display_name",
        "role",
        "enterprise",
        "branch",
        "region",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "is_active", "is_staff", "branch__institution", "region"]
    search_fields = ["username", "first_name", "last_name", "email", "mobile", "enterprise__name"]
    list_select_related = ["enterprise", "branch", "branch__institution", "region"]
    autocomplete_fields = ["enterprise", "branch"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("平台角色"), {"fields": ("role", "mobile", "enterprise", "branch", "region")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("平台角色"), {"fields": ("role", "enterprise", "branch", "region")}),
    )


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "kind", "parent", "sort"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    list_display = ["at", "content_type", "object_id", "from_state", "to_state", "actor", "note"]
    list_filter = ["content_type", "to_state"]
    search_fields = ["note", "actor__username", "object_id"]
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "title", "read_at"]
    list_filter = ["read_at"]
    search_fields = ["title", "user__username"]
    raw_id_fields = ["user"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by the application only, never edited or deleted here."""

    list_display = [
        "at",
        "username",
        "action",
        "object_type",
        "object_id",
        "from_state",
        "to_state",
        "ip_address",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["username", "object_type", "object_id", "ip_address"]
    date_hierarchy = "at"
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    """Staff rows of the working-day calendar (portal/workdays.py): a year with any row is computed
    from its rows alone. The staff page /staff/calendar/ is the everyday way to edit them."""

    list_display = ["date", "kind", "note", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["note"]
    date_hierarchy = "date"
    raw_id_fields = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
