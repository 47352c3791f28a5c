"""The timeline's hash chain: each entry seals its content and the entry before it (issue 16, item 5).

An entry's ``hash`` is the SHA-256 of its canonical content (incident, kind,
at, actor, actor label, deadline, detail) and of ``prev_hash``, the hash of
the previous entry of the same incident (empty for the first). Changing,
inserting or removing an entry in the database breaks every hash after it;
``verify`` finds the first entry that no longer matches.

Order is the order written, which is the id order within one incident:
``seal`` runs under a per-incident lock held until the writing transaction
commits (``lock``), so two writers never both take the same entry as their
predecessor (a fork), even when neither holds the incident's row lock.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.utils import timezone

if TYPE_CHECKING:
    from .models import TimelineEntry

# The first half of the PostgreSQL advisory lock key: "timeline chain" (any fixed number unused elsewhere).
LOCK_NAMESPACE = 1_716_160_001
FORMAT = 1  # bumped if the canonical form ever changes; part of what is hashed


def _plain(value: Any) -> Any:
    """The JSON value as the database gives it back: floats that are whole numbers read as integers.

    PostgreSQL's jsonb writes ``1e+20`` back as ``100000000000000000000``; hashing
    whole floats as integers makes the hash of what was written equal the hash of
    what is read.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _instant(at: datetime) -> str:
    if timezone.is_naive(at):
        at = timezone.make_aware(at, UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(*, incident_id: int, kind: str, at: datetime, actor_id: int | None, actor_label: str,
              deadline_id: int | None, detail: Any, prev_hash: str) -> bytes:
    """The bytes an entry's hash is taken of: sorted-key JSON, UTF-8, no spaces, times in UTC to the microsecond."""
    content = {
        "format": FORMAT, "incident": incident_id, "kind": kind, "at": _instant(at), "actor": actor_id,
        "actor_label": actor_label or "", "deadline": deadline_id,
        # Round-tripped through JSON as the JSONField stores it: tuples become lists, keys strings.
        "detail": _plain(json.loads(json.dumps(detail))), "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: "TimelineEntry", prev_hash: str) -> str:
    return hashlib.sha256(canonical(
        incident_id=entry.incident_id, kind=entry.kind, at=entry.at, actor_id=entry.actor_id,
        actor_label=entry.actor_label, deadline_id=entry.deadline_id, detail=entry.detail, prev_hash=prev_hash,
    )).hexdigest()


def lock(incident_ids: Iterable[int]) -> None:
    """Hold each incident's chain until the current transaction ends; call inside ``transaction.atomic``.

    PostgreSQL: a transaction-level advisory lock per incident, taken in id order
    so two writers of the same incidents never wait on each other in a circle. Not
    the incident's row lock: a writer that does not hold it (a note, a delivery's
    answer) would otherwise take it late, after other locks, and could deadlock
    with a service that holds it. SQLite: the settings open every transaction
    with BEGIN IMMEDIATE, which already lets one writer in at a time.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted({incident_id % 2_147_483_647 for incident_id in incident_ids})
    with connection.cursor() as cursor:
        # One statement for a batch of incidents (an alert storm's), locking in key order.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, key) FROM (SELECT unnest(%s::int[]) AS key ORDER BY 1) AS k",
                       [LOCK_NAMESPACE, keys])


def heads(incident_ids: Iterable[int]) -> dict[int, str]:
    """The hash of each incident's last entry ("" before the first), in one query; read under ``lock``.

    A statement of its own, after the lock's: in READ COMMITTED each statement
    sees what was committed when it began, so it sees the last writer's rows.
    """
    from .models import TimelineEntry

    ids = set(incident_ids)
    found: dict[int, str] = dict.fromkeys(ids, "")
    latest = (TimelineEntry.objects.filter(incident_id__in=ids).values("incident_id")
              .annotate(last=models.Max("id")).values_list("last", flat=True))
    found.update(TimelineEntry.objects.filter(id__in=latest).values_list("incident_id", "hash"))
    return found


def seal(entries: Sequence["TimelineEntry"]) -> None:
    """Give unsaved entries their ``prev_hash`` and ``hash``, in the order given; call under ``lock``."""
    last = heads(entry.incident_id for entry in entries)
    for entry in entries:
        entry.prev_hash = last[entry.incident_id]
        entry.hash = entry_hash(entry, entry.prev_hash)
        last[entry.incident_id] = entry.hash


# --- checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first entry of a chain that does not match, and why."""

    incident_id: int
    entry_id: int
    kind: str
    at: datetime
    reason: str  # "content" (its hash is not its content's) or "link" (its prev_hash is not the entry before it)

    def describe(self) -> str:
        return (f"incident {self.incident_id}: entry {self.entry_id} ({self.kind}, {_instant(self.at)}) "
                f"does not match: {'its content was changed' if self.reason == 'content' else 'the entry before it is not the one it was chained to'}")


@dataclass(frozen=True)
class ChainState:
    incident_id: int
    verified: bool
    entries: int
    last_hash: str
    first_break: Break | None = None

    def as_dict(self) -> dict[str, Any]:
        broken = self.first_break
        return {"verified": self.verified, "entries": self.entries, "last_hash": self.last_hash,
                "first_broken_entry": broken.entry_id if broken else None}


FIELDS = ("id", "incident_id", "kind", "at", "actor_id", "actor_label", "deadline_id", "detail", "prev_hash", "hash")


def _check(incident_id: int, rows: Iterable[tuple[Any, ...]]) -> ChainState:
    previous, count, first_break = "", 0, None
    for entry_id, _incident, kind, at, actor_id, actor_label, deadline_id, detail, prev_hash, stored in rows:
        count += 1
        if first_break is None:
            computed = hashlib.sha256(canonical(
                incident_id=incident_id, kind=kind, at=at, actor_id=actor_id, actor_label=actor_label,
                deadline_id=deadline_id, detail=detail, prev_hash=prev_hash,
            )).hexdigest()
            if prev_hash != previous:
                first_break = Break(incident_id, entry_id, kind, at, "link")
            elif computed != stored:
                first_break = Break(incident_id, entry_id, kind, at, "content")
        previous = stored
    return ChainState(incident_id=incident_id, verified=first_break is None, entries=count, last_hash=previous,
                      first_break=first_break)


def verify(incident_id: int) -> ChainState:
    """Recompute one incident's chain from its stored entries, oldest written first."""
    from .models import TimelineEntry

    rows = TimelineEntry.objects.filter(incident_id=incident_id).order_by("id").values_list(*FIELDS)
    return _check(incident_id, rows.iterator(chunk_size=2000))


def verify_all(incident_ids: Iterable[int] | None = None) -> Iterator[ChainState]:
    """Every incident's chain (or the given ones'), in incident id order."""
    from .models import Incident

    ids = sorted(incident_ids) if incident_ids is not None else Incident.objects.order_by("id").values_list(
        "id", flat=True)
    for incident_id in ids:
        yield verify(incident_id)
