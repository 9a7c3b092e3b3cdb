from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from tremplin.core.models import AuditEvent, CoordinatorScope, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["school"]


class CoordinatorScopeInline(admin.TabularInline):
    model = CoordinatorScope
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ("preferred_language",)}),
    )
    inlines = [MembershipInline, CoordinatorScopeInline]
    list_display = ("username", "email", "first_name", "last_name", "is_superuser", "is_active")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "school", "role", "is_active", "created_at")
    list_filter = ("role", "is_active", "school")
    search_fields = ("user__username", "user__email", "user__last_name")
    autocomplete_fields = ["user", "school"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written by services only (the audit log, the outbox): the admin looks."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # The platform's every record, never purged: a filtered page does not count the whole
    # table a second time to say "of N".
    show_full_result_count = False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "school", "object_repr", "ip_address")
    list_filter = ("school", "action")
    search_fields = ("action", "object_repr", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "school")  # not two queries a row
    # The log is evidence: nobody edits or deletes it, not even a platform admin.
