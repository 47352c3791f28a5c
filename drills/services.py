"""Every change a drill or a training record goes through. Pages, API and the engine's handler call these.

Running a drill is the real engine on a drill incident: ``drill_start`` opens it
through ``incidents.services.log_fault`` (``is_drill``, the drill's clock), so
the plan's cell applies in full, and each scripted injection is an engine
deadline of kind ``drill_step`` that ``act_on_drill_step`` carries out through
the incident services once, whoever sweeps. ``drill_end`` closes the incident
(``incidents.services.end_drill``) and freezes the scorecard.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from escalation.services import Outcome
from incidents import levels
from incidents import services as incident_services
from incidents.models import Incident
from people.models import Person, RoleAssignment
from plan.models import Category, Level, PlanVersion
from plan.services import roles_with

from . import injections as steps
from .models import Attendance, Drill, DrillStatus, Participation, TrainingKind, TrainingSession
from .scorecard import scorecard_of

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

# Before this a session's date is a typing error (and older dates read in local mean time, +08:05:43).
EARLIEST = datetime(2000, 1, 1, tzinfo=dt_timezone.utc)
# A drill may be scheduled this far behind the clock (a form filled in slowly); earlier is "in the past".
SCHEDULE_SLACK = timedelta(minutes=1)


def may_run_drills(person: "Person | None") -> bool:
    """The office runs drills and training (plan 2.2): the roles the plan lets coordinate, or an administrator."""
    if person is None or not person.is_authenticated:
        return False
    return person.is_superuser or bool(person.role_keys() & roles_with("coordinate"))


def _check_office(person: "Person | None", what: str) -> None:
    if not may_run_drills(person):
        raise Refused(_("only the emergency office may %(what)s") % {"what": what}, code="forbidden", status_code=403)


# --- drills ------------------------------------------------------------------------


def _check_clock(clock: Any, errors: dict[str, list[str]]) -> float:
    low, high = settings.DRILLS_CLOCK_MIN, settings.DRILLS_CLOCK_MAX
    try:
        value = float(clock)
    except (TypeError, ValueError):
        errors["clock"] = [_("a number of plan seconds per real second")]
        return 1.0
    if not low <= value <= high:
        errors["clock"] = [_("must be between %(low)g and %(high)g plan seconds per real second") % {
            "low": low, "high": high}]
    return value


def _people(usernames: Iterable[str], field: str, errors: dict[str, list[str]]) -> list[Person]:
    wanted = list(dict.fromkeys(str(u).strip() for u in usernames if str(u).strip()))
    found = {p.username: p for p in Person.objects.filter(username__in=wanted, is_active=True)}
    unknown = [u for u in wanted if u not in found]
    if unknown:
        errors[field] = [_("nobody is called %(names)s") % {"names": ", ".join(unknown)}]
    return [found[u] for u in wanted if u in found]


@transaction.atomic
def drill_schedule(*, actor: "Person | None", title: str, category: str, level: str, starts_at: datetime,
                   clock: Any = 1.0, description: str = "", injections: Any = None,
                   participant_roles: Sequence[str] = (), participants: Sequence[str] = ()) -> Drill:
    """Schedule a drill for ``starts_at``: the engine starts it then (``drill:<id>:start``), or the office earlier."""
    _check_office(actor, _("schedule a drill"))
    version = PlanVersion.objects.active()
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("a short title is required")]
    if not Category.objects.filter(version=version, key=category).exists():
        keys = ", ".join(version.categories.values_list("key", flat=True))
        errors["category"] = [_("unknown category %(key)r; the plan has: %(keys)s") % {"key": category, "keys": keys}]
    level_keys = list(version.levels.values_list("key", flat=True))
    if level not in level_keys:
        errors["level"] = [_("unknown level %(key)r; the plan has: %(keys)s") % {"key": level,
                                                                              "keys": ", ".join(level_keys)}]
    if starts_at is None:
        errors["starts_at"] = [_("say when the drill starts")]
    elif starts_at < timezone.now() - SCHEDULE_SLACK:
        errors["starts_at"] = [_("a drill cannot be scheduled in the past")]
    elif starts_at > timezone.now() + timedelta(days=3660):
        errors["starts_at"] = [_("a drill is scheduled at most ten years ahead")]
    clock = _check_clock(clock, errors)
    script, problems = steps.checked_injections(injections, level_keys=level_keys)
    if problems:
        errors["injections"] = problems
    role_keys = list(dict.fromkeys(participant_roles or []))
    unknown_roles = sorted(set(role_keys) - set(version.roles.values_list("key", flat=True)))
    if unknown_roles:
        errors["participant_roles"] = [_("the plan has no role %(keys)s") % {"keys": ", ".join(unknown_roles)}]
    people = _people(participants or [], "participants", errors)
    if errors:
        raise ValidationError(errors)
    drill = Drill.objects.create(
        title=title.strip()[:200], description=description or "", category_key=category, level_key=level,
        starts_at=starts_at, clock=clock, injections=script, participant_roles=role_keys, created_by=actor)
    drill.participants.set(people)
    now = timezone.now()
    engine.start_deadline(kind=Kind.DRILL_STEP, subject=steps.subject(drill.pk, "start"), due_at=max(starts_at, now),
                          started_at=now, note=f"drill #{drill.pk} starts")
    return drill


def _lock(drill: Drill) -> Drill:
    return Drill.objects.select_for_update().get(pk=drill.pk)


@transaction.atomic
def drill_start(drill: Drill, *, actor: "Person | None") -> Drill:
    """Open the drill incident now (the office, before or at the scheduled time). Refused when already started."""
    if actor is not None:
        _check_office(actor, _("start a drill"))
    drill = _lock(drill)
    return _start(drill, actor=actor, at=timezone.now())


def _start(drill: Drill, *, actor: "Person | None", at: datetime) -> Drill:
    if drill.status != DrillStatus.SCHEDULED:
        raise Refused(_("this drill has already started") if drill.status == DrillStatus.RUNNING
                      else _("this drill has ended"), code="already_started")
    engine.cancel_subject(Kind.DRILL_STEP, steps.subject(drill.pk, "start"), reason="drill started")
    incident = incident_services.log_fault(
        reporter=actor, category=drill.category_key, level=drill.level_key, title=drill.title,
        description=drill.description, is_drill=True, clock=drill.clock, actor_label="" if actor else "Fenghuo")
    # Both clocks count from the incident's opening: its level's deadlines do too.
    at = incident.opened_at
    drill.status, drill.incident, drill.started_at, drill.started_by = DrillStatus.RUNNING, incident, at, actor
    drill.save(update_fields=["status", "incident", "started_at", "started_by"])
    for n, step in enumerate(drill.injections, 1):
        engine.start_deadline(kind=Kind.DRILL_STEP, incident=incident, subject=steps.subject(drill.pk, n),
                              due_at=at + timedelta(seconds=step["after"] / drill.clock), started_at=at,
                              level_key=incident.level.key, note=f"drill #{drill.pk} injection {n}: {step['action']}")
    _record_participants(drill, at=at)
    return drill


def _record_participants(drill: Drill, *, at: datetime, extra: Iterable[tuple[int, str]] = ()) -> None:
    """Who took part: named people, holders of the participant roles, and (at the end) everyone the drill told."""
    wanted: dict[int, str] = {p.pk: "" for p in drill.participants.all()}
    for person_id, role_key in RoleAssignment.objects.filter(
            role_key__in=drill.participant_roles, person__is_active=True).values_list("person_id", "role_key"):
        wanted.setdefault(person_id, role_key)
    for person_id, role_key in extra:
        wanted.setdefault(person_id, role_key)
    have = set(drill.participations.values_list("person_id", flat=True))
    Participation.objects.bulk_create([Participation(drill=drill, person_id=pk, role_key=role, at=at)
                                       for pk, role in wanted.items() if pk not in have])


@transaction.atomic
def drill_end(drill: Drill, *, actor: "Person | None", summary: str = "") -> Drill:
    """End the exercise: the drill incident closes, what is pending is cancelled, the scorecard is frozen."""
    if actor is not None:
        _check_office(actor, _("end a drill"))
    drill = _lock(drill)
    if drill.status != DrillStatus.RUNNING:
        raise Refused(_("this drill has not started yet") if drill.status == DrillStatus.SCHEDULED
                      else _("this drill has already ended"), code="not_running")
    assert drill.incident is not None  # drill_started_has_incident
    now = timezone.now()
    incident_services.end_drill(drill.incident, actor=actor, summary=summary or _("Drill ended"))
    drill.status, drill.ended_at, drill.ended_by = DrillStatus.ENDED, now, actor
    told = drill.incident.notifications.filter(person__isnull=False).values_list("person_id", "role_key")
    _record_participants(drill, at=drill.started_at or now, extra=list(told))
    drill.scorecard = scorecard_of(drill)
    drill.save(update_fields=["status", "ended_at", "ended_by", "scorecard"])
    return drill


@transaction.atomic
def drill_observe(drill: Drill, *, actor: "Person", observations: str) -> Drill:
    """What the office saw, typed during or after the drill; an ended drill's scorecard carries it."""
    _check_office(actor, _("record a drill's observations"))
    drill = _lock(drill)
    drill.observations = (observations or "").strip()
    fields = ["observations"]
    if drill.status == DrillStatus.ENDED:
        drill.scorecard = {**drill.scorecard, "observations": drill.observations}
        fields.append("scorecard")
    drill.save(update_fields=fields)
    return drill


