"""Every timed rule of the shipped plan, driven by a frozen clock (time-machine).

Expected durations and reporting lines are read from the plan file itself, so
the tests follow the document the office maintains, not a copy of it.
"""

from datetime import timedelta

import pytest
import time_machine
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents import services
from incidents.models import TimelineEntry, TimelineKind
from incidents.states import Status
from notifications.models import Ask, Notification
from plan.durations import parse_duration
from plan.tests.documents import SHIPPED_PLAN

pytestmark = pytest.mark.django_db

PLAN = yaml.safe_load(SHIPPED_PLAN.read_text(encoding="utf-8"))
REPORTS_TO = {role["key"]: role.get("reports_to") for role in PLAN["roles"]}
CELLS = {(cat["key"], level): cell for cat in PLAN["categories"] for level, cell in cat["responses"].items()}
ON_SITE_DUTIES = [
    pytest.param(category, level, duty["role"], parse_duration(duty["within"]),
                 id=f"{category}-{level}-{duty['role']}-{duty['within']}")
    for (category, level), cell in CELLS.items()
    for duty in cell.get("on_site") or []
]
SECOND = timedelta(seconds=1)


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def reporter(shipped_plan, make_person):
    return make_person("duty_staff", username="reporter")


def open_at(start, reporter, category, level, **fields):
    with time_machine.travel(start, tick=False):
        return services.log_fault(reporter=reporter, category=category, level=level, title="fault", **fields)


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return engine.sweep()


def level_of(incident):
    incident.refresh_from_db()
    return incident.level.key


def timed(incident, kind=Kind.ESCALATION, **filters):
    return incident.deadlines.get(kind=kind, **filters)


# --- timed escalations ------------------------------------------------------------


def test_every_timed_escalation_of_the_shipped_plan_is_covered_here():
    rules = {(c, lv, cell["escalate"]["to"], cell["escalate"]["after"]) for (c, lv), cell in CELLS.items()
             if cell.get("escalate")}
    assert rules == {
        ("network", "blue", "yellow", "4h"), ("network", "yellow", "orange", "24h"),
        ("system", "blue", "yellow", "48h"), ("system", "yellow", "orange", "2h"),
    }


def test_blue_network_fault_over_half_the_branches_escalates_to_yellow_after_four_hours(start, reporter):
    incident = open_at(start, reporter, "network", "blue", affected_branches=6, total_branches=10)
    assert timed(incident).due_at == start + timedelta(hours=4)

    assert sweep_at(start + timedelta(hours=4) - SECOND) == 0
    assert level_of(incident) == "blue"
    assert sweep_at(start + timedelta(hours=4)) == 1
    assert level_of(incident) == "yellow"
    assert incident.level_since == start + timedelta(hours=4)
    assert timed(incident, level_key="blue").state == State.FIRED


def test_blue_network_fault_at_half_the_branches_is_recorded_as_condition_not_met(start, reporter):
    incident = open_at(start, reporter, "network", "blue", affected_branches=5, total_branches=10)

    assert sweep_at(start + timedelta(hours=4)) == 1
    assert level_of(incident) == "blue"
    deadline = timed(incident)
    assert deadline.state == State.CONDITION_NOT_MET
    entry = TimelineEntry.objects.get(deadline=deadline)
    assert entry.kind == TimelineKind.CONDITION_NOT_MET
    assert entry.detail["actual"] == 0.5 and entry.detail["value"] == 0.5
    assert sweep_at(start + timedelta(hours=30)) == 0
    assert level_of(incident) == "blue"


def test_blue_network_fault_with_unknown_branch_counts_does_not_escalate(start, reporter):
    incident = open_at(start, reporter, "network", "blue")

    sweep_at(start + timedelta(hours=4))
    assert level_of(incident) == "blue"
    assert timed(incident).state == State.CONDITION_NOT_MET


def test_branches_updated_after_the_four_hours_escalate_the_network_fault_at_once(start, reporter, make_person):
    office = make_person("office")
    incident = open_at(start, reporter, "network", "blue", affected_branches=2, total_branches=10)
    sweep_at(start + timedelta(hours=4))
    assert level_of(incident) == "blue"

    later = start + timedelta(hours=5)
    with time_machine.travel(later, tick=False):
        services.update_details(incident, actor=office, changes={"affected_branches": 7})
    assert level_of(incident) == "yellow"
    assert incident.level_since == later
    change = incident.timeline.get(kind=TimelineKind.LEVEL_CHANGED)
    assert change.detail["from"] == "blue" and change.detail["manual"] is False
    assert timed(incident, level_key="yellow").due_at == later + timedelta(hours=24)


