"""What the office dashboard reads. A fixed number of queries, however many incidents are open."""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from escalation.models import Deadline, Kind, State
from incidents.models import Incident, PlanStatus, ResponsePlan, TimelineEntry, TimelineKind
from incidents.states import OPEN_STATUSES, Status
from plan.models import Category, Level

from .models import Announcement

# The plan format fixes these four keys; rank 1 is the most severe.
DEFAULT_RANKS = {"red": 1, "orange": 2, "yellow": 3, "blue": 4}
ALARM_EVENTS = 30
RECENT_ANNOUNCEMENTS = 5


@dataclass(frozen=True)
class Filters:
    """The dashboard's query string: ``?category=system&level=red&drill=0&wall=1``."""

    category: str = ""
    level: str = ""
    # "" shows drills and real incidents alike, "1" only drills, "0" no drills.
    drill: str = ""
    wall: bool = False

    @classmethod
    def from_query(cls, query):
        drill = query.get("drill", "")
        return cls(
            category=query.get("category", "").strip()[:32],
            level=query.get("level", "").strip()[:32],
            drill=drill if drill in {"0", "1"} else "",
            wall=query.get("wall", "") in {"1", "true", "yes"},
        )

    def query_string(self):
        pairs = [("category", self.category), ("level", self.level), ("drill", self.drill)]
        return urlencode([(key, value) for key, value in pairs if value] + ([("wall", "1")] if self.wall else []))

    def incidents(self):
        incidents = Incident.objects.open()
        if self.category:
            incidents = incidents.filter(category__key=self.category)
        if self.drill:
            incidents = incidents.filter(is_drill=self.drill == "1")
        return incidents


@dataclass
class Row:
    """One incident as the dashboard shows it, every text worked out here.

    Rendering 500 rows is the dashboard's main cost: the template only prints
    these fields (no filters, no per-row translation tags).
    """

    incident: Incident
    category_name: str = ""
    status_display: str = ""
    opened_iso: str = ""
    age_text: str = ""
    deadline_text: str = ""
    due_iso: str = ""
    due_clock: str = ""
    missed: list = field(default_factory=list)
    on_site: list = field(default_factory=list)
    plan_id: int | None = None
    plan_text: str = ""
    plan_since_iso: str = ""
    plan_age_text: str = ""


@dataclass
class LevelGroup:
    key: str
    rank: int
    name: str
    color: str
    rows: list = field(default_factory=list)


