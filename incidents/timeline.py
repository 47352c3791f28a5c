"""The incident's timeline: the one place that writes it.

Every entry comes through ``record`` (one entry) or ``record_rows`` (many, one
statement); ``row`` builds an unsaved entry for the latter. Entries are
append-only in the database (a trigger refuses UPDATE and DELETE), so what is
written here is what auditors read later.
"""

from django.utils import timezone

from .models import TimelineEntry

FENGHUO = "Fenghuo"  # the actor label when Fenghuo itself acted under the plan's authority


def row(incident, kind, *, actor=None, actor_label="", at=None, detail=None, deadline=None):
    """An unsaved entry: by a person (``actor``), or by Fenghuo or an integration (``actor_label``)."""
    return TimelineEntry(
        incident=incident, kind=kind, actor=actor if actor and actor.is_authenticated else None,
        actor_label=actor_label or ("" if actor else FENGHUO), at=at or timezone.now(),
        detail=detail or {}, deadline=deadline,
    )


def record(incident, kind, **fields):
    entry = row(incident, kind, **fields)
    entry.save()
    return entry


def record_rows(entries):
    """Save many entries in one statement, in the order given: the timeline reads by (at, id)."""
    return TimelineEntry.objects.bulk_create(entries)
