"""Reads of the deadline table for monitoring (``/metrics``, ``/readyz``)."""

from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from .models import Deadline, State


def deadline_metrics() -> dict[str, Any]:
    """The figures ``/metrics`` exposes, read from the table (the truth), in two queries."""
    now = timezone.now()
    by_state = dict(Deadline.objects.order_by().values_list("state").annotate(n=Count("id")))
    oldest = Deadline.objects.filter(state=State.PENDING, due_at__lte=now).aggregate(m=Min("due_at"))["m"]
    return {
        "oldest_overdue_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        "pending": by_state.get(State.PENDING, 0),
        "acted": {state: by_state.get(state, 0) for state in State.values if state != State.PENDING},
    }
