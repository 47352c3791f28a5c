"""Plan 4.2.2: resolve only after the plan's role watched the recovered system and confirmed it stable;
deadlines that end with the incident end on the record; every level change names its real cause.

Equipment yellow is the shipped plan's one cell with a stability rule (maintenance supervisor, 30 min).
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents import services
from incidents.models import TimelineEntry, TimelineKind

pytestmark = pytest.mark.django_db

WATCH = timedelta(minutes=30)


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def people(shipped_plan, make_person):
    return {
        "reporter": make_person("duty_staff", username="reporter"),
        "supervisor": make_person("maintenance_supervisor", username="supervisor"),
        "technician": make_person("system_technicians", username="technician"),
        "office": make_person("office", username="office"),
        "leader": make_person("leadership", username="leader"),
    }


def at(moment):
    return time_machine.travel(moment, tick=False)


def recovered_equipment_fault(start, people, *, recovered_after=timedelta(minutes=10)):
    """An equipment-yellow fault, taken on and marked recovered ``recovered_after`` after ``start``."""
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="equipment", level="yellow",
                                      title="Peripheral storage array fault")
    with at(start + timedelta(minutes=5)):
        services.acknowledge(incident, actor=people["technician"])
    with at(start + recovered_after):
        services.mark_recovered(incident, actor=people["technician"], note="array rebuilt")
    incident.refresh_from_db()
    return incident


def kinds(incident):
    return list(TimelineEntry.objects.filter(incident=incident).order_by("at", "id").values_list("kind", flat=True))


# --- the stability rule --------------------------------------------------------------------------


def test_marking_recovered_starts_the_watch_the_plan_asks(start, people):
    incident = recovered_equipment_fault(start, people)
    assert incident.recovered_at == start + timedelta(minutes=10)
    recovered = incident.timeline.get(kind=TimelineKind.RECOVERED)
    assert recovered.detail["stability_by"] == "maintenance_supervisor"
    assert recovered.detail["watch_seconds"] == WATCH.total_seconds()


def test_resolving_a_second_after_recovery_is_refused_naming_the_watch(start, people, api_client_for):
    incident = recovered_equipment_fault(start, people)
    client = api_client_for(people["supervisor"])
    with at(incident.recovered_at + timedelta(seconds=1)):
        response = client.post(f"/api/v1/incidents/{incident.pk}/resolve/",
                               {"summary": "Rebuilt the array", "stability": "I/O normal"}, format="json",
                               HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "stability_not_confirmed"
    assert "30 minutes after recovery" in body["detail"] and "29 minutes 59 seconds left" in body["detail"]
    assert "Maintenance supervisor" in body["detail"]
    incident.refresh_from_db()
    assert incident.status == "recovered"
    assert TimelineKind.STABILITY_CONFIRMED not in kinds(incident)


def test_the_refusal_speaks_chinese_to_a_chinese_reader(start, people, api_client_for):
    incident = recovered_equipment_fault(start, people)
    with at(incident.recovered_at + timedelta(minutes=1)):
        response = api_client_for(people["supervisor"]).post(
            f"/api/v1/incidents/{incident.pk}/resolve/", {"summary": "阵列重建", "stability": "I/O 正常"},
            format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 409
    assert "维护主管" in response.json()["detail"] and "29 分钟" in response.json()["detail"]


def test_after_the_watch_someone_without_the_role_is_refused_naming_the_role(start, people, api_client_for):
    incident = recovered_equipment_fault(start, people)
    with at(incident.recovered_at + WATCH):
        response = api_client_for(people["technician"]).post(
            f"/api/v1/incidents/{incident.pk}/resolve/",
            {"summary": "Rebuilt the array", "stability": "I/O normal"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "stability_not_confirmed"
    assert "only Maintenance supervisor may confirm" in response.json()["detail"]


def test_resolving_before_recovery_is_refused_where_the_plan_asks_for_stability(start, people):
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="equipment", level="yellow",
                                      title="Peripheral storage array fault")
        services.acknowledge(incident, actor=people["supervisor"])
    with at(start + timedelta(seconds=1)), pytest.raises(Refused) as refused:
        services.resolve(incident, actor=people["supervisor"], summary="Rebuilt", stability="fine")
    assert refused.value.status_code == 409 and "mark it recovered first" in refused.value.message


def test_the_observation_is_required_where_the_plan_asks_for_stability(start, people, api_client_for):
    incident = recovered_equipment_fault(start, people)
    with at(incident.recovered_at + WATCH):
        response = api_client_for(people["supervisor"]).post(
            f"/api/v1/incidents/{incident.pk}/resolve/", {"summary": "Rebuilt the array"}, format="json")
    assert response.status_code == 400, response.content
    assert "stability" in response.json()
    incident.refresh_from_db()
    assert incident.status == "recovered"


def test_resolving_needs_the_stability_confirmation_the_plan_asks(start, people, api_client_for):
    incident = recovered_equipment_fault(start, people)
    pending = {(d.kind, d.role_key) for d in incident.deadlines.filter(state=State.PENDING)}
    assert pending == {(Kind.ON_SITE, "system_technicians"), (Kind.ON_SITE, "maintenance_supervisor")}
    client = api_client_for(people["supervisor"])
    confirmed_at = incident.recovered_at + WATCH + timedelta(minutes=2)
    with at(confirmed_at):
        response = client.post(f"/api/v1/incidents/{incident.pk}/resolve/", {
            "summary": "Rebuilt the array", "stability": "Watched I/O latency and the error log: flat, no errors"},
            format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved"

    timeline = client.get(f"/api/v1/incidents/{incident.pk}/timeline/").json()
    tail = [entry["kind"] for entry in timeline][-5:]
    # The review drafted at resolution (reviews app, the "resolved" hook) comes last.
    assert tail == ["stability_confirmed", "resolved", "deadline_cancelled", "deadline_cancelled", "review_drafted"]
    confirmed = next(e for e in timeline if e["kind"] == "stability_confirmed")
    assert confirmed["actor"] == "supervisor"
    assert confirmed["detail"]["observed"] == "Watched I/O latency and the error log: flat, no errors"
    assert confirmed["detail"]["by_role"] == "maintenance_supervisor"
    assert confirmed["detail"]["watched_seconds"] == (WATCH + timedelta(minutes=2)).total_seconds()
    cancelled = [e["detail"] for e in timeline if e["kind"] == "deadline_cancelled"]
    assert {(d["deadline_kind"], d["role"], d["why"]) for d in cancelled} == {
        ("on_site", "system_technicians", "incident_resolved"), ("on_site", "maintenance_supervisor",
                                                                 "incident_resolved")}
    assert all(d["due_at"] == (start + timedelta(minutes=30)).isoformat() for d in cancelled)
    assert not Deadline.objects.filter(incident=incident, state=State.PENDING).exists()


def test_cells_without_a_stability_rule_resolve_as_before(start, people, make_person):
    supervisor = make_person("ops_supervisor")
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="system", level="yellow", title="slow")
        services.acknowledge(incident, actor=supervisor)
    with at(start + timedelta(seconds=1)):
        services.resolve(incident, actor=supervisor, summary="freed the disk")
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert TimelineKind.STABILITY_CONFIRMED not in kinds(incident)
    resolved = incident.timeline.get(kind=TimelineKind.RESOLVED)
    assert resolved.detail["stability_confirmed"] is False
    # Its on-site and escalation deadlines still end on the record.
    cancelled = incident.timeline.filter(kind=TimelineKind.DEADLINE_CANCELLED)
    assert sorted(e.detail["deadline_kind"] for e in cancelled) == ["escalation", "on_site"]
    assert resolved.detail["deadlines_cancelled"] == 2


def test_archiving_records_a_deadline_still_pending(start, people, approve_review):
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="system", level="blue", title="slow")
        services.acknowledge(incident, actor=people["office"])
        services.resolve(incident, actor=people["office"], summary="fixed")
        approve_review(incident, writer=people["office"], approver=people["leader"])
        # A duty started after resolution (none of the plan's do; a later feature might).
        late = Deadline.objects.create(incident=incident, kind=Kind.REPORT, level_key="blue", role_key="office",
                                       started_at=start, due_at=start + timedelta(hours=1))
        services.archive(incident, actor=people["office"])
    late.refresh_from_db()
    assert late.state == State.CANCELLED
    entry = TimelineEntry.objects.get(deadline=late)
    assert (entry.kind, entry.detail["why"]) == ("deadline_cancelled", "incident_archived")


# --- the cause of every level change ------------------------------------------------------------


def level_change(incident):
    return incident.timeline.filter(kind=TimelineKind.LEVEL_CHANGED).latest("id")


def test_a_person_escalating_or_lowering_is_the_cause(start, people, make_person):
    supervisor = make_person("ops_supervisor")
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="system", level="yellow", title="slow")
        services.escalate(incident, level_key="orange", actor=supervisor, reason="batch stuck")
    assert level_change(incident).detail["cause"] == "person"
    # The yellow level's deadlines ended with it, each on the record, right after the change.
    cancelled = list(incident.timeline.filter(kind=TimelineKind.DEADLINE_CANCELLED))
    assert {(e.detail["deadline_kind"], e.detail["why"], e.detail["to_level"]) for e in cancelled} == {
        ("on_site", "level_changed", "orange"), ("escalation", "level_changed", "orange")}
    assert all(e.at == start and e.actor == supervisor for e in cancelled)
    with at(start + timedelta(minutes=5)):
        services.deescalate(incident, level_key="yellow", actor=people["office"], reason="better")
    assert (level_change(incident).detail["cause"], level_change(incident).detail["manual"]) == ("person", True)


def test_a_monitoring_alert_raising_the_level_is_the_cause(start, people):
    with at(start):
        incident = services.log_fault(reporter=None, category="system", level="yellow", title="slow")
        services.raise_level(incident, level_key="red", reason="alertmanager: CoreDown")
    change = level_change(incident)
    assert (change.detail["cause"], change.detail["manual"]) == ("alert", False)


def test_the_plans_time_limit_is_the_cause_of_a_timed_escalation(start, people):
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="system", level="yellow", title="slow")
    with at(start + timedelta(hours=2)):
        engine.sweep()
    change = level_change(incident)
    assert (change.detail["to"], change.detail["cause"]) == ("orange", "plan")


def test_the_condition_is_the_cause_of_a_conditional_escalation(start, people):
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="network", level="blue", title="lines",
                                      affected_branches=6, total_branches=10)
    with at(start + timedelta(hours=4)):
        engine.sweep()
    assert (level_change(incident).detail["to"], level_change(incident).detail["cause"]) == ("yellow", "condition")


def test_details_making_a_waiting_condition_true_are_the_condition_cause(start, people):
    with at(start):
        incident = services.log_fault(reporter=people["reporter"], category="network", level="blue", title="lines",
                                      affected_branches=1, total_branches=10)
    with at(start + timedelta(hours=4)):
        engine.sweep()
    with at(start + timedelta(hours=5)):
        services.update_details(incident, actor=people["office"], changes={"affected_branches": 8})
    assert level_change(incident).detail["cause"] == "condition"


def test_every_level_change_names_one_of_the_four_causes():
    from incidents import levels

    assert set(levels.CAUSES) == {"person", "alert", "plan", "condition"}
    with pytest.raises(ValueError, match="unknown cause"):
        levels.change_level(None, level_key="red", actor=None, at=timezone.now(), reason="", cause="manual")


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language, texts", [
    ("en", ["by a monitoring alert", "by a person", "Stability confirmed", "Watched after recovery",
            "Deadline cancelled", "On site: System maintenance technicians, due", "the incident was resolved"]),
    ("zh-hans", ["由监控告警", "人工操作", "已确认稳定", "恢复后观察", "时限已取消", "到场：", "事件已解决"]),
])
def test_the_timeline_names_the_cause_and_the_stability_confirmation(start, people, client, language, texts):
    incident = recovered_equipment_fault(start, people)
    with at(incident.recovered_at + timedelta(minutes=1)):
        services.raise_level(incident, level_key="orange", reason="alert: array degraded")
        services.deescalate(incident, level_key="yellow", actor=people["office"], reason="array healthy")
    with at(incident.recovered_at + WATCH + timedelta(minutes=1)):
        services.resolve(incident, actor=people["supervisor"], summary="Rebuilt", stability="I/O flat")
    client.force_login(people["office"])
    html = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in texts:
        assert text in html, text


def test_the_resolve_form_asks_for_the_stability_observation_and_says_from_when(start, people, client):
    incident = recovered_equipment_fault(start, people)
    client.force_login(people["supervisor"])
    with at(incident.recovered_at + timedelta(minutes=1)):
        html = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="stability"' in html
    ends = timezone.localtime(incident.recovered_at + WATCH).strftime("%Y-%m-%d %H:%M:%S")
    assert f"It may be resolved from {ends}." in html
    assert "29 minutes left" in html
