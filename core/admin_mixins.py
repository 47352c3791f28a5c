"""Admin building blocks every app uses: what happened is read here, never rewritten.

Audit rows (alerts, incidents and their timeline, notifications, deliveries,
plan versions, tokens) are written only by the services, which record who did
what. The admin shows them; it adds, edits, deletes and reverts none of them.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose revert needs the right to change the row.

    simple-history's "revert" page saves whatever is POSTed to it, and checks
    only that the user may *view* the history; it also writes back every field
    of the old version, read-only ones included (an old token hash, an unset
    ``revoked_at``, an incident's old status). So a POST there is refused unless
    this admin allows changing history, which read-only admins never do.
    """

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str,
                          extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "POST" and not self.has_change_history_permission(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyMixin:
    """Shown, never added, changed or deleted here: the services are the only writers of audit rows."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_history_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyMixin):
    """An inline of audit rows under their parent: listed, never edited."""

    extra = 0
    can_delete = False
