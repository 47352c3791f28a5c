"""The sweep acts on due deadlines a batch at a time (incidents.deadlines.act_on_due_many).

A batch is one transaction and one notification fan-out for many deadlines;
what it does must be exactly what acting on them one by one does: the same
states, the same timeline, the same notifications, each deadline once however
many sweepers race, and one failing deadline never holds back the others.
"""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents import deadlines as effects
from incidents import services
from incidents.models import TimelineEntry, TimelineKind
from notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db

# equipment/yellow: two on-site duties within 30 min, no timed escalation, no outside party told
# (plan/plans/credit-system.yaml). system/red has five, and reports to the People's Bank (other kinds).
YELLOW_ROLES = ["system_technicians", "maintenance_supervisor"]
RED_ROLES = ["tech_group", "ops_supervisor", "system_technicians", "office", "leadership"]


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def people(shipped_plan, make_person):
    # The roles missed duties are reported to (superiors, the office) and the ones on site.
    return [make_person(role, username=f"{role}-1") for role in
            {*RED_ROLES, "main_leaders", "maintenance_dept_head", "maintenance_supervisor"}]


def open_many(start, count, category="equipment", level="yellow"):
    with time_machine.travel(start, tick=False):
        return [services.log_fault(reporter=None, category=category, level=level, title=f"fault {i}")
                for i in range(count)]


def queries_of(action):
    """Statements ``action`` ran; a bulk insert SQLite splits (999 parameters a statement) counts once."""
    with CaptureQueriesContext(connection) as captured:
        result = action()
    statements = [q["sql"] for q in captured.captured_queries]
    batches = [sql.split(" VALUES", 1)[0] for sql in statements if sql.startswith("INSERT") and " VALUES" in sql]
    extra = sum(1 for previous, current in zip(batches, batches[1:]) if previous == current) if (
        connection.vendor == "sqlite") else 0
    return len(statements) - extra, result


def effects_of(incidents):
    """Everything acting on the incidents' deadlines recorded, in a form that does not depend on ids or timing."""
    ids = [i.pk for i in incidents]
    order = {pk: n for n, pk in enumerate(ids)}

    def deadline_key(d):
        return order[d.incident_id], d.kind, d.level_key, d.role_key, d.to_role_key

    deadlines = sorted(Deadline.objects.filter(incident_id__in=ids), key=deadline_key)
    timeline = [(order[e.incident_id], e.kind, e.deadline and deadline_key(e.deadline),
                 {k: v for k, v in e.detail.items() if k not in ("lateness_seconds", "announcement")})
                for e in TimelineEntry.objects.filter(incident_id__in=ids).select_related("deadline").order_by("id")]
    timeline.sort(key=lambda t: t[0])  # each incident's own order, as written
    told = sorted((order[n.incident_id], plain(n.event), n.role_key, n.person_id, n.ask, plain(n.title),
                   plain(n.body)) for n in Notification.objects.filter(incident_id__in=ids))
    sent = sorted((order[d.notification.incident_id], d.notification.role_key, d.kind, d.address)
                  for d in Delivery.objects.filter(notification__incident_id__in=ids).select_related("notification"))
    return [plain(repr(part)) for part in ([(deadline_key(d), d.state, d.note) for d in deadlines], timeline,
                                           told, sent)]


def plain(text):
    # Ids differ between two sets of incidents: events name a deadline's or an announcement's, texts the incident's.
    return re.sub(r"#\d+|(?<=:)\d+\b", "#", text)


