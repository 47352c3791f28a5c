"""Who may do what: one table of every plan role × every action, for the API tests and the page tests.

The scenario is fixed: a **system fault at orange under the shipped plan**
(plan 4.3.3). Its cell notifies ops_supervisor, system_technicians, office,
leadership and business_departments; puts system_technicians, office and
leadership on site; has reports from ops_supervisor, office and leadership
up to office, leadership and main_leaders; and needs the leadership group to
approve the response plan. Those roles are its responders
(``incidents.permissions.responder_roles``).

Use ``prepare(action, coordinator=...)`` to get an incident (and a pending
response plan for the plan decisions) in which ``action`` is allowed by the
state machine, so a refusal can only come from the role.
"""

import pytest

from incidents import services

CATEGORY, LEVEL = "system", "orange"
# Targets of the level changes from orange.
ESCALATE_TO, DEESCALATE_TO = "red", "yellow"

NO_ROLE = ""
ROLES = [
    "main_leaders", "leadership", "office", "tech_group", "duty_staff", "ops_supervisor", "maintenance_supervisor",
    "system_technicians", "network_maintainer", "maintenance_dept_head", "maintenance_coordinator",
    "local_maintenance", "local_maintenance_lead", "business_departments", NO_ROLE,
]

# business_departments are told (the announcement) but do not work the incident; the technical
# emergency group always may (plan 2.3.2).
RESPONDERS = frozenset({"ops_supervisor", "system_technicians", "office", "leadership", "main_leaders", "tech_group"})
OFFICE_AND_LEADERS = frozenset({"office", "leadership", "main_leaders"})

# action → the roles that may take it in the scenario; every other role is refused (403).
ALLOWED = {
    "log": frozenset(ROLES) - {NO_ROLE},
    "acknowledge": RESPONDERS,
    "check_in": RESPONDERS,
    "escalate": RESPONDERS,
    "propose_plan": RESPONDERS,
    "approve_plan": frozenset({"leadership"}),
    "reject_plan": frozenset({"leadership"}),
    "resolve": RESPONDERS,
    "update": RESPONDERS,
    "deescalate": OFFICE_AND_LEADERS,
    # Approving the post-incident review (the plan's approve_review authority), which makes it reviewed.
    "review": frozenset({"leadership", "main_leaders"}),
    "edit_plan": frozenset({"office"}),
    # Anyone with a part in the response (the reporter too: see test_notes.py, the coordinator reports here).
    "add_note": RESPONDERS,
}
ACTIONS = list(ALLOWED)


def cases():
    """pytest parameters (role, action, allowed) for every cell of the table."""
    return [
        pytest.param(role, action, role in ALLOWED[action], id=f"{role or 'no_role'}-{action}")
        for action in ACTIONS
        for role in ROLES
    ]


def prepare(action, *, coordinator):
    """An incident of the scenario in which the state machine allows ``action``; returns (incident, plan).

    ``coordinator`` must hold office and leadership: it drives the incident
    there through the services, exactly as people would.
    """
    plan = None
    incident = services.log_fault(reporter=coordinator, category=CATEGORY, level=LEVEL, title="Core system down")
    if action in {"log", "acknowledge", "edit_plan"}:
        return incident, plan
    incident = services.acknowledge(incident, actor=coordinator)
    if action in {"approve_plan", "reject_plan"}:
        plan = services.propose_plan(incident, actor=coordinator, text="Fail over to the standby host.")
    elif action == "review":
        incident = services.resolve(incident, actor=coordinator, summary="Restarted the host.")
        # The office writes and submits the review through the API (the reviews app, a layer above this one).
        from rest_framework.test import APIClient

        office = APIClient()
        office.force_authenticate(coordinator)
        office.put(f"/api/v1/incidents/{incident.pk}/review/", {
            "summary": "Host hung.", "impact": "Core down.", "root_cause": "Kernel bug.", "went_wrong": "Late.",
            "lessons": "Patch."}, format="json")
        assert office.post(f"/api/v1/incidents/{incident.pk}/review/submit/").status_code == 200
    return incident, plan