def act_on_drill_step(deadline_id: int, *, incident_id: int | None) -> str:
    """The engine's handler for ``drill_step`` deadlines: a scheduled start, or one scripted injection.

    One transaction: lock the incident (when there is one), the deadline, then
    the drill, each SKIP LOCKED; re-check the deadline is pending and due; act;
    mark the row. Whoever holds a row is acting on it or ending the drill, so
    this leaves it (``busy``) and the next sweep finds it settled or still due.
    """
    with transaction.atomic():
        incident = None
        if incident_id is not None:
            incident = (Incident.objects.select_for_update(of=("self",), skip_locked=True).with_plan()
                        .filter(pk=incident_id).first())
            if incident is None:
                return Outcome.BUSY
        deadline = (Deadline.objects.select_for_update(skip_locked=True)
                    .filter(pk=deadline_id, state=State.PENDING, due_at__lte=timezone.now()).first())
        if deadline is None:
            return Outcome.NOT_DUE
        now = timezone.now()
        parsed = steps.parse_subject(deadline.subject)
        drill = (Drill.objects.select_for_update(skip_locked=True).filter(pk=parsed[0]).first()
                 if parsed else None)
        if parsed and drill is None and Drill.objects.filter(pk=parsed[0]).exists():
            return Outcome.BUSY
        deadline.state, deadline.acted_at = State.FIRED, now
        if drill is None or parsed is None:
            deadline.state, deadline.note = State.CANCELLED, "no such drill"
        elif parsed[1] == "start":
            if drill.status == DrillStatus.SCHEDULED:
                deadline.save(update_fields=["state", "acted_at"])
                try:
                    with transaction.atomic():
                        _start(drill, actor=None, at=now)
                    return Outcome.ACTED
                except (Refused, ValidationError) as refused:
                    # The plan changed under the scenario (a category gone): say so instead of retrying forever.
                    deadline.state, deadline.note = State.CANCELLED, f"could not start: {refused}"[:300]
            else:
                deadline.state, deadline.note = State.CANCELLED, "drill already started"
        elif drill.status != DrillStatus.RUNNING or incident is None or not incident.is_open:
            deadline.state, deadline.note = State.CANCELLED, "drill no longer running"
        else:
            deadline.save(update_fields=["state", "acted_at"])
            _inject(drill, incident, deadline, int(parsed[1]))
            return Outcome.ACTED
        deadline.save(update_fields=["state", "acted_at", "note"])
        return Outcome.ACTED