def dashboard_etag(filters):
    """A cheap fingerprint of everything the fragment shows; one query.

    Every change to an incident writes a timeline row in its transaction, so the
    newest timeline id moves with it; the open count catches closures, the
    newest deadline action catches silent cancellations, the newest
    announcement the office's posts. Time-dependent text (ages, countdowns,
    overdue marks) is drawn by the browser from absolute times, so an unchanged
    fragment stays correct.
    """
    timeline, incident, deadline = TimelineEntry._meta.db_table, Incident._meta.db_table, Deadline._meta.db_table
    announcement = Announcement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT (SELECT max(id) FROM {timeline}),
                       (SELECT count(*) FROM {incident} WHERE status = ANY(%s)),
                       (SELECT max(d.acted_at) FROM {deadline} d JOIN {incident} i ON i.id = d.incident_id
                         WHERE i.status = ANY(%s)),
                       (SELECT max(id) FROM {announcement})""",
            [sorted(OPEN_STATUSES), sorted(OPEN_STATUSES)],
        )
        row = cursor.fetchone()
    fingerprint = "|".join(str(part) for part in (*row, get_language(), filters.query_string(), "v1"))
    return hashlib.sha1(fingerprint.encode()).hexdigest()[:20]


def open_incidents(filters):
    """The open incidents, grouped by level (red first), with what the office needs to see for each."""
    deadlines = Deadline.objects.filter(
        Q(state__in=[State.PENDING, State.MISSED]) | Q(kind=Kind.ON_SITE, state=State.MET)
    ).select_related("met_by").order_by("due_at", "id")
    check_ins = TimelineEntry.objects.filter(kind=TimelineKind.CHECKED_IN).select_related("actor").order_by("at", "id")
    incidents = list(
        filters.incidents()
        .select_related("category", "level", "plan_version")
        .prefetch_related(
            Prefetch("deadlines", queryset=deadlines, to_attr="dashboard_deadlines"),
            Prefetch("timeline", queryset=check_ins, to_attr="dashboard_check_ins"),
            Prefetch("response_plans", queryset=ResponsePlan.objects.filter(status=PlanStatus.PENDING)
                     .select_related("proposed_by"), to_attr="dashboard_pending_plans"),
            "plan_version__roles",
            "plan_version__levels",
        )
        .order_by("level__rank", "opened_at", "id")
    )
    counts = {}
    for incident in incidents:
        counts[incident.level.key] = counts.get(incident.level.key, 0) + 1
    if filters.level:
        incidents = [i for i in incidents if i.level.key == filters.level]
    groups, names, words, now = {}, {}, Words(), timezone.now()
    for incident in incidents:
        level = incident.level
        group = groups.setdefault(level.key, LevelGroup(key=level.key, rank=level.rank, name=level.name,
                                                        color=level.color))
        group.rows.append(_row(incident, names, words, now))
    return sorted(groups.values(), key=lambda g: g.rank), counts, incidents


def _names(version, cache):
    """Role and level names of a plan version, worked out once per version, not once per incident."""
    if version.pk not in cache:
        cache[version.pk] = ({role.key: role.name for role in version.roles.all()},
                             {level.key: level.name for level in version.levels.all()})
    return cache[version.pk]


class Words:
    """Every per-row word, translated once per request.

    ``get_status_display()`` and friends translate every choice label on each
    call (Django hashes the choices); over 500 rows that was most of the time.
    """

    def __init__(self):
        self.status = {value: str(label) for value, label in Status.choices}
        self.kind = {value: str(label) for value, label in Kind.choices}
        self.min, self.h, self.d = _("min"), _("h"), _("d")
        self.missed = _("Missed: %(kind)s · %(role)s")
        self.escalates = _("Escalates to %(level)s")
        self.awaiting = _("Awaiting %(role)s")

    def age(self, seconds):
        """Like the ticker in dashboard.js: "12 min", "3 h 12 min", "2 d 3 h"."""
        minutes = int(max(0, seconds) // 60)
        if minutes < 60:
            return f"{minutes} {self.min}"
        hours = minutes // 60
        if hours < 24:
            return f"{hours} {self.h} {minutes % 60} {self.min}"
        return f"{hours // 24} {self.d} {hours % 24} {self.h}"


def _row(incident, cache, words, now):
    roles, levels = _names(incident.plan_version, cache)
    if ("category", incident.category_id) not in cache:
        cache["category", incident.category_id] = incident.category.name
    row = Row(incident=incident, category_name=cache["category", incident.category_id],
              status_display=words.status.get(incident.status, incident.status),
              opened_iso=incident.opened_at.isoformat(), age_text=words.age((now - incident.opened_at).total_seconds()))
    pending = [d for d in incident.dashboard_deadlines if d.state == State.PENDING]
    for deadline in incident.dashboard_deadlines:
        if deadline.state == State.MISSED:
            row.missed.append({
                "id": deadline.pk, "due_iso": deadline.due_at.isoformat(),
                "due_clock": timezone.localtime(deadline.due_at).strftime("%H:%M"),
                "text": words.missed % {"kind": words.kind.get(deadline.kind, deadline.kind),
                                        "role": roles.get(deadline.role_key, deadline.role_key)},
            })
    if pending:
        deadline = pending[0]
        if deadline.kind == Kind.ESCALATION:
            row.deadline_text = words.escalates % {
                "level": levels.get(deadline.target_level_key, deadline.target_level_key)}
        else:
            row.deadline_text = f"{words.kind.get(deadline.kind)}: {roles.get(deadline.role_key, deadline.role_key)}"
        row.due_iso = deadline.due_at.isoformat()
        row.due_clock = timezone.localtime(deadline.due_at).strftime("%H:%M:%S")
    seen = set()
    arrivals = [(e.actor, e.at) for e in incident.dashboard_check_ins if e.actor_id]
    arrivals += [(d.met_by, d.acted_at) for d in incident.dashboard_deadlines
                 if d.kind == Kind.ON_SITE and d.state == State.MET and d.met_by_id]
    for person, _at in sorted(arrivals, key=lambda pair: pair[1]):
        if person.pk not in seen:
            seen.add(person.pk)
            row.on_site.append({"username": person.username, "name": person.display_name})
    if incident.dashboard_pending_plans:
        plan = incident.dashboard_pending_plans[0]
        row.plan_id = plan.pk
        row.plan_text = words.awaiting % {"role": roles.get(plan.approver_role_key, plan.approver_role_key)}
        row.plan_since_iso = plan.proposed_at.isoformat()
        row.plan_age_text = words.age((now - plan.proposed_at).total_seconds())
    return row


def alarm_events(incidents, levels):
    """Openings and level rises of the shown incidents, newest first: what makes the dashboard sound.

    Lowering a level is not an alarm. Each event is (timeline id, level key, rank).
    """
    if not incidents:
        return []
    ranks = {**DEFAULT_RANKS, **{level.key: level.rank for level in levels}}
    names = {level.key: level.name for level in levels}
    entries = (TimelineEntry.objects.filter(incident_id__in=[i.pk for i in incidents],
                                            kind__in=[TimelineKind.OPENED, TimelineKind.LEVEL_CHANGED])
               .order_by("-id").values_list("id", "kind", "detail")[:ALARM_EVENTS])
    events = []
    for entry_id, kind, detail in entries:
        detail = detail or {}
        if kind == TimelineKind.OPENED:
            level = detail.get("level", "")
        else:
            level = detail.get("to", "")
            if ranks.get(level, 9) >= ranks.get(detail.get("from", ""), 9):
                continue
        events.append({"id": entry_id, "level": level, "rank": ranks.get(level, 9), "name": names.get(level, level)})
    return events


def plan_choices():
    """Levels and categories of the active plan, for the filters and the counts bar."""
    levels = list(Level.objects.filter(version__is_active=True).order_by("rank"))
    categories = list(Category.objects.filter(version__is_active=True).order_by("position"))
    return levels, categories


def recent_announcements(levels, limit=RECENT_ANNOUNCEMENTS):
    return _with_level_names(Announcement.objects.select_related("incident", "created_by")[:limit], levels)


def announcements_page(levels, limit=200):
    return _with_level_names(Announcement.objects.select_related("incident__category", "created_by")[:limit], levels)


def _with_level_names(announcements, levels):
    """The announced level's name and colour (the incident may have moved on since)."""
    by_key = {level.key: level for level in levels}
    announcements = list(announcements)
    for announcement in announcements:
        level = by_key.get(announcement.level_key)
        announcement.level_name = level.name if level else announcement.level_key
        announcement.level_color = level.color if level else "#59636e"
    return announcements


def pending_approvals(person):
    """Response plans waiting for a decision by a role ``person`` holds, oldest first."""
    approvals = Deadline.objects.filter(kind=Kind.APPROVAL).exclude(state=State.CANCELLED).order_by("-started_at")
    return list(
        ResponsePlan.objects.filter(status=PlanStatus.PENDING, approver_role_key__in=person.role_keys())
        .select_related("incident__level", "incident__category", "incident__plan_version", "proposed_by")
        .prefetch_related(Prefetch("incident__deadlines", queryset=approvals, to_attr="approval_deadlines"),
                          "incident__plan_version__roles")
        .order_by("proposed_at", "id")
    )


def approval_overdue_at(plan, minutes):
    return plan.proposed_at + timedelta(minutes=minutes)


def is_overdue(plan, minutes, now=None):
    """Waiting longer than the setting, or the escalation engine already marked its deadline missed."""
    now = now or timezone.now()
    if now >= approval_overdue_at(plan, minutes):
        return True
    return any(d.state == State.MISSED for d in getattr(plan.incident, "approval_deadlines", [])
               if d.started_at >= plan.proposed_at - timedelta(seconds=1))
