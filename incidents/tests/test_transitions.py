"""Every allowed and every refused transition of incidents.states.TRANSITIONS, through the services."""

import pytest
from django.utils import translation

from core.errors import Refused
from escalation.models import Deadline
from incidents import services
from incidents.models import PlanStatus, ResponsePlan, TimelineEntry, TimelineKind
from incidents.states import ACTION_NAMES, TRANSITIONS, Status, target_status

# Every status, reached the way people reach it: the services, one step after another.
PATHS = {
    Status.REPORTED: [],
    Status.ACKNOWLEDGED: ["acknowledge"],
    Status.ON_SITE: ["acknowledge", "check_in"],
    Status.PLAN_PROPOSED: ["acknowledge", "propose_plan"],
    Status.PLAN_APPROVED: ["acknowledge", "propose_plan", "approve_plan"],
    Status.PLAN_REJECTED: ["acknowledge", "propose_plan", "reject_plan"],
    Status.IMPLEMENTING: ["acknowledge", "propose_plan", "approve_plan", "start_implementing"],
    Status.RECOVERED: ["acknowledge", "mark_recovered"],
    Status.RESOLVED: ["acknowledge", "resolve"],
    # The way people reach reviewed: the post-incident review written, submitted and approved (reviews app).
    Status.REVIEWED: ["acknowledge", "resolve", "approve_review"],
    Status.ARCHIVED: ["acknowledge", "resolve", "approve_review", "archive"],
}
# The root conftest's approve_review fixture (this package may not import the reviews app above it).
THE_REVIEW = {}

ENTRY_OF = {
    "acknowledge": TimelineKind.ACKNOWLEDGED, "check_in": TimelineKind.CHECKED_IN,
    "propose_plan": TimelineKind.PLAN_PROPOSED, "approve_plan": TimelineKind.PLAN_APPROVED,
    "reject_plan": TimelineKind.PLAN_REJECTED, "start_implementing": TimelineKind.IMPLEMENTING,
    "mark_recovered": TimelineKind.RECOVERED, "resolve": TimelineKind.RESOLVED, "review": TimelineKind.REVIEWED,
    "archive": TimelineKind.ARCHIVED, "escalate": TimelineKind.LEVEL_CHANGED,
    "deescalate": TimelineKind.LEVEL_CHANGED, "update": TimelineKind.UPDATED,
    "announce": TimelineKind.ANNOUNCED, "add_note": TimelineKind.NOTE, "end_drill": TimelineKind.RESOLVED,
}


def act(action, incident, actor):
    """Do ``action`` through its service, as the page and the API do."""
    pending = incident.response_plans.filter(status=PlanStatus.PENDING).first()
    calls = {
        "acknowledge": lambda: services.acknowledge(incident, actor=actor),
        "check_in": lambda: services.check_in(incident, actor=actor),
        "propose_plan": lambda: services.propose_plan(incident, actor=actor, text="Fail over to the standby host."),
        "approve_plan": lambda: services.approve_plan(pending, actor=actor, comment="Go ahead."),
        "reject_plan": lambda: services.reject_plan(pending, actor=actor, comment="Too risky."),
        "start_implementing": lambda: services.start_implementing(incident, actor=actor),
        "mark_recovered": lambda: services.mark_recovered(incident, actor=actor),
        "resolve": lambda: services.resolve(incident, actor=actor, summary="Restarted the batch."),
        "review": lambda: services.review(incident, actor=actor),
        "approve_review": lambda: THE_REVIEW["approve"](incident, writer=actor),
        "archive": lambda: services.archive(incident, actor=actor),
        "escalate": lambda: services.escalate(incident, level_key="red", actor=actor, reason="Worse."),
        "deescalate": lambda: services.deescalate(incident, level_key="yellow", actor=actor, reason="Better."),
        "update": lambda: services.update_details(incident, actor=actor, changes={"title": "Savings host down"}),
        "announce": lambda: services.announce(incident, author=actor, text_zh="请各业务部门注意"),
        "add_note": lambda: services.add_note(incident, actor=actor, text="Disk at 97 %."),
        "end_drill": lambda: services.end_drill(incident, actor=actor, summary="Exercise over."),
    }
    return calls[action]()


def incident_in(status, actor, level="orange", drill=False):
    """A system fault at ``level`` (orange needs leadership's approval of the plan) in ``status``."""
    incident = services.log_fault(reporter=actor, category="system", level=level, title="Savings host slow",
                                  is_drill=drill)
    for step in PATHS[status]:
        act(step, incident, actor)
    incident.refresh_from_db()
    assert incident.status == status
    return incident