def test_a_batch_of_missed_duties_records_what_acting_one_by_one_records(start, people, monkeypatch):
    # Red also starts the People's Bank's report deadlines: another app's kind, acted on alone between them.
    batched = open_many(start, 3) + open_many(start, 2, category="system", level="red")
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        acted = engine.sweep()

    one_by_one = open_many(start, 3) + open_many(start, 2, category="system", level="red")
    monkeypatch.setattr(engine, "_batch_handlers", {})
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert engine.sweep() == acted

    assert effects_of(batched) == effects_of(one_by_one)
    on_site = Deadline.objects.filter(incident__in=batched, kind=Kind.ON_SITE)
    assert on_site.count() == 3 * 2 + 2 * 5 and set(on_site.values_list("state", flat=True)) == {State.MISSED}
    missed = TimelineEntry.objects.filter(incident__in=batched, kind=TimelineKind.DEADLINE_MISSED, deadline__in=on_site)
    assert missed.count() == 16 and all(entry.detail["people"] for entry in missed)
    assert Notification.objects.filter(incident__in=batched, event__startswith="deadline:", ask="missed").count() >= 16


def test_an_escalation_in_a_batch_acts_in_due_order_with_its_incidents_other_deadlines(start, people, monkeypatch):
    # system/yellow: ops_supervisor on site within 1 h, orange after 2 h; orange's on-site duties are 30 min.
    # Three hours on: the on-site duty is missed, then the level rises, then orange's duties are missed too.
    batched = open_many(start, 3, category="system") + open_many(start, 2)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        acted = engine.sweep()

    one_by_one = open_many(start, 3, category="system") + open_many(start, 2)
    monkeypatch.setattr(engine, "_batch_handlers", {})
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert engine.sweep() == acted

    assert effects_of(batched) == effects_of(one_by_one)
    for incident in batched[:3]:
        incident.refresh_from_db()
        assert incident.level.key == "orange"
        kinds = list(incident.timeline.filter(deadline__kind__in=[Kind.ON_SITE, Kind.ESCALATION])
                     .order_by("id").values_list("kind", flat=True))
        # Yellow's on-site duty missed, the level raised, then orange's three on-site duties missed.
        assert kinds == [TimelineKind.DEADLINE_MISSED, TimelineKind.LEVEL_CHANGED, *[TimelineKind.DEADLINE_MISSED] * 3]


def test_deadlines_a_level_change_left_behind_are_cancelled_in_the_batch(start, people, monkeypatch):
    incidents = open_many(start, 3)
    # A rise done behind the engine's back (a data repair) leaves the old level's timers pending.
    stale = incidents[1]
    stale.level = stale.plan_version.levels.get(key="orange")
    stale.save(update_fields=["level"])
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert engine.sweep() == 6
    assert set(Deadline.objects.filter(incident=stale, kind=Kind.ON_SITE).values_list("state", flat=True)) == {
        State.CANCELLED}
    entries = TimelineEntry.objects.filter(incident=stale, kind=TimelineKind.DEADLINE_CANCELLED)
    assert {e.detail["why"] for e in entries} == {"level_changed"} and entries.count() == 2
    assert not TimelineEntry.objects.filter(incident=stale, kind=TimelineKind.DEADLINE_MISSED).exists()
    assert Deadline.objects.filter(incident__in=incidents, state=State.MISSED).count() == 4


def test_a_deadline_whose_effect_fails_does_not_hold_back_the_others_in_its_batch(start, people, monkeypatch):
    incidents = open_many(start, 3)
    poisoned = incidents[1]
    real_notify_many = effects.notify_many

    def failing_for_one(items, **kwargs):
        if any(incident.pk == poisoned.pk for incident, _requests, _event in items):
            raise RuntimeError("a channel row nobody can read")
        return real_notify_many(items, **kwargs)

    monkeypatch.setattr(effects, "notify_many", failing_for_one)
    with time_machine.travel(start + timedelta(minutes=31), tick=False), \
            pytest.raises(RuntimeError, match="nobody can read"):
        engine.sweep()

    others = [incidents[0], incidents[2]]
    assert set(Deadline.objects.filter(incident__in=others, kind=Kind.ON_SITE).values_list("state", flat=True)) == {
        State.MISSED}
    assert TimelineEntry.objects.filter(incident__in=others, kind=TimelineKind.DEADLINE_MISSED).count() == 4
    assert Notification.objects.filter(incident__in=others, event__startswith="deadline:").exists()
    # The failing one left no trace and stays due for the next sweep.
    assert set(Deadline.objects.filter(incident=poisoned, kind=Kind.ON_SITE).values_list("state", flat=True)) == {
        State.PENDING}
    assert not Notification.objects.filter(incident=poisoned, event__startswith="deadline:").exists()

    monkeypatch.setattr(effects, "notify_many", real_notify_many)
    with time_machine.travel(start + timedelta(minutes=32), tick=False):
        assert engine.sweep() == 2
    assert TimelineEntry.objects.filter(incident__in=incidents, kind=TimelineKind.DEADLINE_MISSED).count() == 6


