"""Two people act on one incident at the same moment: exactly one wins, the other is cleanly refused.

To make "the same moment" certain rather than likely, the test holds the
incident's row lock, starts both actors, waits until PostgreSQL shows both
blocked on that lock, then lets go: they race from the same instant.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import translation

from core.errors import Refused
from incidents import services
from incidents.models import Incident, ResponsePlan, TimelineEntry, TimelineKind

# Real concurrent connections and pg_stat_activity: SQLite serialises writers, so there is no race to prove.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def waiting_on_locks():
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps one snapshot of the statistics views unless told to drop it.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def race(incident, *actions):
    """Run each action in its own thread (own connection), all released at once. Returns their outcomes."""
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            with translation.override("en"):
                outcomes[index] = ("won", action())
        except (Refused, ValidationError) as exc:
            outcomes[index] = ("refused", exc)
        except Exception as exc:  # noqa: BLE001 - reported as a failure below, not swallowed
            outcomes[index] = ("crashed", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    with transaction.atomic():
        Incident.objects.select_for_update().get(pk=incident.pk)
        for thread in threads:
            thread.start()
        give_up = time.monotonic() + 30
        while waiting_on_locks() < len(actions):
            assert time.monotonic() < give_up, "the actors never reached the incident lock"
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=60)
    assert all(outcome is not None and outcome[0] != "crashed" for outcome in outcomes), outcomes
    return outcomes


def one_won(outcomes):
    won = [o for o in outcomes if o[0] == "won"]
    refused = [o[1] for o in outcomes if o[0] == "refused"]
    assert len(won) == 1 and len(refused) == 1, outcomes
    return won[0][1], refused[0]


@pytest.fixture
def orange_incident(shipped_plan, make_person):
    office = make_person("office", "ops_supervisor")
    incident = services.log_fault(reporter=office, category="system", level="orange", title="Savings host down")
    return services.acknowledge(incident, actor=office), office


def entries(incident, kind):
    return TimelineEntry.objects.filter(incident=incident, kind=kind).count()


def test_two_approvals_of_one_plan_at_once_approve_it_once(orange_incident, make_person):
    incident, office = orange_incident
    plan = services.propose_plan(incident, actor=office, text="Fail over to the standby host.")
    first, second = make_person("leadership"), make_person("leadership")

    outcomes = race(incident,
                    lambda: services.approve_plan(plan, actor=first, comment="Go."),
                    lambda: services.approve_plan(plan, actor=second, comment="Go ahead."))

    winner, refusal = one_won(outcomes)
    assert isinstance(refusal, Refused) and refusal.status_code == 409 and refusal.code == "invalid_transition"
    assert "already" in str(refusal.message)
    assert entries(incident, TimelineKind.PLAN_APPROVED) == 1
    assert ResponsePlan.objects.get(pk=plan.pk).decided_by_id == winner.decided_by_id


def test_approve_and_reject_at_once_decide_the_plan_once(orange_incident, make_person):
    incident, office = orange_incident
    plan = services.propose_plan(incident, actor=office, text="Fail over to the standby host.")
    first, second = make_person("leadership"), make_person("leadership")

    outcomes = race(incident,
                    lambda: services.approve_plan(plan, actor=first, comment="Go."),
                    lambda: services.reject_plan(plan, actor=second, comment="Too risky."))

    winner, refusal = one_won(outcomes)
    assert isinstance(refusal, Refused) and refusal.code == "invalid_transition"
    assert entries(incident, TimelineKind.PLAN_APPROVED) + entries(incident, TimelineKind.PLAN_REJECTED) == 1
    incident.refresh_from_db()
    assert incident.status == ("plan_approved" if winner.status == "approved" else "plan_rejected")


def test_two_resolutions_at_once_resolve_it_once(orange_incident, make_person):
    incident, office = orange_incident
    colleague = make_person("office")

    outcomes = race(incident,
                    lambda: services.resolve(incident, actor=office, summary="Restarted the host."),
                    lambda: services.resolve(incident, actor=colleague, summary="Failed over."))

    winner, refusal = one_won(outcomes)
    assert isinstance(refusal, Refused) and refusal.status_code == 409 and refusal.code == "invalid_transition"
    assert entries(incident, TimelineKind.RESOLVED) == 1
    incident.refresh_from_db()
    assert incident.resolved_by_id == winner.resolved_by_id and incident.status == "resolved"


def test_two_escalations_to_the_same_level_at_once_raise_it_once(orange_incident, make_person):
    incident, office = orange_incident
    colleague = make_person("office")

    outcomes = race(incident,
                    lambda: services.escalate(incident, level_key="red", actor=office, reason="Province-wide outage."),
                    lambda: services.escalate(incident, level_key="red", actor=colleague, reason="Nothing works."))

    _winner, refusal = one_won(outcomes)
    assert isinstance(refusal, ValidationError) and "level" in refusal.message_dict
    assert TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.LEVEL_CHANGED,
                                        detail__to="red").count() == 1


def test_two_acknowledgements_through_the_api_at_once_answer_200_and_409(shipped_plan, make_person,
                                                                         api_client_for):
    reporter = make_person("duty_staff")
    incident = services.log_fault(reporter=reporter, category="system", level="yellow", title="Savings host slow")
    clients = [api_client_for(make_person("ops_supervisor")) for _ in range(2)]
    url = f"/api/v1/incidents/{incident.pk}/acknowledge/"

    outcomes = race(incident, *[lambda client=client: client.post(url) for client in clients])

    assert sorted(response.status_code for _won, response in outcomes) == [200, 409]
    assert entries(incident, TimelineKind.ACKNOWLEDGED) == 1
