"""DRF throttles whose rates are read from settings on every request.

DRF's own classes copy DEFAULT_THROTTLE_RATES once, at import; reading ``settings.API_THROTTLE_RATES``
each time lets the environment (and a test that deliberately hammers) set the rate. A 429 carries
Retry-After, as the monitoring hooks' own rate limit does.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework import exceptions, permissions, throttling

if TYPE_CHECKING:  # DRF's views import the throttles named in settings: no import back at run time
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _FromSettings:
    scope: str | None  # set by the throttle class this is mixed into

    def get_rate(self) -> str | None:
        rate = settings.API_THROTTLE_RATES.get(self.scope) if self.scope else None
        return None if not rate or rate.lower() == "none" else rate


class AnonRateThrottle(_FromSettings, throttling.AnonRateThrottle):
    """Callers without a session or personal token, counted per client address."""


class UserRateThrottle(_FromSettings, throttling.UserRateThrottle):
    """Signed-in people and personal tokens, counted per person."""


class IsAuthenticatedAfterAnonThrottle(permissions.IsAuthenticated):
    """IsAuthenticated that first counts an unauthenticated caller against the anonymous rate.

    DRF checks permissions before throttles, so on an API where everything needs a sign-in the
    anonymous throttle would never run: a token guesser would get endless 401s. Here a caller with
    no (or a wrong) token spends the anonymous budget first and gets 429 with Retry-After when over.
    """

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        try:
            authenticated = bool(request.user and request.user.is_authenticated)
        except exceptions.AuthenticationFailed:
            self._count_anonymous(request, view)
            raise
        if not authenticated:
            self._count_anonymous(request, view)
        return authenticated

    @staticmethod
    def _count_anonymous(request: "Request", view: "APIView") -> None:
        count_anonymous(request, view=view)


class _UnauthenticatedThrottle(AnonRateThrottle):
    """The anonymous budget, for a caller already known not to be signed in (request.user is not read)."""

    def get_cache_key(self, request: "Request", view: "APIView") -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def count_anonymous(request: "Request", *, view: "APIView | None" = None) -> None:
    """Spend one request of the caller's anonymous budget; Throttled (429 + Retry-After) when it is used up."""
    throttle = _UnauthenticatedThrottle()
    # The stubs want a view; DRF's rate throttles never read it, and authentication has none to give.
    if not throttle.allow_request(request, view):  # type: ignore[arg-type]
        raise exceptions.Throttled(throttle.wait())
