"""The client's address behind the configured number of reverse proxies (settings.PROXY_COUNT).

Each proxy appends the address it received the request from to X-Forwarded-For, so with N proxies
the client is the N-th entry from the right. Entries further left were written by the client and
are not believed. DRF's throttles apply the same rule through NUM_PROXIES.
"""

from django.conf import settings


def client_address(request):
    count = settings.PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and forwarded:
        return forwarded[-min(count, len(forwarded))]
    return request.META.get("REMOTE_ADDR")