def test_branches_updated_before_the_four_hours_escalate_when_the_time_is_up(start, reporter, make_person):
    office = make_person("office")
    incident = open_at(start, reporter, "network", "blue", affected_branches=1, total_branches=10)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        services.update_details(incident, actor=office, changes={"affected_branches": 9})
    assert level_of(incident) == "blue"

    assert sweep_at(start + timedelta(hours=4)) == 1
    assert level_of(incident) == "yellow"


def test_yellow_network_fault_escalates_to_orange_after_twenty_four_hours(start, reporter):
    incident = open_at(start, reporter, "network", "yellow")

    assert sweep_at(start + timedelta(hours=24) - SECOND) == 0
    assert level_of(incident) == "yellow"
    assert sweep_at(start + timedelta(hours=24)) == 1
    assert level_of(incident) == "orange"
    assert incident.level_since == start + timedelta(hours=24)


def test_blue_system_fault_escalates_to_yellow_after_forty_eight_hours(start, reporter):
    incident = open_at(start, reporter, "system", "blue")

    assert sweep_at(start + timedelta(hours=48) - SECOND) == 0
    assert level_of(incident) == "blue"
    assert sweep_at(start + timedelta(hours=48)) == 1
    assert level_of(incident) == "yellow"


def test_blue_system_fault_becomes_orange_two_hours_after_it_turned_yellow(start, reporter):
    incident = open_at(start, reporter, "system", "blue")
    sweep_at(start + timedelta(hours=48))
    sweep_at(start + timedelta(hours=50) - SECOND)
    assert level_of(incident) == "yellow"

    sweep_at(start + timedelta(hours=50))
    assert level_of(incident) == "orange"


def test_yellow_system_fault_escalates_to_orange_at_exactly_two_hours_not_before(start, reporter):
    incident = open_at(start, reporter, "system", "yellow")
    two_hours = start + timedelta(hours=2)

    sweep_at(two_hours - timedelta(microseconds=1))
    assert level_of(incident) == "yellow"
    assert sweep_at(two_hours) == 1
    assert level_of(incident) == "orange"
    assert sweep_at(two_hours) == 0
    assert incident.timeline.filter(kind=TimelineKind.LEVEL_CHANGED).count() == 1


def test_a_late_sweep_records_its_lateness_and_counts_the_new_level_from_the_due_time(start, reporter):
    incident = open_at(start, reporter, "system", "yellow")

    sweep_at(start + timedelta(hours=2, seconds=42))
    fired = timed(incident, level_key="yellow")
    assert fired.lateness == timedelta(seconds=42)
    change = incident.timeline.get(kind=TimelineKind.LEVEL_CHANGED)
    assert change.at == start + timedelta(hours=2)
    assert change.detail["lateness_seconds"] == 42
    assert change.deadline == fired


# --- on-site deadlines ----------------------------------------------------------------


@pytest.mark.parametrize(("category", "level", "role", "within"), ON_SITE_DUTIES)
def test_missed_on_site_deadline_is_recorded_and_reported_up(start, reporter, make_person, category, level, role,
                                                             within):
    superior = REPORTS_TO[role]
    responder, boss, office = make_person(role), make_person(superior), make_person("office")
    incident = open_at(start, reporter, category, level)
    deadline = timed(incident, Kind.ON_SITE, role_key=role)
    assert deadline.due_at == start + within
    assert Notification.objects.filter(incident=incident, person=responder, ask=Ask.ON_SITE,
                                       due_at=deadline.due_at).exists()

    sweep_at(deadline.due_at - SECOND)
    deadline.refresh_from_db()
    assert deadline.state == State.PENDING

    sweep_at(deadline.due_at)
    deadline.refresh_from_db()
    assert deadline.state == State.MISSED
    assert deadline.acted_at == deadline.due_at
    told = Notification.objects.filter(incident=incident, event=f"deadline:{deadline.pk}", ask=Ask.MISSED)
    assert {n.person for n in told} >= {boss, office}
    assert {n.role_key for n in told} == {superior, "office"}
    entry = TimelineEntry.objects.get(deadline=deadline)
    assert entry.kind == TimelineKind.DEADLINE_MISSED
    assert entry.detail["role"] == role
    assert entry.detail["reported_to"] == ([superior, "office"] if superior != "office" else ["office"])


