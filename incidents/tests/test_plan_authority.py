"""What a role may do beyond its cells is plan data: the file's ``authority`` lists (issue 15, the plan is data)."""

import pytest
import yaml
from django.core.management import call_command

from core.errors import Refused
from incidents import services
from notifications.models import Ask, Notification
from plan.models import Role
from plan.services import load_plan_text
from plan.tests.documents import as_yaml, minimal_plan

pytestmark = pytest.mark.django_db


def plan_where(**authority_by_role):
    """The minimal plan with some roles' authority replaced."""
    document = minimal_plan()
    for role in document["roles"]:
        if role["key"] in authority_by_role:
            role["authority"] = authority_by_role[role["key"]]
    return load_plan_text(as_yaml(document), source="authority test")


def test_a_roles_authority_is_stored_and_exported_as_written(capsys):
    version = plan_where(tech_group=["respond_to_every_incident", "review"])
    assert Role.objects.get(version=version, key="tech_group").authority == ["respond_to_every_incident", "review"]
    capsys.readouterr()
    call_command("exportplan")
    roles = {role["key"]: role for role in yaml.safe_load(capsys.readouterr().out)["roles"]}
    assert roles["tech_group"]["authority"] == ["respond_to_every_incident", "review"]


def test_an_unknown_authority_is_refused_with_its_path():
    document = minimal_plan()
    document["roles"][0]["authority"] = ["lower_level", "fire_everyone"]
    with pytest.raises(Exception) as refused:
        load_plan_text(as_yaml(document), source="bad")
    assert "roles.main_leaders.authority[1]" in str(refused.value)
    assert "fire_everyone" in str(refused.value)


def test_only_the_roles_the_plan_lets_lower_a_level_may(make_person):
    plan_where(leadership=[], tech_group=["respond_to_every_incident", "lower_level"])
    incident = services.log_fault(reporter=make_person("tech_group"), category="system", level="yellow", title="t")
    with pytest.raises(Refused) as refused:
        services.deescalate(incident, level_key="blue", actor=make_person("leadership"), reason="better")
    assert refused.value.status_code == 403
    services.deescalate(incident, level_key="blue", actor=make_person("tech_group"), reason="better")
    incident.refresh_from_db()
    assert incident.level.key == "blue"


def test_a_missed_deadline_is_reported_to_the_roles_the_plan_has_coordinate(make_person):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from escalation import services as engine

    plan_where(office=["edit_plan"], main_leaders=["coordinate"])
    chief, office = make_person("main_leaders"), make_person("office")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        incident = services.log_fault(reporter=make_person("tech_group"), category="system", level="yellow",
                                      title="batch stuck")
    with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
        engine.sweep()
    missed = Notification.objects.filter(incident=incident, ask=Ask.MISSED)
    # tech_group's superior in the plan is the office; the coordinating role is now the main leaders.
    assert set(missed.values_list("person", flat=True)) == {office.pk, chief.pk}


def test_announcements_go_to_the_roles_the_plan_has_hear_them(make_person):
    plan_where(tech_group=["respond_to_every_incident", "hear_announcements"])
    technician = make_person("tech_group")
    incident = services.log_fault(reporter=technician, category="system", level="orange", title="savings host down")
    assert Notification.objects.filter(incident=incident, person=technician, ask=Ask.ANNOUNCE).exists()
