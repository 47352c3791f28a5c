"""What the review computes from the record: figures, timeline highlights, every plan deadline and its margin.

Nothing here is typed by a person: the timeline, the incident's times and its
deadlines are the source, so a review cannot state a time to acknowledge the
record contradicts. Read in the active language where words are produced.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from escalation.models import Deadline, Kind, State
from incidents.models import Incident, TimelineEntry, TimelineKind
from incidents.timeline_text import Names, actor_text, entry_text
from people.models import RoleAssignment

# The entries a review's "timeline highlights" lists (issue 16: first alert, logged, acknowledged, each level
# change with its cause, on-site arrivals, approvals, recovered, resolved).
HIGHLIGHT_KINDS = (TimelineKind.ALERT, TimelineKind.OPENED, TimelineKind.ACKNOWLEDGED, TimelineKind.LEVEL_CHANGED,
                   TimelineKind.CHECKED_IN, TimelineKind.PLAN_APPROVED, TimelineKind.RECOVERED,
                   TimelineKind.STABILITY_CONFIRMED, TimelineKind.RESOLVED)
# Remediation deadlines come after the incident; the review lists the actions themselves instead.
NOT_PLAN_KINDS = ("remediation",)


@dataclass(frozen=True)
class DeadlineOutcome:
    deadline: Deadline
    role_name: str
    # Positive: met that many seconds early; negative: late (missed) by that many; None: neither (cancelled...).
    margin_s: int | None
    # When a missed duty was in the end done (a late check-in, a late decision), else None.
    done_late_at: datetime | None

    @property
    def met(self) -> bool:
        return self.deadline.state == State.MET

    @property
    def missed(self) -> bool:
        return self.deadline.state == State.MISSED


@dataclass(frozen=True)
class Highlight:
    at: datetime
    kind: str
    actor: str
    text: str


@dataclass(frozen=True)
class Figures:
    opened_at: datetime
    first_alert_at: datetime | None
    acknowledged_at: datetime | None
    first_arrival_at: datetime | None
    recovered_at: datetime | None
    resolved_at: datetime | None
    time_to_acknowledge_s: int | None
    time_to_arrive_s: int | None
    time_to_recover_s: int | None
    time_to_resolve_s: int | None
    # Business interruption: from when the fault was discovered until service came back.
    interruption_s: int | None
    affected_branches: int | None
    total_branches: int | None
    deadlines_met: int
    deadlines_missed: int
    deadlines: Sequence[DeadlineOutcome] = field(default_factory=list)

    def as_api(self) -> dict[str, int | None]:
        return {"time_to_acknowledge_s": self.time_to_acknowledge_s, "time_to_arrive_s": self.time_to_arrive_s,
                "time_to_recover_s": self.time_to_recover_s, "time_to_resolve_s": self.time_to_resolve_s,
                "interruption_s": self.interruption_s, "deadlines_met": self.deadlines_met,
                "deadlines_missed": self.deadlines_missed}


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds())


def compute(incident: Incident, entries: Sequence[TimelineEntry], deadlines: Sequence[Deadline]) -> Figures:
    """The figures of ``incident`` from its timeline ``entries`` (oldest first) and its ``deadlines``."""
    first: dict[str, TimelineEntry] = {}
    for entry in entries:
        first.setdefault(entry.kind, entry)
    alert = first.get(TimelineKind.ALERT)
    arrival = first.get(TimelineKind.CHECKED_IN)
    acknowledged_at = incident.acknowledged_at
    # Service is back when it was marked recovered; an incident resolved without that step recovered then.
    recovered_at = incident.recovered_at or incident.resolved_at
    start = incident.opened_at
    outcomes = outcomes_of(incident, entries, deadlines)
    return Figures(
        opened_at=start, first_alert_at=alert.at if alert else None, acknowledged_at=acknowledged_at,
        first_arrival_at=arrival.at if arrival else None, recovered_at=recovered_at,
        resolved_at=incident.resolved_at,
        time_to_acknowledge_s=_seconds(start, acknowledged_at),
        time_to_arrive_s=_seconds(start, arrival.at if arrival else None),
        time_to_recover_s=_seconds(start, recovered_at),
        time_to_resolve_s=_seconds(start, incident.resolved_at),
        interruption_s=_seconds(min(incident.discovered_at, start), recovered_at),
        affected_branches=incident.affected_branches, total_branches=incident.total_branches,
        deadlines_met=sum(1 for o in outcomes if o.met), deadlines_missed=sum(1 for o in outcomes if o.missed),
        deadlines=outcomes,
    )


def outcomes_of(incident: Incident, entries: Sequence[TimelineEntry],
                deadlines: Sequence[Deadline]) -> list[DeadlineOutcome]:
    """Every plan deadline with met / missed and by how much.

    A missed arrival counts its lateness until the first check-in of someone
    holding the role; a missed decision until the plan's decision; a missed
    duty never done until the incident was resolved.
    """
    names = Names(version_id=incident.plan_version_id)
    arrivals = [e for e in entries if e.kind == TimelineKind.CHECKED_IN and e.actor_id]
    decisions = [e for e in entries if e.kind in (TimelineKind.PLAN_APPROVED, TimelineKind.PLAN_REJECTED)]
    holders: dict[str, set[int]] = {}
    missed_roles = {d.role_key for d in deadlines if d.state == State.MISSED and d.kind == Kind.ON_SITE}
    for person_id, role_key in RoleAssignment.objects.filter(role_key__in=missed_roles).values_list("person_id",
                                                                                                   "role_key"):
        holders.setdefault(role_key, set()).add(person_id)
    outcomes = []
    for deadline in deadlines:
        if deadline.kind in NOT_PLAN_KINDS:
            continue
        margin: int | None = None
        done_late: datetime | None = None
        if deadline.state == State.MET and deadline.acted_at is not None:
            margin = round((deadline.due_at - deadline.acted_at).total_seconds())
        elif deadline.state == State.MISSED:
            if deadline.kind == Kind.ON_SITE:
                late = [e.at for e in arrivals if e.at >= deadline.due_at
                        and e.actor_id in holders.get(deadline.role_key, set())]
            elif deadline.kind == Kind.APPROVAL:
                late = [e.at for e in decisions if e.at >= deadline.due_at]
            else:
                late = []
            done_late = min(late) if late else None
            until = done_late or incident.resolved_at or deadline.acted_at
            margin = -round((until - deadline.due_at).total_seconds()) if until else None
        outcomes.append(DeadlineOutcome(deadline=deadline, role_name=names.role(deadline.role_key)
                                        if deadline.role_key else "", margin_s=margin, done_late_at=done_late))
    return outcomes


def highlights(incident: Incident, entries: Sequence[TimelineEntry]) -> list[Highlight]:
    """The timeline's milestones, in the active language; only the first monitoring alert."""
    names = Names(version_id=incident.plan_version_id)
    seen_alert = False
    shown = []
    for entry in entries:
        if entry.kind not in HIGHLIGHT_KINDS:
            continue
        if entry.kind == TimelineKind.ALERT:
            if seen_alert:
                continue
            seen_alert = True
        shown.append(Highlight(at=entry.at, kind=entry.kind, actor=actor_text(entry), text=entry_text(entry, names)))
    return shown
