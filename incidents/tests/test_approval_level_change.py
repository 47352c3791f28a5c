"""A level change re-asks a pending response plan's approval of the new level (plan rule 7, finding 2)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from escalation.models import Deadline, Kind, State
from incidents import services
from incidents.models import PlanStatus, ResponsePlan, TimelineEntry, TimelineKind
from notifications.models import Ask, Notification


@pytest.fixture
def orange_plan(shipped_plan, make_person):
    office = make_person("office")
    incident = services.log_fault(reporter=office, category="network", level="orange", title="Core switch down")
    services.acknowledge(incident, actor=office)
    plan = services.propose_plan(incident, actor=office, text="Fail over to the backup line.")
    assert plan.approver_role_key == "leadership"
    return incident, plan, office


def test_after_orange_to_red_main_leaders_approve_and_leadership_is_refused(orange_plan, make_person,
                                                                             api_client_for):
    incident, plan, office = orange_plan
    leadership, main = make_person("leadership"), make_person("main_leaders")
    services.escalate(incident, level_key="red", actor=office, reason="Worsening fast.")

    plan.refresh_from_db()
    assert plan.approver_role_key == "main_leaders"
    refused = api_client_for(leadership).post(f"/api/v1/plans/{plan.pk}/approve/", {"comment": "Go."}, format="json")
    assert refused.status_code == 403
    approved = api_client_for(main).post(f"/api/v1/plans/{plan.pk}/approve/", {"comment": "Go."}, format="json")
    assert approved.status_code == 200, approved.content
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.decided_by == main


def test_approval_deadline_restarts_from_the_level_change_for_the_new_approver(orange_plan, make_person):
    incident, plan, office = orange_plan
    main = make_person("main_leaders")
    first = Deadline.objects.get(incident=incident, kind=Kind.APPROVAL, state=State.PENDING)
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        services.escalate(incident, level_key="red", actor=office, reason="Worsening fast.")
    first.refresh_from_db()
    assert first.state == State.CANCELLED
    new = Deadline.objects.get(incident=incident, kind=Kind.APPROVAL, state=State.PENDING)
    assert (new.role_key, new.level_key, new.started_at) == ("main_leaders", "red", later)
    assert new.due_at > first.due_at
    assert Notification.objects.filter(incident=incident, person=main, ask=Ask.APPROVE).exists()
    note = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.NOTE).get()
    assert (note.detail["approver_role_from"], note.detail["approver_role"]) == ("leadership", "main_leaders")


def test_lowered_to_a_level_without_approval_the_plan_stays_pending_with_its_approver(orange_plan, make_person):
    incident, plan, office = orange_plan
    services.deescalate(incident, level_key="yellow", actor=office, reason="Contained.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING and plan.approver_role_key == "leadership"
    assert Deadline.objects.filter(incident=incident, kind=Kind.APPROVAL, state=State.PENDING,
                                   level_key="yellow", role_key="leadership").exists()


def test_refusal_names_the_approver_role_in_the_readers_language_not_its_key(orange_plan, make_person,
                                                                             api_client_for):
    from plan.models import Role

    incident, plan, office = orange_plan
    # Yellow needs no approval: the plan keeps "leadership" as approver while the cell has none.
    services.deescalate(incident, level_key="yellow", actor=office, reason="Contained.")
    role = Role.objects.get(version=incident.plan_version, key="leadership")
    client = api_client_for(make_person("office"))
    response = client.post(f"/api/v1/plans/{plan.pk}/approve/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    text = response.json()["detail"] if "detail" in response.json() else response.content.decode()
    assert role.name_zh in text and "leadership" not in text, text
