from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import ApiToken, Person, RoleAssignment


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1


@admin.register(Person)
class PersonAdmin(UserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "full_name", "email", "phone", "roles", "is_active")
    search_fields = ("username", "full_name", "email", "phone")
    inlines = [RoleAssignmentInline]
    fieldsets = UserAdmin.fieldsets + ((_("Fenghuo"), {"fields": ("full_name", "phone", "language")}),)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_assignments")

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(a.role_key for a in obj.role_assignments.all())


@admin.register(ApiToken)
class ApiTokenAdmin(SimpleHistoryAdmin):
    list_display = ("prefix", "person", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("person", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request):
        # Tokens are issued with `manage.py issuetoken`, which shows the secret once.
        return False
