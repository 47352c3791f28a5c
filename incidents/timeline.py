"""The incident's timeline: the one place that writes it.

Every entry comes through ``record`` (one entry) or ``record_rows`` (many, one
statement); ``row`` builds an unsaved entry for the latter. Entries are
append-only in the database (a trigger refuses UPDATE and DELETE), so what is
written here is what auditors read later.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from .models import Incident, TimelineEntry

if TYPE_CHECKING:
    from escalation.models import Deadline
    from people.models import Person

FENGHUO = "Fenghuo"  # the actor label when Fenghuo itself acted under the plan's authority


def row(incident: Incident, *, kind: str, actor: "Person | None" = None, actor_label: str = "",
        at: datetime | None = None, detail: dict[str, Any] | None = None,
        deadline: "Deadline | None" = None) -> TimelineEntry:
    """An unsaved entry: by a person (``actor``), or by Fenghuo or an integration (``actor_label``)."""
    return TimelineEntry(
        incident=incident, kind=kind, actor=actor if actor and actor.is_authenticated else None,
        actor_label=actor_label or ("" if actor else FENGHUO), at=at or timezone.now(),
        detail=detail or {}, deadline=deadline,
    )


def record(incident: Incident, *, kind: str, **fields: Any) -> TimelineEntry:
    entry = row(incident, kind=kind, **fields)
    entry.save()
    return entry


def record_rows(entries: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """Save many entries in one statement, in the order given: the timeline reads by (at, id)."""
    return TimelineEntry.objects.bulk_create(entries)