def test_a_missed_approval_in_a_batch_also_reminds_the_approvers(start, people, make_person):
    incidents = open_many(start, 2, category="system", level="orange")
    with time_machine.travel(start, tick=False):
        for incident in incidents:
            services.propose_plan(incident, actor=make_person("system_technicians"), text="restart the batch")
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        engine.sweep()
    for incident in incidents:
        approval = incident.deadlines.get(kind=Kind.APPROVAL)
        assert approval.state == State.MISSED
        assert Notification.objects.filter(incident=incident, event=f"deadline:{approval.pk}:remind",
                                           ask="approve").exists()
        assert Notification.objects.filter(incident=incident, event=f"deadline:{approval.pk}", ask="missed").exists()


def test_a_batch_costs_the_same_queries_for_four_missed_deadlines_or_fifty(start, people):
    def sweep_missed(count):
        incidents = open_many(start, count // len(YELLOW_ROLES))
        with time_machine.travel(start + timedelta(minutes=31), tick=False):
            queries, acted = queries_of(engine.sweep)
        assert acted == count
        assert Deadline.objects.filter(incident__in=incidents, state=State.MISSED).count() == count
        return queries

    sweep_missed(4)  # reads the plan's roles once per process
    few = sweep_missed(4)
    assert engine.ACT_BATCH >= 50
    many = sweep_missed(50)
    # The due rows; one batch: two locks, one update, the fan-out (channels, roster, people, what was
    # recorded, notifications in a savepoint, preferences, deliveries), the timeline (chain lock, heads,
    # insert), and the test's own savepoint around the batch; the due rows again (none: a row an action
    # made due, as an escalation's new level can, is acted on in the same sweep). Acting on one deadline
    # alone costs 18 (test_rules.py); four or fifty together cost one more.
    assert many == few <= 19


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only  # real concurrent transactions and SKIP LOCKED: SQLite serialises its writers
def test_concurrent_sweeps_and_nudges_act_on_each_deadline_exactly_once(start, people, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    incidents = open_many(start, 100)  # 200 deadlines: four batches
    due = list(Deadline.objects.filter(incident__in=incidents, state=State.PENDING).order_by("due_at", "id"))
    assert len(due) == 200
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)
    lock = threading.Lock()

    def run(action):
        try:
            barrier.wait(timeout=30)
            acted = action()
            with lock:
                results.append(acted)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def nudges(deadlines):
        # The precise ETA tasks of some deadlines, racing the sweepers for the same rows.
        return lambda: sum(int(engine.act_on(d.pk)) for d in deadlines)

    threads = [threading.Thread(target=run, args=(action,)) for action in (
        engine.sweep, engine.sweep, nudges(due[::7]), nudges(due[100::3]))]
    # One travel for all the threads: time-machine patches the clock of the whole process.
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors
    assert sum(results) == 200  # every deadline acted on by exactly one of them
    assert not Deadline.objects.filter(pk__in=[d.pk for d in due], state=State.PENDING).exists()
    entries = TimelineEntry.objects.filter(deadline__in=due, kind=TimelineKind.DEADLINE_MISSED)
    assert entries.count() == 200 and entries.values("deadline").distinct().count() == 200
    assert Notification.objects.filter(incident__in=incidents, event__startswith="deadline:").values(
        "event").distinct().count() == 200
