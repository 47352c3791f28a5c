"""What the office dashboard reads. A fixed number of queries, however many incidents are open."""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Manager, Max, Prefetch, Q, QuerySet, Value
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from escalation.models import RESPONSE_KINDS, Deadline, Kind, State
from incidents.models import Incident, PlanStatus, ResponsePlan, TimelineEntry, TimelineKind
from incidents.states import OPEN_STATUSES, Status
from notifications.models import Announcement
from plan.document import LEVEL_RANKS
from plan.models import Category, Level, Role
from plan.text import current_language_is_chinese

if TYPE_CHECKING:
    from people.models import Person

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
    def from_query(cls, query: Mapping[str, str]) -> "Filters":
        drill = query.get("drill", "")
        return cls(
            category=query.get("category", "").strip()[:32],
            level=query.get("level", "").strip()[:32],
            drill=drill if drill in {"0", "1"} else "",
            wall=query.get("wall", "") in {"1", "true", "yes"},
        )

    def query_string(self) -> str:
        pairs = [("category", self.category), ("level", self.level), ("drill", self.drill)]
        return urlencode([(key, value) for key, value in pairs if value] + ([("wall", "1")] if self.wall else []))

    def incidents(self) -> QuerySet[Incident]:
        incidents = Incident.objects.open()
        if self.category:
            incidents = incidents.filter(category__key=self.category)
        if self.drill:
            incidents = incidents.filter(is_drill=self.drill == "1")
        return incidents


@dataclass(slots=True)
class Row:
    """One incident as the dashboard shows it, every text worked out here.

    Rendering 500 rows is the dashboard's main cost: rows are read as plain
    values (no model instances) and the template only prints these fields (no
    filters, no per-row translation tags).
    """

    id: int
    title: str
    status: str
    is_drill: bool
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
    plan_decide_by_iso: str = ""  # the approval deadline: past it, the waiting plan shows as overdue
    plan_age_text: str = ""


@dataclass
class LevelGroup:
    key: str
    rank: int
    name: str
    color: str
    rows: list = field(default_factory=list)
    rows_html: str = ""  # the rows' <tr>, written by dashboard.rows


def dashboard_etag(filters: Filters) -> str:
    """A cheap fingerprint of everything the fragment shows; one query.

    Every change to an incident writes a timeline row in its transaction, so the
    newest timeline id moves with it; the open count catches closures, the
    newest deadline action catches silent cancellations, the newest
    announcement the office's posts. Time-dependent text (ages, countdowns,
    overdue marks) is drawn by the browser from absolute times, so an unchanged
    fragment stays correct.
    """
    still_open = Incident.objects.filter(status__in=OPEN_STATUSES)
    parts = _scalars(
        _aggregate(TimelineEntry.objects, Max("id")),
        _aggregate(still_open, Count("id", distinct=True)),
        _aggregate(still_open, Max("deadlines__acted_at")),
        _aggregate(Announcement.objects, Max("id")),
    )
    fingerprint = "|".join(str(part) for part in (*parts, get_language(), filters.query_string(), "v2"))
    return hashlib.sha1(fingerprint.encode()).hexdigest()[:20]


def _aggregate(queryset: QuerySet[Any] | Manager[Any], expression: Any) -> QuerySet[Any]:
    # Grouped by a constant, which the ORM drops: one row, the aggregate over the whole queryset.
    return queryset.order_by().annotate(_all=Value(1)).values("_all").annotate(value=expression).values("value")


def _scalars(*querysets: QuerySet[Any]) -> tuple[Any, ...]:
    """The values of single-value querysets in one round trip.

    Each part's SQL is the ORM's own for the database in use (SQLite in the
    embedded default, PostgreSQL in production), so nothing here is dialect SQL.
    """
    compiled = [queryset.query.sql_with_params() for queryset in querysets]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"({sql})" for sql, _params in compiled),
                       [param for _sql, params in compiled for param in params])
        return cursor.fetchone()


