"""The incident's timeline: the one place that writes it.

Every entry comes through ``record`` (one entry) or ``record_rows`` (many, one
statement); ``row`` builds an unsaved entry for the latter. Entries are
append-only in the database (a trigger refuses UPDATE and DELETE), so what is
written here is what auditors read later. Each entry is chained to the one
written before it (``incidents.chain``): the chain's lock and seal happen here,
in the writer's transaction, so no other path can write an unchained entry.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from . import chain

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
    return record_rows([row(incident, kind=kind, **fields)])[0]


def record_rows(entries: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """Save many entries in one statement, in the order given: the timeline reads by (at, id).

    The chain's lock lasts until the caller's transaction commits (the atomic
    block here only makes sure there is one,
    without a savepoint of its own), so the next writer of the same
    incident reads this batch's last hash as its predecessor.
    """
    if not entries:
        return []
    with transaction.atomic(savepoint=False):
        chain.lock(entry.incident_id for entry in entries)
        chain.seal(entries)
        return TimelineEntry.objects.bulk_create(entries)
