"""Liveness and readiness for load balancers and the company's monitoring (docs/reliability.md)."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone


def healthz(request):
    return JsonResponse({"status": "ok"})


def _age(moment, now):
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 3)


def _bounded(value, threshold, *, missing_is_bad=False):
    """{"value", "threshold", "ok"}: one readiness figure against its documented limit."""
    ok = (not missing_is_bad) if value is None else value <= threshold
    return {"value": value, "threshold": threshold, "ok": ok}


def readyz(request):
    checks = {}
    ready = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
        ready = False
    try:
        from config.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"unreachable: {exc.__class__.__name__}"
        ready = False
    if checks["database"] == "ok":
        from django.db.models import Min

        from alerts.lanes import shared_settings, workers_disagreeing
        from escalation.models import Deadline, Heartbeat, State
        from escalation.services import oldest_overdue_seconds
        from notifications.models import Delivery, DeliveryStatus

        now = timezone.now()
        overdue = oldest_overdue_seconds()
        checks["oldest_overdue_deadline_seconds"] = overdue
        if overdue is not None and overdue > settings.ESCALATION_STALL_SECONDS:
            checks["escalation"] = f"stalled: a deadline is {overdue:.0f} s overdue"
            ready = False
        else:
            checks["escalation"] = "ok"
        beats = dict(Heartbeat.objects.values_list("name", "at"))
        # A heartbeat never written means that process never ran: not ready.
        figures = {
            "worker_heartbeat_age_seconds": _bounded(_age(beats.get("worker"), now),
                                                     settings.HEARTBEAT_MAX_AGE_SECONDS, missing_is_bad=True),
            "beat_heartbeat_age_seconds": _bounded(_age(beats.get("beat"), now),
                                                   settings.HEARTBEAT_MAX_AGE_SECONDS, missing_is_bad=True),
        }
        undelivered = Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        figures["oldest_undelivered_notification_seconds"] = _bounded(
            _age(undelivered.aggregate(m=Min("created_at"))["m"], now), settings.NOTIFICATION_BACKLOG_SECONDS)
        # Due longer ago than the stall threshold: a sweep should have acted on them by now.
        stale = Deadline.objects.filter(
            state=State.PENDING, due_at__lte=now - timedelta(seconds=settings.ESCALATION_STALL_SECONDS))
        figures["due_unfired_deadlines"] = _bounded(stale.count(), settings.DUE_UNFIRED_MAX_COUNT)
        figures["due_unfired_deadlines"]["oldest_age_seconds"] = overdue
        # A worker with another lane count or queue prefix leaves the alerts this process stores to the sweep.
        disagreeing = workers_disagreeing(max_age_seconds=settings.HEARTBEAT_MAX_AGE_SECONDS)
        figures["alert_worker_settings"] = {"value": disagreeing, "threshold": shared_settings(),
                                            "ok": not disagreeing}
        checks.update(figures)
        failing = [name for name, figure in figures.items() if not figure["ok"]]
        checks["out_of_bounds"] = failing
        ready = ready and not failing
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)