def open_incidents(filters: Filters) -> tuple[list[LevelGroup], dict[str, int], list[int]]:
    """The open incidents, grouped by level (red first), with what the office needs to see for each.

    Returns (groups, open count per level key, ids of the shown incidents). Six queries whatever the
    number of incidents, each reading only the columns shown, as tuples: building thousands of model
    instances was most of a render.
    """
    chinese = current_language_is_chinese()
    incidents = list(
        filters.incidents().order_by("level__rank", "opened_at", "id").values_list(
            "id", "title", "status", "is_drill", "opened_at", "plan_version_id", "category__name_en",
            "category__name_zh", "level__key", "level__rank", "level__name_en", "level__name_zh", "level__color")
    )
    # The counts are of real incidents only: a drill never adds to them (issue 18); the board counts drills apart.
    counts: dict[str, int] = {}
    for incident in incidents:
        if not incident[3]:
            counts[incident[8]] = counts.get(incident[8], 0) + 1
    if filters.level:
        incidents = [i for i in incidents if i[8] == filters.level]
    if not incidents:
        return [], counts, []
    ids = [incident[0] for incident in incidents]
    details = _details(ids, {incident[5] for incident in incidents}, chinese)
    groups: dict[str, LevelGroup] = {}
    words, now = Words(), timezone.now()
    for (pk, title, status, is_drill, opened_at, version_id, category_en, category_zh,
         key, rank, level_en, level_zh, color) in incidents:
        group = groups.get(key)
        if group is None:
            group = groups[key] = LevelGroup(key=key, rank=rank, name=_pick(level_en, level_zh, chinese), color=color)
        row = Row(id=pk, title=title, status=status, is_drill=is_drill,
                  category_name=_pick(category_en, category_zh, chinese),
                  status_display=words.status.get(status, status), opened_iso=opened_at.isoformat(),
                  age_text=words.age((now - opened_at).total_seconds()))
        _fill_row(row, version_id, details, words, now)
        group.rows.append(row)
    return sorted(groups.values(), key=lambda g: g.rank), counts, ids


def _pick(en: str, zh: str, chinese: bool) -> str:
    return (zh or en) if chinese else (en or zh)


def _person_name(full_name: str, first_name: str, last_name: str, username: str) -> str:
    """``Person.display_name`` from its columns."""
    return full_name or f"{first_name} {last_name}".strip() or username


@dataclass
class _Details:
    deadlines: dict
    check_ins: dict
    plans: dict
    roles: dict
    levels: dict


def _details(ids: Sequence[int], version_ids: Iterable[int], chinese: bool) -> _Details:
    """Deadlines, check-ins, pending plans of the incidents, role and level names of their plan versions."""
    deadlines: dict[int, list[tuple[Any, ...]]] = {}
    check_ins: dict[int, list[tuple[Any, ...]]] = {}
    plans: dict[int, tuple[int, str, datetime]] = {}
    # A card's clock is the plan response's own (reports owed to outside parties have their own page).
    for row in (Deadline.objects.filter(incident_id__in=ids, kind__in=RESPONSE_KINDS)
                .filter(Q(state__in=[State.PENDING, State.MISSED]) | Q(kind=Kind.ON_SITE, state=State.MET))
                .order_by("due_at", "id")
                .values_list("incident_id", "id", "kind", "state", "role_key", "target_level_key", "due_at",
                             "acted_at", "met_by_id", "met_by__full_name", "met_by__first_name",
                             "met_by__last_name", "met_by__username")):
        deadlines.setdefault(row[0], []).append(row)
    for check_in in (TimelineEntry.objects.filter(incident_id__in=ids, kind=TimelineKind.CHECKED_IN,
                                                  actor__isnull=False)
                .order_by("at", "id")
                .values_list("incident_id", "at", "actor_id", "actor__full_name", "actor__first_name",
                             "actor__last_name", "actor__username")):
        check_ins.setdefault(check_in[0], []).append(check_in)
    # Newest first, as ResponsePlan's ordering: the first one per incident is shown.
    for incident_id, pk, role_key, proposed_at in (
            ResponsePlan.objects.filter(incident_id__in=ids, status=PlanStatus.PENDING)
            .order_by("-proposed_at", "-id").values_list("incident_id", "id", "approver_role_key", "proposed_at")):
        plans.setdefault(incident_id, (pk, role_key, proposed_at))
    roles: dict[int, dict[str, str]] = {pk: {} for pk in version_ids}
    levels: dict[int, dict[str, str]] = {pk: {} for pk in version_ids}
    for version_id, key, en, zh in Role.objects.filter(version_id__in=version_ids).values_list(
            "version_id", "key", "name_en", "name_zh"):
        roles[version_id][key] = _pick(en, zh, chinese)
    for version_id, key, en, zh in Level.objects.filter(version_id__in=version_ids).values_list(
            "version_id", "key", "name_en", "name_zh"):
        levels[version_id][key] = _pick(en, zh, chinese)
    return _Details(deadlines, check_ins, plans, roles, levels)


