"""The escalation engine's part of ``/metrics`` (text exposition format 0.0.4) and the scraper's check.

The route is the reports app's (``reports/metrics.py``), one layer up, which adds the figures of the apps
above this one (incidents, notifications, alerts) to these lines.
"""

import hmac

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound

from .selectors import deadline_metrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def scraper_refusal(request):
    """None when the request carries ``Authorization: Bearer $METRICS_TOKEN``, else the response to send.

    Without METRICS_TOKEN the endpoint is switched off: 404 for everyone, as if it did not exist, so an
    unconfigured deployment reveals nothing and no empty token can ever match.
    """
    expected = settings.METRICS_TOKEN
    if not expected:
        return HttpResponseNotFound("metrics are disabled: set METRICS_TOKEN\n", content_type="text/plain")
    scheme, _sep, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode()):
        return None
    response = HttpResponse("send Authorization: Bearer <METRICS_TOKEN>\n", status=401, content_type="text/plain")
    response["WWW-Authenticate"] = 'Bearer realm="fenghuo-metrics"'
    return response


def deadline_lines() -> list[str]:
    figures = deadline_metrics()
    lines = [
        "# HELP fenghuo_oldest_overdue_deadline_seconds Seconds the oldest pending deadline is past its due time "
        "(0 when none is overdue).",
        "# TYPE fenghuo_oldest_overdue_deadline_seconds gauge",
        f"fenghuo_oldest_overdue_deadline_seconds {figures['oldest_overdue_seconds']:.3f}",
        "# HELP fenghuo_escalation_stall_threshold_seconds Overdue age at which /readyz reports the engine stalled.",
        "# TYPE fenghuo_escalation_stall_threshold_seconds gauge",
        f"fenghuo_escalation_stall_threshold_seconds {settings.ESCALATION_STALL_SECONDS}",
        "# HELP fenghuo_pending_deadlines Deadlines not yet met, acted on or cancelled.",
        "# TYPE fenghuo_pending_deadlines gauge",
        f"fenghuo_pending_deadlines {figures['pending']}",
        "# HELP fenghuo_deadlines_acted_total Deadlines that left the pending state, by how.",
        "# TYPE fenghuo_deadlines_acted_total counter",
    ]
    lines += [f'fenghuo_deadlines_acted_total{{state="{state}"}} {n}' for state, n in figures["acted"].items()]
    return lines

