"""Liveness and readiness for load balancers and the company's monitoring."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    return JsonResponse({"status": "ok"})


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
        from escalation.services import oldest_overdue_seconds

        overdue = oldest_overdue_seconds()
        checks["oldest_overdue_deadline_seconds"] = overdue
        if overdue is not None and overdue > settings.ESCALATION_STALL_SECONDS:
            checks["escalation"] = f"stalled: a deadline is {overdue:.0f} s overdue"
            ready = False
        else:
            checks["escalation"] = "ok"
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)