def state_of(incident):
    incident.refresh_from_db()
    return (incident.status, incident.level.key, incident.title,
            TimelineEntry.objects.filter(incident=incident).count(),
            list(Deadline.objects.filter(incident=incident).values_list("id", "state").order_by("id")),
            list(incident.response_plans.values_list("id", "status").order_by("id")))


ALLOWED = [(a, s) for a, (sources, _t) in TRANSITIONS.items() for s in Status if s in sources]
REFUSED = [(a, s) for a, (sources, _t) in TRANSITIONS.items() for s in Status if s not in sources]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # make_person sets a password; the default PBKDF2 costs most of a test's time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _reviews(approve_review):
    THE_REVIEW["approve"] = approve_review


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def coordinator(shipped_plan, make_person):
    """Office and leadership: responders of every system cell, the approvers of orange plans."""
    return make_person("office", "leadership", "ops_supervisor")


def test_the_table_covers_every_status_and_both_lists_are_complete():
    assert set(PATHS) == set(Status)
    assert len(ALLOWED) + len(REFUSED) == len(TRANSITIONS) * len(Status)
    assert set(ENTRY_OF) == set(TRANSITIONS)


@pytest.mark.parametrize("action, status", ALLOWED, ids=[f"{a}-from-{s}" for a, s in ALLOWED])
def test_allowed_transition_moves_the_incident_and_records_it(coordinator, action, status):
    # The orange cell needs an approved plan before work starts; the table's other route is a cell without approval.
    level = "yellow" if action == "start_implementing" and status != Status.PLAN_APPROVED else "orange"
    incident = incident_in(status, coordinator, level=level, drill=action == "end_drill")
    entries_before = TimelineEntry.objects.filter(incident=incident, kind=ENTRY_OF[action]).count()

    act(action, incident, coordinator)

    incident.refresh_from_db()
    assert incident.status == target_status(action, status=status)
    assert TimelineEntry.objects.filter(incident=incident, kind=ENTRY_OF[action]).count() == entries_before + 1


@pytest.mark.parametrize("action, status", REFUSED, ids=[f"{a}-from-{s}" for a, s in REFUSED])
def test_refused_transition_says_why_and_writes_nothing(coordinator, action, status):
    incident = incident_in(status, coordinator, drill=action == "end_drill")
    if action in {"approve_plan", "reject_plan"} and not incident.response_plans.filter(
            status=PlanStatus.PENDING).exists():
        # A decision needs a plan to decide on: one left pending, so only the state machine can refuse.
        ResponsePlan.objects.create(incident=incident, text="Old proposal", approver_role_key="leadership")
    before = state_of(incident)

    with pytest.raises(Refused) as refused:
        act(action, incident, coordinator)

    assert refused.value.status_code == 409
    if status == Status.ARCHIVED:
        # An archived record refuses every write the same way, before the state machine (guard.lock).
        assert refused.value.code == "archived"
        assert str(refused.value.message) == (f"incident {incident.pk} is archived: its record is closed and can "
                                              f"no longer change")
    else:
        assert refused.value.code == "invalid_transition"
        assert str(refused.value.message).startswith(f"cannot {ACTION_NAMES[action]}: ")
    assert state_of(incident) == before


def test_resolving_while_a_plan_awaits_approval_names_the_approver(coordinator):
    incident = incident_in(Status.PLAN_PROPOSED, coordinator)

    with pytest.raises(Refused, match=r"^cannot resolve: the response plan awaits approval by "
                                      r"Emergency leadership group$"):
        act("resolve", incident, coordinator)


def test_resolving_an_unacknowledged_incident_says_nobody_took_it_on(coordinator):
    incident = incident_in(Status.REPORTED, coordinator)

    with pytest.raises(Refused, match="^cannot resolve: nobody has acknowledged the incident yet$"):
        act("resolve", incident, coordinator)


def test_a_closed_incident_names_its_status(coordinator):
    incident = incident_in(Status.REVIEWED, coordinator)

    with pytest.raises(Refused, match="^cannot escalate: the incident is Reviewed$"):
        act("escalate", incident, coordinator)


def test_work_cannot_start_before_the_required_approval(coordinator):
    for status in (Status.ACKNOWLEDGED, Status.ON_SITE):
        incident = incident_in(status, coordinator)
        before = state_of(incident)

        with pytest.raises(Refused, match="approve a response plan first") as refused:
            act("start_implementing", incident, coordinator)

        assert refused.value.code == "approval_required"
        assert state_of(incident) == before


def test_deciding_twice_on_one_plan_is_refused(coordinator):
    incident = incident_in(Status.PLAN_APPROVED, coordinator)
    plan = incident.response_plans.get()

    with pytest.raises(Refused, match="^cannot reject the response plan: it is already Approved$"):
        services.reject_plan(plan, actor=coordinator, comment="Changed my mind.")
