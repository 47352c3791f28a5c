"""Request bodies: their announced length, and draining one that is refused so the client reads the answer."""

from django.http import HttpRequest

# A refused body is read and thrown away up to this much, so the client reads the 413 instead of
# a connection reset while it is still sending (a "broken pipe"). Beyond it the connection is
# simply closed: nginx in front refuses such bodies itself (deploy/nginx.conf, client_max_body_size).
DRAIN_MAX_BYTES = 16 * 1024 * 1024


def content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def drain_body(request: HttpRequest) -> None:
    """Read and discard what is left of the body (bounded by DRAIN_MAX_BYTES)."""
    if content_length(request) > DRAIN_MAX_BYTES:
        return
    stream = request.META.get("wsgi.input")
    remaining = content_length(request)
    while stream is not None and remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            break
        remaining -= len(chunk)