def test_missed_deadline_with_nobody_in_the_superior_role_still_records_the_gap(start, reporter):
    incident = open_at(start, reporter, "system", "yellow")

    sweep_at(start + timedelta(hours=1))
    deadline = timed(incident, Kind.ON_SITE)
    assert deadline.state == State.MISSED
    gaps = Notification.objects.filter(event=f"deadline:{deadline.pk}", person=None)
    assert set(gaps.values_list("role_key", flat=True)) == {"tech_group", "office"}


def test_check_in_before_the_due_time_meets_the_on_site_deadline(start, reporter, make_person):
    supervisor = make_person("ops_supervisor")
    incident = open_at(start, reporter, "system", "yellow")
    with time_machine.travel(start + timedelta(minutes=59, seconds=59), tick=False):
        services.check_in(incident, actor=supervisor)

    assert sweep_at(start + timedelta(hours=1)) == 0
    deadline = timed(incident, Kind.ON_SITE)
    assert deadline.state == State.MET
    assert deadline.met_by == supervisor
    assert not incident.timeline.filter(kind=TimelineKind.DEADLINE_MISSED).exists()


def test_check_in_meets_only_the_roles_the_person_holds(start, reporter, make_person):
    technician = make_person("system_technicians")
    incident = open_at(start, reporter, "system", "orange")
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        services.check_in(incident, actor=technician)

    sweep_at(start + timedelta(minutes=30))
    states = dict(incident.deadlines.filter(kind=Kind.ON_SITE).values_list("role_key", "state"))
    assert states == {"system_technicians": State.MET, "office": State.MISSED, "leadership": State.MISSED}


# --- level changes --------------------------------------------------------------------


def test_a_level_rise_starts_the_new_levels_full_response_from_the_escalations_due_time(start, reporter,
                                                                                        make_person):
    leader, technician = make_person("leadership"), make_person("system_technicians")
    incident = open_at(start, reporter, "system", "yellow")
    due = start + timedelta(hours=2)

    sweep_at(due + timedelta(seconds=30))
    assert level_of(incident) == "orange"
    on_site = dict(incident.deadlines.filter(kind=Kind.ON_SITE, level_key="orange").values_list("role_key", "due_at"))
    assert on_site == {role: due + timedelta(minutes=30) for role in ("system_technicians", "office", "leadership")}
    assert Notification.objects.filter(incident=incident, person=technician, ask=Ask.ON_SITE, level_key="orange",
                                       due_at=due + timedelta(minutes=30)).exists()
    told = set(Notification.objects.filter(incident=incident, level_key="orange").values_list("role_key", flat=True))
    assert told >= set(CELLS["system", "orange"]["notify"])
    reports = set(incident.deadlines.filter(kind=Kind.REPORT, level_key="orange")
                  .values_list("role_key", "to_role_key"))
    assert reports == {(r["from"], r["to"]) for r in CELLS["system", "orange"]["report"]}
    assert not incident.deadlines.filter(level_key="yellow", state=State.PENDING).exists()

    # The orange cell's approval gate now applies: a response plan waits for the leadership group.
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        with pytest.raises(Refused):
            services.start_implementing(incident, actor=technician)
        services.propose_plan(incident, actor=technician, text="fail over to the standby host")
    approval = timed(incident, Kind.APPROVAL)
    assert approval.role_key == "leadership"
    assert Notification.objects.filter(incident=incident, person=leader, ask=Ask.APPROVE).exists()


def test_unapproved_response_plan_is_reported_when_its_approval_deadline_passes(start, reporter, make_person):
    technician, leader, top = make_person("system_technicians"), make_person("leadership"), make_person("main_leaders")
    incident = open_at(start, reporter, "system", "orange")
    with time_machine.travel(start, tick=False):
        services.propose_plan(incident, actor=technician, text="restart the batch")
    approval = timed(incident, Kind.APPROVAL)

    sweep_at(approval.due_at)
    approval.refresh_from_db()
    assert approval.state == State.MISSED
    assert Notification.objects.filter(event=f"deadline:{approval.pk}", person=top, ask=Ask.MISSED).exists()
    assert Notification.objects.filter(event=f"deadline:{approval.pk}:remind", person=leader, ask=Ask.APPROVE).exists()


