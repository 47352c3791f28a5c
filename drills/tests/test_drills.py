"""Drills: scheduled, started, scripted and scored against the plan, through the real engine."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation
from pypdf import PdfReader

from drills import services
from drills.models import Drill, DrillStatus
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents import services as incident_services
from incidents.models import Incident, TimelineKind
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def schedule(office, **fields):
    person, client = office
    body = {"title": "Backbone down", "category": "network", "level": "red",
            "starts_at": (timezone.now() + timedelta(minutes=5)).isoformat(), **fields}
    return client.post("/api/v1/drills/", body, format="json")


def test_a_drill_scheduled_in_the_past_is_refused_naming_starts_at(office):
    answer = schedule(office, starts_at=(timezone.now() - timedelta(hours=1)).isoformat())
    assert answer.status_code == 400
    assert "past" in answer.json()["starts_at"][0]
    assert not Drill.objects.exists()


@pytest.mark.parametrize("clock", [0, 0.5, 7200, -3])
def test_a_compressed_clock_outside_its_allowed_range_is_refused(office, clock, settings):
    settings.DRILLS_CLOCK_MIN, settings.DRILLS_CLOCK_MAX = 1, 3600
    answer = schedule(office, clock=clock)
    assert answer.status_code == 400
    assert "between 1 and 3600" in answer.json()["clock"][0]
    assert not Drill.objects.exists()


def test_unknown_participants_and_levels_are_refused_by_name(office):
    answer = schedule(office, participants=["nobody-here"],
                      injections=[{"after": "10m", "action": "escalate", "level": "purple"}])
    assert answer.status_code == 400
    assert "nobody-here" in answer.json()["participants"][0]
    assert "injection 1" in answer.json()["injections"][0]


def test_only_the_emergency_office_schedules_a_drill(plan, make_person, api_client_for):
    client = api_client_for(make_person("network_maintainer"))
    answer = client.post("/api/v1/drills/", {"title": "x", "category": "network", "level": "red",
                                             "starts_at": (timezone.now() + timedelta(minutes=5)).isoformat()},
                         format="json")
    assert answer.status_code == 403
    assert not Drill.objects.exists()


def test_starting_opens_a_drill_incident_under_the_full_plan_cell_on_the_compressed_clock(office, responders):
    answer = schedule(office, clock=60)
    assert answer.status_code == 201, answer.json()
    person, client = office
    started = client.post(f"/api/v1/drills/{answer.json()['id']}/start/")
    assert started.status_code == 200, started.json()
    incident = Incident.objects.get(pk=started.json()["incident"])
    assert incident.is_drill and incident.clock == 60 and incident.level.key == "red"
    # Red network (plan 4.1.4): four roles on site within 30 min of plan time = 30 real seconds at ×60.
    arrivals = Deadline.objects.filter(incident=incident, kind=Kind.ON_SITE)
    assert {d.role_key for d in arrivals} == {"network_maintainer", "maintenance_dept_head", "office", "leadership"}
    assert {(d.due_at - d.started_at) for d in arrivals} == {timedelta(seconds=30)}
    # The scheduled start is no longer pending: the office started it.
    assert not Deadline.objects.filter(kind=Kind.DRILL_STEP, state=State.PENDING, incident__isnull=True).exists()
    # The API lists it as a drill.
    assert client.get(f"/api/v1/incidents/{incident.pk}/").json()["drill"] is True


def test_starting_a_drill_twice_is_refused(office, responders):
    person, client = office
    drill_id = schedule(office).json()["id"]
    assert client.post(f"/api/v1/drills/{drill_id}/start/").status_code == 200
    again = client.post(f"/api/v1/drills/{drill_id}/start/")
    assert again.status_code == 409
    assert "already started" in str(again.json())
    assert Incident.objects.filter(is_drill=True).count() == 1


def test_a_scheduled_drill_starts_itself_when_its_time_comes(office, responders):
    drill = Drill.objects.get(pk=schedule(office).json()["id"])
    assert engine.sweep() == 0
    with time_machine.travel(drill.starts_at + timedelta(seconds=1), tick=False):
        assert engine.sweep() >= 1
    drill.refresh_from_db()
    assert drill.status == DrillStatus.RUNNING and drill.incident.is_drill
    assert drill.started_by is None


def test_scripted_injections_worsen_the_level_through_the_plan_then_recover_the_alert(office, responders):
    person, client = office
    body = schedule(office, level="orange", clock=60, injections=[
        {"after": "10m", "action": "escalate", "level": "red"}, {"after": "20m", "action": "recover"}]).json()
    drill = Drill.objects.get(pk=body["id"])
    services.drill_start(drill, actor=person)
    drill.refresh_from_db()
    incident = drill.incident
    incident_services.acknowledge(incident, actor=responders["network_maintainer"])
    step = Deadline.objects.get(kind=Kind.DRILL_STEP, subject=f"drill:{drill.pk}:step:1")
    assert step.due_at - drill.started_at == timedelta(seconds=10)  # 10 min of plan time at ×60

    with time_machine.travel(step.due_at + timedelta(seconds=1), tick=False):
        engine.sweep()
    incident.refresh_from_db()
    assert incident.level.key == "red"
    changed = incident.timeline.get(kind=TimelineKind.LEVEL_CHANGED)
    assert changed.detail["cause"] == "plan" and changed.at == step.due_at
    # The red cell's response started: main leaders now approve (plan 4.1.4).
    assert Deadline.objects.filter(incident=incident, level_key="red", kind=Kind.ON_SITE).count() == 4

    with time_machine.travel(drill.started_at + timedelta(seconds=21), tick=False):
        engine.sweep()
    incident.refresh_from_db()
    assert incident.status == "recovered"
    # Each injection acted exactly once.
    assert Deadline.objects.filter(kind=Kind.DRILL_STEP, incident=incident, state=State.FIRED).count() == 2


def test_ending_the_drill_scores_every_requirement_with_both_clocks(office, responders):
    person, client = office
    drill = Drill.objects.get(pk=schedule(office, clock=60).json()["id"])
    services.drill_start(drill, actor=person)
    drill.refresh_from_db()
    incident = drill.incident
    maintainer = responders["network_maintainer"]
    incident_services.check_in(incident, actor=maintainer)  # on site at once: met; their messages answered
    late = drill.started_at + timedelta(seconds=40)
    with time_machine.travel(late, tick=False):
        engine.sweep()  # the other arrivals (30 s real) are missed
        ended = client.post(f"/api/v1/drills/{drill.pk}/end/", {"summary": "Tabletop done"}, format="json")
        assert ended.status_code == 200, ended.json()
    card = client.get(f"/api/v1/drills/{drill.pk}/scorecard/").json()
    on_site = {i["role"]: i for i in card["items"] if i["requirement"] == "on_site"}
    assert on_site["network_maintainer"]["met"] is True
    assert on_site["network_maintainer"]["people"] == [maintainer.username]
    assert on_site["maintenance_dept_head"]["met"] is False and on_site["maintenance_dept_head"]["met_at"] is None
    assert on_site["maintenance_dept_head"]["people"] == ["maintenance-dept-head"]  # who should have
    assert on_site["leadership"]["due_after_s"] == 30 and on_site["leadership"]["due_after_plan_s"] == 1800
    acknowledgements = {i["people"][0]: i for i in card["items"] if i["requirement"] == "acknowledge"}
    assert acknowledgements[maintainer.username]["met"] is True
    assert acknowledgements["maintenance-dept-head"]["met"] is False
    reports = [i for i in card["items"] if i["requirement"] == "report"]
    assert {(i["role"], i["met"]) for i in reports} >= {("maintenance_dept_head", True), ("leadership", True)}
    met = sum(i["met"] for i in card["items"])
    assert card["score"] == round(100 * met / len(card["items"]))
    assert 0 < card["score"] < 100
    assert card["clock"] == 60 and card["plan_elapsed_s"] == pytest.approx(card["real_elapsed_s"] * 60, rel=0.01)
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert not Deadline.objects.filter(incident=incident, state=State.PENDING).exists()
    # Everyone the drill told took part.
    assert drill.participations.filter(person=responders["maintenance_dept_head"]).exists()


def test_the_scorecard_waits_for_the_end_and_exports_a_marked_pdf(office, responders):
    person, client = office
    drill = Drill.objects.get(pk=schedule(office).json()["id"])
    services.drill_start(drill, actor=person)
    assert client.get(f"/api/v1/drills/{drill.pk}/scorecard/").status_code == 409
    client.patch(f"/api/v1/drills/{drill.pk}/", {"observations": "Dept head never answered."}, format="json")
    services.drill_end(drill, actor=person)
    pdf = client.get(f"/api/v1/drills/{drill.pk}/scorecard/?format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert text.startswith("[DRILL]") and "Dept head never answered." in text
    squeezed = "".join(text.split())  # table cells wrap
    assert "Confirmreadingthemessage" in squeezed and "missed" in squeezed
    with translation.override("zh-hans"):
        from drills.documents import scorecard_pdf

        drill.refresh_from_db()
        chinese = "".join(p.extract_text() for p in PdfReader(io.BytesIO(scorecard_pdf(drill))).pages)
    assert chinese.startswith("【演练】")


def test_ending_a_drill_that_is_not_running_is_refused(office, responders):
    person, client = office
    drill_id = schedule(office).json()["id"]
    assert client.post(f"/api/v1/drills/{drill_id}/end/").status_code == 409
    client.post(f"/api/v1/drills/{drill_id}/start/")
    assert client.post(f"/api/v1/drills/{drill_id}/end/").status_code == 200
    assert client.post(f"/api/v1/drills/{drill_id}/end/").status_code == 409


def test_every_drill_message_starts_with_the_drill_mark_in_its_readers_language(office, responders, make_person):
    english, chinese = make_person("leadership", language="en"), make_person("leadership", language="zh-hans")
    person, _client = office
    drill = Drill.objects.get(pk=schedule(office).json()["id"])
    services.drill_start(drill, actor=person)
    drill.refresh_from_db()
    told = {n.person_id: n for n in Notification.objects.filter(incident=drill.incident, person__in=[english, chinese])}
    assert told[english.pk].title.startswith("[DRILL]") and told[english.pk].body.startswith("[DRILL]")
    assert told[chinese.pk].title.startswith("【演练】") and told[chinese.pk].body.startswith("【演练】")


def test_a_real_incident_cannot_run_a_faster_clock(plan, make_person):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        incident_services.log_fault(reporter=make_person("office"), category="network", level="red", title="x",
                                    clock=60)
    assert "clock" in refused.value.message_dict


def test_the_drill_and_readiness_pages_name_the_plans_categories_levels_and_roles(office, responders, client):
    answer = schedule(office, clock=60)
    person, _client = office
    person.language = "zh-hans"
    person.save(update_fields=["language"])
    client.force_login(person)
    detail = client.get(f"/drills/{answer.json()['id']}/").content.decode()
    assert 'data-category="network">网络</dd>' in detail
    assert 'data-level="red">特别严重预警（一级）</dd>' in detail
    readiness = client.get("/readiness/").content.decode()
    maintainer = readiness.split('data-person="network-maintainer"')[1].split("</tr>")[0]
    assert "网络维护员" in maintainer and "network_maintainer" not in maintainer
