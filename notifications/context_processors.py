"""The bell on every page: how many of the signed-in person's notifications are unread."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .answers import unread_count


def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: fragments and pages that do not show the bell pay no query for it.
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
            "live_poll_ms": int(settings.LIVE_POLL_SECONDS * 1000)}