def test_resolution_cancels_every_pending_deadline(start, reporter, make_person):
    supervisor = make_person("ops_supervisor")
    incident = open_at(start, reporter, "system", "yellow")
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        services.acknowledge(incident, actor=supervisor)
        services.resolve(incident, actor=supervisor, summary="freed the disk")

    assert sweep_at(start + timedelta(hours=3)) == 0
    assert level_of(incident) == "yellow"
    assert set(incident.deadlines.exclude(kind=Kind.REPORT).values_list("state", flat=True)) == {State.CANCELLED}
    assert not incident.timeline.filter(kind__in=[TimelineKind.DEADLINE_MISSED, TimelineKind.LEVEL_CHANGED]).exists()


def test_manual_escalation_takes_the_same_path_as_a_timed_one(start, reporter, make_person):
    supervisor, technician = make_person("ops_supervisor"), make_person("system_technicians")
    incident = open_at(start, reporter, "system", "yellow")
    worse = start + timedelta(minutes=40)
    with time_machine.travel(worse, tick=False):
        services.escalate(incident, level_key="orange", actor=supervisor, reason="the batch is stuck")

    assert level_of(incident) == "orange"
    assert incident.level_since == worse
    assert set(incident.deadlines.filter(level_key="yellow").values_list("state", flat=True)) <= {
        State.CANCELLED, State.MET}
    on_site = dict(incident.deadlines.filter(kind=Kind.ON_SITE, state=State.PENDING).values_list("role_key", "due_at"))
    assert on_site == {role: worse + timedelta(minutes=30) for role in ("system_technicians", "office", "leadership")}
    assert Notification.objects.filter(incident=incident, person=technician, level_key="orange").exists()
    change = incident.timeline.get(kind=TimelineKind.LEVEL_CHANGED)
    assert change.actor == supervisor and change.detail["manual"] is True
    assert change.detail["reason"] == "the batch is stuck"
    # The cancelled two-hour timer never fires on top of the manual rise.
    sweep_at(start + timedelta(hours=2))
    assert level_of(incident) == "orange"
    assert incident.timeline.filter(kind=TimelineKind.LEVEL_CHANGED).count() == 1
    assert timed(incident, level_key="yellow").state == State.CANCELLED


def test_lowering_a_level_is_manual_and_recorded(start, reporter, make_person):
    office = make_person("office")
    incident = open_at(start, reporter, "system", "orange")
    milder = start + timedelta(minutes=10)
    with time_machine.travel(milder, tick=False):
        services.deescalate(incident, level_key="yellow", actor=office, reason="only one peripheral system is slow")

    assert level_of(incident) == "yellow"
    change = incident.timeline.get(kind=TimelineKind.LEVEL_CHANGED)
    assert (change.actor, change.detail["from"], change.detail["to"], change.detail["manual"]) == (
        office, "orange", "yellow", True)
    assert not incident.deadlines.filter(level_key="orange", state=State.PENDING).exists()
    assert timed(incident, level_key="yellow").due_at == milder + timedelta(hours=2)


def test_no_timer_ever_lowers_a_level(start, reporter):
    incident = open_at(start, reporter, "network", "red")

    sweep_at(start + timedelta(days=30))
    assert level_of(incident) == "red"
    assert not Deadline.objects.filter(incident=incident, kind=Kind.ESCALATION).exists()


def test_only_the_office_or_leadership_may_lower_a_level(start, reporter, make_person):
    technician = make_person("system_technicians")
    incident = open_at(start, reporter, "system", "orange")

    with pytest.raises(Refused):
        services.deescalate(incident, level_key="yellow", actor=technician, reason="looks better")
    assert level_of(incident) == "orange"


def test_a_deadline_left_over_from_an_earlier_level_is_cancelled_not_acted_on(start, reporter):
    incident = open_at(start, reporter, "system", "yellow")
    stale = timed(incident, Kind.ON_SITE)
    # A rise done behind the engine's back (a data repair) leaves the old level's timer pending.
    incident.level = incident.plan_version.levels.get(key="orange")
    incident.save(update_fields=["level"])

    sweep_at(start + timedelta(hours=1))
    stale.refresh_from_db()
    assert stale.state == State.CANCELLED
    # Not acted on (no missed duty reported), but not silent either: its end is on the timeline, with why.
    entry = TimelineEntry.objects.get(deadline=stale)
    assert (entry.kind, entry.detail["why"], entry.detail["deadline_kind"]) == (
        "deadline_cancelled", "level_changed", "on_site")
    assert not TimelineEntry.objects.filter(incident=incident, kind="deadline_missed").exists()