def _inject(drill: Drill, incident: Incident, deadline: Deadline, n: int) -> None:
    step = drill.injections[n - 1] if 0 < n <= len(drill.injections) else None
    if step is None:
        return
    if step["action"] == steps.ESCALATE:
        target = Level.objects.get(version=incident.plan_version, key=step["level"])
        if target.is_more_severe_than(incident.level):
            # The scenario's script worsens the fault at its time, counted from the drill's start: no drift.
            levels.change_level(incident, level_key=target.key, actor=None, at=deadline.due_at, deadline=deadline,
                                reason=f"drill injection {n}: the fault worsens", cause="plan",
                                lateness_seconds=round((timezone.now() - deadline.due_at).total_seconds(), 3))
    else:
        incident_services.recovered_at_source(incident, source=_("Drill script"), event=f"drill:{drill.pk}:step:{n}")


# --- training ------------------------------------------------------------------------


@transaction.atomic
def training_create(*, actor: "Person", title: str, kind: str = TrainingKind.TRAINING, held_at: datetime,
                    topic: str = "", trainer: str = "", attendees: Sequence[str] = (),
                    material: "UploadedFile | None" = None, drill: Drill | None = None) -> TrainingSession:
    """Record a session the office held, with the attendance it recorded (unknown people refused by name)."""
    _check_office(actor, _("record a training session"))
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("a short title is required")]
    if kind not in TrainingKind.values:
        errors["kind"] = [_("one of %(kinds)s") % {"kinds": ", ".join(TrainingKind.values)}]
    if held_at is None:
        errors["held_at"] = [_("say when the session was held")]
    elif not EARLIEST <= held_at <= timezone.now() + timedelta(days=366):
        errors["held_at"] = [_("a date from 2000 to a year from now")]
    people = _people(attendees or [], "attendees", errors)
    if errors:
        raise ValidationError(errors)
    session = TrainingSession.objects.create(title=title.strip()[:200], kind=kind, held_at=held_at, topic=topic or "",
                                             trainer=(trainer or "").strip()[:150], drill=drill, created_by=actor)
    if material is not None:
        session.material.save(material.name or "materials", material, save=True)
    Attendance.objects.bulk_create([Attendance(session=session, person=p, recorded_by=actor) for p in people])
    return session


@transaction.atomic
def attendance_record(session: TrainingSession, *, actor: "Person", usernames: Sequence[str]) -> list[Attendance]:
    """The office records who attended; refused, naming them, when someone does not exist. Idempotent per person."""
    _check_office(actor, _("record attendance"))
    errors: dict[str, list[str]] = {}
    people = _people(usernames, "attendees", errors)
    if not usernames:
        errors["attendees"] = [_("name at least one attendee")]
    if errors:
        raise ValidationError(errors)
    return [Attendance.objects.get_or_create(session=session, person=p, defaults={"recorded_by": actor})[0]
            for p in people]


@transaction.atomic
def attendance_confirm(session: TrainingSession, *, person: "Person") -> Attendance:
    """A person confirms they attended, themselves."""
    if session.held_at > timezone.now() + SCHEDULE_SLACK:
        raise Refused(_("this session has not been held yet"), code="not_held")
    attendance, created = Attendance.objects.get_or_create(session=session, person=person,
                                                           defaults={"confirmed_by_self": True})
    if not created and not attendance.confirmed_by_self:
        attendance.confirmed_by_self = True
        attendance.save(update_fields=["confirmed_by_self"])
    return attendance