class Words:
    """Every per-row word, translated once per request.

    ``get_status_display()`` and friends translate every choice label on each
    call (Django hashes the choices); over 500 rows that was most of the time.
    """

    def __init__(self) -> None:
        self.status = {value: str(label) for value, label in Status.choices}
        self.kind = {value: str(label) for value, label in Kind.choices}
        self.min, self.h, self.d = _("min"), _("h"), _("d")
        self.missed = _("Missed: %(kind)s · %(role)s")
        self.escalates = _("Escalates to %(level)s")
        self.awaiting = _("Awaiting %(role)s")
        self.zone = timezone.get_current_timezone()

    def age(self, seconds: float) -> str:
        """Like the ticker in dashboard.js: "12 min", "3 h 12 min", "2 d 3 h"."""
        minutes = int(max(0, seconds) // 60)
        if minutes < 60:
            return f"{minutes} {self.min}"
        hours = minutes // 60
        if hours < 24:
            return f"{hours} {self.h} {minutes % 60} {self.min}"
        return f"{hours // 24} {self.d} {hours % 24} {self.h}"


def _fill_row(row: Row, version_id: int, details: _Details, words: Words, now: datetime) -> None:
    roles, levels = details.roles[version_id], details.levels[version_id]
    deadlines = details.deadlines.get(row.id, ())
    arrivals = [(at, person_id, username, _person_name(full, first, last, username))
                for _incident, at, person_id, full, first, last, username in details.check_ins.get(row.id, ())]
    next_due = decide_by = None
    for (_incident, pk, kind, state, role_key, target_level_key, due_at, acted_at, met_by_id,
         full, first, last, username) in deadlines:
        if kind == Kind.APPROVAL and state in (State.PENDING, State.MISSED):
            decide_by = max(decide_by or due_at, due_at)  # the latest ask, after a level change re-asked it
        if state == State.MISSED:
            row.missed.append({
                "id": pk, "due_iso": due_at.isoformat(), "due_clock": due_at.astimezone(words.zone).strftime("%H:%M"),
                "text": words.missed % {"kind": words.kind.get(kind, kind), "role": roles.get(role_key, role_key)},
            })
        elif state == State.PENDING:
            if next_due is None:
                next_due = (kind, role_key, target_level_key, due_at)
        elif met_by_id:  # an on-site deadline met by someone
            arrivals.append((acted_at, met_by_id, username, _person_name(full, first, last, username)))
    if next_due:
        kind, role_key, target_level_key, due_at = next_due
        if kind == Kind.ESCALATION:
            row.deadline_text = words.escalates % {"level": levels.get(target_level_key, target_level_key)}
        else:
            row.deadline_text = f"{words.kind.get(kind)}: {roles.get(role_key, role_key)}"
        row.due_iso = due_at.isoformat()
        row.due_clock = due_at.astimezone(words.zone).strftime("%H:%M:%S")
    if arrivals:
        seen = set()
        for _at, person_id, username, name in sorted(arrivals, key=lambda arrival: arrival[0]):
            if person_id not in seen:
                seen.add(person_id)
                row.on_site.append({"username": username, "name": name})
    plan = details.plans.get(row.id)
    if plan:
        row.plan_id, role_key, proposed_at = plan
        row.plan_text = words.awaiting % {"role": roles.get(role_key, role_key)}
        row.plan_since_iso = proposed_at.isoformat()
        row.plan_decide_by_iso = decide_by.isoformat() if decide_by else ""
        row.plan_age_text = words.age((now - proposed_at).total_seconds())


def alarm_events(incident_ids: Sequence[int], *, levels: Iterable[Level]) -> list[dict[str, Any]]:
    """Openings and level rises of the shown incidents, newest first: what makes the dashboard sound.

    Lowering a level is not an alarm. Each event is (timeline id, level key, rank, whether a drill's): a drill
    sounds its own alarm or none (DRILLS_ALARM, static/fenghuo/alarm.js).
    """
    if not incident_ids:
        return []
    ranks = {**LEVEL_RANKS, **{level.key: level.rank for level in levels}}
    names = {level.key: level.name for level in levels}
    entries = (TimelineEntry.objects.filter(incident_id__in=incident_ids,
                                            kind__in=[TimelineKind.OPENED, TimelineKind.LEVEL_CHANGED])
               .order_by("-id").values_list("id", "kind", "detail", "incident__is_drill")[:ALARM_EVENTS])
    events = []
    for entry_id, kind, detail, is_drill in entries:
        detail = detail or {}
        if kind == TimelineKind.OPENED:
            level = detail.get("level", "")
        else:
            level = detail.get("to", "")
            if ranks.get(level, 9) >= ranks.get(detail.get("from", ""), 9):
                continue
        events.append({"id": entry_id, "level": level, "rank": ranks.get(level, 9), "name": names.get(level, level),
                       "drill": bool(is_drill)})
    return events


def plan_choices() -> tuple[list[Level], list[Category]]:
    """Levels and categories of the active plan, for the filters and the counts bar."""
    levels = list(Level.objects.filter(version__is_active=True).order_by("rank"))
    categories = list(Category.objects.filter(version__is_active=True).order_by("position"))
    return levels, categories


def recent_announcements(levels: Iterable[Level], *, limit: int = RECENT_ANNOUNCEMENTS) -> list[Announcement]:
    return _with_level_names(Announcement.objects.select_related("incident", "created_by")[:limit], levels)


def announcements_page(levels: Iterable[Level], *, limit: int = 200) -> list[Announcement]:
    return _with_level_names(Announcement.objects.select_related("incident__category", "created_by")[:limit], levels)


def _with_level_names(announcements: Iterable[Announcement], levels: Iterable[Level]) -> list[Announcement]:
    """The announced level's name and colour (the incident may have moved on since)."""
    by_key = {level.key: level for level in levels}
    announcements = list(announcements)
    for announcement in announcements:
        level = by_key.get(announcement.level_key)
        # For the template only, on these instances: no model field declares them.
        announcement.level_name = level.name if level else announcement.level_key  # type: ignore[attr-defined]
        announcement.level_color = level.color if level else "#59636e"  # type: ignore[attr-defined]
    return announcements


def pending_approvals(person: "Person") -> list[ResponsePlan]:
    """Response plans waiting for a decision by a role ``person`` holds, oldest first."""
    approvals = Deadline.objects.filter(kind=Kind.APPROVAL).exclude(state=State.CANCELLED).order_by("-started_at")
    return list(
        ResponsePlan.objects.filter(status=PlanStatus.PENDING, approver_role_key__in=person.role_keys())
        .select_related("incident__level", "incident__category", "incident__plan_version", "proposed_by")
        .prefetch_related(Prefetch("incident__deadlines", queryset=approvals, to_attr="approval_deadlines"),
                          "incident__plan_version__roles")
        .order_by("proposed_at", "id")
    )


def approval_deadline(plan: ResponsePlan) -> "Deadline | None":
    """The plan's decision deadline (the cell's approval.within after it was asked), or None."""
    # Newest first: a level change re-asks the approval and restarts its deadline.
    return next((d for d in getattr(plan.incident, "approval_deadlines", [])
                 if d.started_at >= plan.proposed_at - timedelta(seconds=1)), None)


def is_overdue(plan: ResponsePlan, *, now: datetime | None = None) -> bool:
    """Past the plan's decision deadline, or the escalation engine already marked it missed."""
    deadline = approval_deadline(plan)
    if deadline is None:
        return False
    return deadline.state == State.MISSED or (now or timezone.now()) >= deadline.due_at


def plan_for_approval(plan_id: int) -> ResponsePlan | None:
    """One response plan with what its approval page shows (issue 14), in a fixed number of queries.

    The incident's timeline comes newest first (``timeline_newest_first``), its
    decision deadlines as for the queue (``approval_deadline``), and the plan
    version's roles and levels for the names on the timeline.
    """
    approvals = Deadline.objects.filter(kind=Kind.APPROVAL).exclude(state=State.CANCELLED).order_by("-started_at")
    newest_first = TimelineEntry.objects.select_related("actor").order_by("-at", "-id")
    return (
        ResponsePlan.objects.filter(pk=plan_id)
        .select_related("incident__level", "incident__category", "incident__plan_version", "incident__reporter",
                        "proposed_by", "decided_by")
        .prefetch_related(Prefetch("incident__deadlines", queryset=approvals, to_attr="approval_deadlines"),
                          Prefetch("incident__timeline", queryset=newest_first, to_attr="timeline_newest_first"),
                          "incident__plan_version__roles", "incident__plan_version__levels")
        .first()
    )
