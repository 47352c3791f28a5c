from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import HistoryAdmin, ReadOnlyMixin

from . import services
from .models import ApiToken, Person, RoleAssignment


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1


@admin.register(Person)
class PersonAdmin(UserAdmin, HistoryAdmin):
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
class ApiTokenAdmin(ReadOnlyMixin, HistoryAdmin):
    """Nothing of a token is edited here: an edit could un-revoke it. It is revoked or rotated by the actions."""

    list_display = ("prefix", "person", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("person",)
    search_fields = ("prefix", "name", "person__username")
    fields = ("person", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke", "rotate"]
    # Tokens are issued with `manage.py issuetoken`, which shows the secret once.

    def has_revoke_permission(self, request):
        return request.user.has_perm("people.change_apitoken")

    @admin.action(description=_("Revoke (the token stops working at once)"), permissions=["revoke"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            token = services.api_token_revoke(token=token, by=request.user)
            self.log_change(request, token, gettext("Revoked."))
            self.message_user(request, gettext("Token %(prefix)s of %(person)s is revoked.")
                              % {"prefix": token.prefix, "person": token.person}, messages.SUCCESS)

    @admin.action(description=_("Rotate (revoke and issue a new token for the same person)"),
                  permissions=["revoke"])
    def rotate(self, request, queryset):
        for token in queryset.select_related("person"):
            try:
                new, secret = services.api_token_rotate(token=token, by=request.user)
            except services.TokenRevoked:
                self.message_user(request, gettext("Token %(prefix)s is revoked and stays so; issue a new one with "
                                                   "manage.py issuetoken if %(person)s needs one.")
                                  % {"prefix": token.prefix, "person": token.person}, messages.ERROR)
                continue
            self.log_change(request, token, gettext("Revoked by rotation; replaced by %(prefix)s.")
                            % {"prefix": new.prefix})
            self.log_addition(request, new, gettext("Issued by rotation of %(prefix)s.") % {"prefix": token.prefix})
            messages.warning(request, gettext("New token for %(person)s replacing %(old)s, shown only this once: "
                                              "%(secret)s") % {"person": new.person, "old": token.prefix,
                                                               "secret": secret})
