"""``/metrics``: Prometheus exposition (format 0.0.4) behind ``Authorization: Bearer $METRICS_TOKEN``.

The escalation engine's own lines (escalation/views.py), then what the office watches between reports:
open incidents by level, deadlines pending and overdue by kind, the notification backlog and delivery
failures by channel, alert intake, and the age of the worker and beat heartbeats. Every figure is read
from the tables in a fixed number of queries (six, plus the engine's two). docs/metrics.md has Grafana
panels and alerting rules built on them.
"""

from typing import Any

from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from alerts.models import Integration
from escalation.models import Deadline, Heartbeat, Kind, State
from escalation.views import CONTENT_TYPE, deadline_lines, scraper_refusal
from incidents.models import Incident
from notifications.models import ChannelKind, Delivery, DeliveryStatus
from plan.document import LEVEL_RANKS

BACKLOG = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
DELIVERED = (DeliveryStatus.SENT, DeliveryStatus.COALESCED)
HEARTBEATS = ("worker", "beat")


def _family(name: str, kind: str, help_text: str, samples: list[tuple[str, float | int]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        number = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"{name}{labels} {number}")
    return lines


def upper_layer_lines() -> list[str]:
    now = timezone.now()
    open_by_level = dict(Incident.objects.open().filter(is_drill=False).order_by()
                         .values_list("level__key").annotate(n=Count("id")))
    open_drills = Incident.objects.open().filter(is_drill=True).count()
    deadlines: dict[str, dict[str, Any]] = {row["kind"]: dict(row) for row in Deadline.objects.filter(state=State.PENDING).order_by()
                 .values("kind").annotate(pending=Count("id"), overdue=Count("id", filter=Q(due_at__lte=now)))}
    deliveries: dict[tuple[str, str], int] = {
        (row["kind"], row["status"]): row["n"]
        for row in Delivery.objects.order_by().values("kind", "status").annotate(n=Count("id"))}
    intake = Integration.objects.aggregate(alerts=Sum("alerts_received"), rejected=Sum("requests_rejected"),
                                           opened=Sum("incidents_opened"))
    beats = dict(Heartbeat.objects.filter(name__in=HEARTBEATS).values_list("name", "at"))
    kinds = [k for k in Kind.values if k in deadlines] or [Kind.ON_SITE]
    channels = ChannelKind.values

    lines = _family("fenghuo_open_incidents", "gauge", "Open incidents (not drills) by their current level.",
                    [(f'{{level="{key}"}}', open_by_level.get(key, 0)) for key in reversed(LEVEL_RANKS)])
    lines += _family("fenghuo_open_drills", "gauge", "Open drill incidents.", [("", open_drills)])
    lines += _family("fenghuo_deadlines_pending", "gauge", "Pending deadlines by kind.",
                     [(f'{{kind="{k}"}}', deadlines.get(k, {}).get("pending", 0)) for k in kinds])
    lines += _family("fenghuo_deadlines_overdue", "gauge",
                     "Pending deadlines already past their due time, by kind (the sweep acts on them within seconds).",
                     [(f'{{kind="{k}"}}', deadlines.get(k, {}).get("overdue", 0)) for k in kinds])
    lines += _family("fenghuo_notification_backlog", "gauge", "Deliveries waiting to be sent or being sent, by channel.",
                     [(f'{{channel="{c}"}}', sum(deliveries.get((c, s), 0) for s in BACKLOG)) for c in channels])
    lines += _family("fenghuo_notification_deliveries_failed_total", "counter",
                     "Deliveries that failed for good (every attempt and fall-back used), by channel.",
                     [(f'{{channel="{c}"}}', deliveries.get((c, DeliveryStatus.FAILED), 0)) for c in channels])
    lines += _family("fenghuo_notification_deliveries_sent_total", "counter",
                     "Deliveries sent (alone or within another message), by channel.",
                     [(f'{{channel="{c}"}}', sum(deliveries.get((c, s), 0) for s in DELIVERED)) for c in channels])
    lines += _family("fenghuo_alerts_received_total", "counter",
                     "Alerts received from every monitoring integration (rate() gives the intake rate).",
                     [("", intake["alerts"] or 0)])
    lines += _family("fenghuo_alert_requests_rejected_total", "counter",
                     "Monitoring requests refused (rate limit, bad token, bad body).", [("", intake["rejected"] or 0)])
    lines += _family("fenghuo_alert_incidents_opened_total", "counter", "Incidents opened by monitoring alerts.",
                     [("", intake["opened"] or 0)])
    # A heartbeat never written is reported as -1: that process never ran (alert on it like a stale one).
    lines += _family("fenghuo_heartbeat_age_seconds", "gauge",
                     "Seconds since the worker ran / beat sent the heartbeat task; -1 when it never has.",
                     [(f'{{process="{name}"}}',
                       max(0.0, (now - beats[name]).total_seconds()) if name in beats else -1.0)
                      for name in HEARTBEATS])
    return lines


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if (refusal := scraper_refusal(request)) is not None:
        return refusal
    return HttpResponse("\n".join(deadline_lines() + upper_layer_lines()) + "\n", content_type=CONTENT_TYPE)
