"""Every plan role × every action through the API, from the one table in permission_table.py."""

import pytest

from escalation.models import Deadline
from incidents import permissions
from incidents.models import Incident, ResponsePlan, TimelineEntry
from incidents.tests import permission_table as table

API_CASES = [case for case in table.cases() if case.values[1] != "edit_plan"]
EDIT_PLAN_CASES = [case for case in table.cases() if case.values[1] == "edit_plan"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # make_person sets a password; the default PBKDF2 costs most of a test's time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def call(client, action, incident, plan):
    """The API request that takes ``action``."""
    base = f"/api/v1/incidents/{incident.pk}"
    requests = {
        "log": lambda: client.post("/api/v1/incidents/", {"title": "Host down", "category": table.CATEGORY,
                                                          "level": table.LEVEL}, format="json"),
        "acknowledge": lambda: client.post(f"{base}/acknowledge/"),
        "check_in": lambda: client.post(f"{base}/check-in/"),
        "escalate": lambda: client.post(f"{base}/escalate/", {"level": table.ESCALATE_TO, "reason": "Worse."},
                                        format="json"),
        "deescalate": lambda: client.post(f"{base}/deescalate/", {"level": table.DEESCALATE_TO, "reason": "Better."},
                                          format="json"),
        "propose_plan": lambda: client.post(f"{base}/plans/", {"text": "Fail over."}, format="json"),
        "approve_plan": lambda: client.post(f"/api/v1/plans/{plan.pk}/approve/", {"comment": "Go."}, format="json"),
        "reject_plan": lambda: client.post(f"/api/v1/plans/{plan.pk}/reject/", {"comment": "No."}, format="json"),
        "resolve": lambda: client.post(f"{base}/resolve/", {"summary": "Fixed."}, format="json"),
        "update": lambda: client.patch(f"{base}/", {"title": "Host down since 9:00"}, format="json"),
        "review": lambda: client.post(f"{base}/review/approve/"),
        "add_note": lambda: client.post(f"{base}/notes/", {"text": "Disk at 97 %."}, format="json"),
    }
    return requests[action]()


def snapshot():
    return (Incident.objects.count(), TimelineEntry.objects.count(), Deadline.objects.count(),
            list(Incident.objects.values_list("id", "status", "level__key", "title").order_by("id")),
            list(ResponsePlan.objects.values_list("id", "status").order_by("id")))


def test_the_table_covers_every_role_and_every_action_of_the_brief():
    assert set(table.ACTIONS) >= {"log", "acknowledge", "check_in", "escalate", "propose_plan", "approve_plan",
                                  "reject_plan", "resolve", "deescalate", "review", "edit_plan"}
    assert len(table.cases()) == len(table.ROLES) * len(table.ACTIONS)


@pytest.mark.parametrize("role, action, allowed", API_CASES)
def test_role_may_or_may_not_take_the_action_through_the_api(shipped_plan, make_person, api_client_for, role,
                                                               action, allowed):
    coordinator = make_person("office", "leadership")
    incident, plan = table.prepare(action, coordinator=coordinator)
    person = make_person(*([role] if role else []))
    client = api_client_for(person)
    before = snapshot()

    response = call(client, action, incident, plan)

    if allowed:
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == 403, response.content
        # No role at all is refused before the action's own rule (people/access.py).
        assert response.json()["code"] == ("forbidden" if role else "no_plan_role")
        assert response.json()["detail"]
        assert snapshot() == before


@pytest.mark.parametrize("role, action, allowed", EDIT_PLAN_CASES)
def test_only_the_office_may_edit_the_emergency_plan(shipped_plan, make_person, role, action, allowed):
    # No API endpoint edits the plan (it is loaded with `loadplan` or on the pages); the rule is the same function.
    person = make_person(*([role] if role else []))

    assert (permissions.refusal(person, action=action) is None) is allowed