def test_drill_incidents_follow_the_same_timers(start, reporter):
    incident = open_at(start, reporter, "system", "yellow", is_drill=True)

    sweep_at(start + timedelta(hours=2))
    assert level_of(incident) == "orange"
    assert incident.status == Status.REPORTED



def queries_of(action):
    """How many statements ``action`` ran, leaving out the extra INSERTs a bulk insert is split into.

    SQLite binds at most 999 parameters a statement, so Django splits a bulk
    insert of forty-odd notifications into batches. That is the driver's limit,
    not work done per person: one bulk insert counts once, however many batches.
    """
    with CaptureQueriesContext(connection) as captured:
        result = action()
    statements = [q["sql"] for q in captured.captured_queries]
    batches = [sql.split(" VALUES", 1)[0] for sql in statements if sql.startswith("INSERT") and " VALUES" in sql]
    extra = sum(1 for previous, current in zip(batches, batches[1:]) if previous == current) if (
        connection.vendor == "sqlite") else 0
    return len(statements) - extra, result


ORANGE_ROLES = ["office", "tech_group", "leadership", "system_technicians", "ops_supervisor"]


def test_opening_an_incident_costs_the_same_queries_however_many_people_are_told(start, reporter, make_person):
    for role in ORANGE_ROLES:
        make_person(role, username=f"{role}-first")
    open_at(start, reporter, "system", "orange")  # reads the plan cell once per process
    few, incident = queries_of(lambda: open_at(start, reporter, "system", "orange"))
    for n in range(10):
        for role in ORANGE_ROLES:
            make_person(role, username=f"{role}-{n}")
    many, crowded = queries_of(lambda: open_at(start, reporter, "system", "orange"))
    assert few == many <= 40
    assert (Notification.objects.filter(incident=crowded).count()
            >= Notification.objects.filter(incident=incident).count() + 40)  # four of the roles, ten more each


def test_a_missed_on_site_deadline_costs_the_same_queries_however_many_people_are_told(
        start, reporter, make_person):
    def miss_first_on_site_deadline():
        incident = open_at(start, reporter, "system", "orange")
        deadline = Deadline.objects.filter(incident=incident, kind=Kind.ON_SITE).order_by("due_at", "id").first()
        with time_machine.travel(deadline.due_at + SECOND, tick=False):
            count, outcome = queries_of(lambda: engine._act(deadline.pk, incident.pk, deadline.kind))
        assert outcome == engine.Outcome.ACTED
        return count

    for role in ORANGE_ROLES:
        make_person(role, username=f"{role}-first")
    miss_first_on_site_deadline()  # reads the plan cell once per process
    few = miss_first_on_site_deadline()
    for n in range(10):
        for role in ORANGE_ROLES:
            make_person(role, username=f"{role}-{n}")
    assert miss_first_on_site_deadline() == few <= 16


def test_a_response_plan_is_due_30_minutes_after_it_is_proposed_when_the_plan_sets_no_approval_window(
        start, reporter, make_person):
    incident = open_at(start, reporter, "system", "orange")
    with time_machine.travel(start, tick=False):
        services.propose_plan(incident, actor=make_person("system_technicians"), text="restart the batch")
    assert timed(incident, Kind.APPROVAL).due_at == start + timedelta(minutes=30)


def test_the_approval_window_is_the_plan_files_approval_within(db, make_person):
    from plan.services import load_plan_text
    from plan.tests.documents import as_yaml, minimal_plan

    document = minimal_plan()
    document["categories"][2]["responses"]["orange"]["approval"] = {"by": "leadership", "within": "10m"}
    version = load_plan_text(as_yaml(document), source="ten-minute approvals")
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        incident = services.log_fault(reporter=make_person("tech_group"), plan_version=version, category="system",
                                      level="orange", title="batch stuck")
        services.propose_plan(incident, actor=make_person("tech_group"), text="restart the batch")
    approval = timed(incident, Kind.APPROVAL)
    assert approval.due_at == start + timedelta(minutes=10)

    assert sweep_at(approval.due_at - SECOND) == 0
    sweep_at(approval.due_at)
    approval.refresh_from_db()
    assert approval.state == State.MISSED
