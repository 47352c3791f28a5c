"""An abnormal finding offers a prefilled fault or a remediation action; a missed round tells the office."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from assets.models import Asset
from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents.models import Incident
from inspections import services
from inspections.models import Result, RoundStatus
from notifications.models import Notification
from reviews.models import Action, ActionStatus

from .conftest import full_answers


@pytest.mark.django_db
def test_an_abnormal_finding_opens_a_prefilled_fault_linked_to_the_asset_that_runs_the_plan(round_, duty):
    answers = full_answers(round_, bad={("SRV-01", "disk_lights"): {"ok": False, "note": "slot 3 amber",
                                                                    "open_incident": {}}})
    _round, opened = services.round_submit(round_, person=duty, results=answers)
    [incident] = opened
    # Equipment, core server: the plan's criteria suggest orange, and a host fault (assets/severity.py).
    assert (incident.category.key, incident.level.key, incident.host_fault) == ("equipment", "orange", True)
    assert incident.asset.tag == "SRV-01"
    assert f"#{round_.pk}" in incident.description and "slot 3 amber" in incident.description
    assert Result.objects.get(check_key="disk_lights", asset__tag="SRV-01").incident == incident
    # The plan's response started: its deadlines and the people it tells.
    assert incident.deadlines.filter(kind="on_site").exists()
    assert Notification.objects.filter(incident=incident).exists()


@pytest.mark.django_db
def test_the_level_asked_for_overrides_the_suggestion(round_, duty):
    answers = full_answers(round_, bad={("UPS-01", "ups_load"): {"value": 95, "open_incident": {"level": "blue"}}})
    _round, [incident] = services.round_submit(round_, person=duty, results=answers)
    assert incident.level.key == "blue"
    assert "95" in incident.title


@pytest.mark.django_db
def test_a_finding_offers_the_suggested_level_of_its_asset(round_, duty):
    services.round_submit(round_, person=duty, results=full_answers(
        round_, bad={("UPS-01", "ups_mode"): {"ok": False}, ("SW-01", "port_lights"): {"ok": False}}))
    ups = Result.objects.get(asset__tag="UPS-01", check_key="ups_mode")
    switch = Result.objects.get(asset__tag="SW-01", check_key="port_lights")
    assert services.fault_prefill(ups)["level"] == "yellow"  # equipment, peripheral
    assert services.fault_prefill(switch)["level"] == "blue"  # network, peripheral
    assert services.fault_prefill(switch)["category"] == "network"


def _finding(round_, duty, tag, check, answer):
    services.round_submit(round_, person=duty, results=full_answers(round_, bad={(tag, check): answer}))
    return Result.objects.get(asset__tag=tag, check_key=check)


@pytest.mark.django_db
def test_an_abnormal_finding_offers_a_remediation_action_prefilled_from_the_asset_and_the_reading(
        round_, duty, make_person, settings):
    keeper = make_person("tech_group", username="zhao")
    Asset.objects.filter(tag="UPS-01").update(owner_role="tech_group")
    result = _finding(round_, duty, "UPS-01", "ups_load", {"value": 95, "note": "fan noisy"})
    offer = services.remediation_prefill(result, person=duty)
    assert "UPS-01" in offer["title"] and result.label in offer["title"] and "95" in offer["title"]
    assert "fan noisy" in offer["title"]
    assert offer["owner"] == keeper.username  # the holder of the asset's owning role
    expected = timezone.now() + settings.FENGHUO_FINDING_ACTION_DUE_AFTER
    assert abs((offer["due_at"] - expected).total_seconds()) < 60


@pytest.mark.django_db
def test_without_a_holder_of_the_owning_role_the_offer_names_whoever_acts_on_the_finding(round_, duty):
    result = _finding(round_, duty, "SW-01", "power_supplies", {"ok": False})
    assert services.remediation_prefill(result, person=duty)["owner"] == duty.username


@pytest.mark.django_db
def test_a_finding_becomes_a_remediation_action_of_its_asset_with_an_engine_deadline_and_no_incident(
        round_, duty):
    result = _finding(round_, duty, "SW-01", "power_supplies", {"ok": False})
    action = services.finding_remediate(result, person=duty, title="Replace PSU 2")
    assert (action.asset.tag, action.incident_id, action.title, action.owner, action.status) == (
        "SW-01", None, "Replace PSU 2", duty, ActionStatus.OPEN)
    deadline = Deadline.objects.get(kind=Kind.REMEDIATION, subject=action.subject)
    assert (deadline.state, deadline.incident_id, deadline.due_at) == (State.PENDING, None, action.due_at)
    result.refresh_from_db()
    assert result.remediation_action == action
    created = action.history.get()
    assert created.history_user == duty and f"finding {result.pk}" in created.history_change_reason
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_finding_gets_one_remediation_action_and_a_check_found_ok_none(round_, duty):
    result = _finding(round_, duty, "SW-01", "power_supplies", {"ok": False})
    services.finding_remediate(result, person=duty)
    with pytest.raises(ValidationError) as again:
        services.finding_remediate(result, person=duty, title="again")
    assert set(again.value.message_dict) == {"check"}
    fine = Result.objects.filter(ok=True).first()
    with pytest.raises(ValidationError) as ok:
        services.finding_remediate(fine, person=duty)
    assert set(ok.value.message_dict) == {"check"}
    assert Action.objects.count() == 1 and Deadline.objects.filter(kind=Kind.REMEDIATION).count() == 1


@pytest.mark.django_db
def test_a_bad_owner_or_a_past_due_date_leaves_the_finding_without_an_action(round_, duty):
    result = _finding(round_, duty, "SW-01", "power_supplies", {"ok": False})
    with pytest.raises(ValidationError) as refused:
        services.finding_remediate(result, person=duty, owner="ghost", due_at=timezone.now() - timedelta(hours=1))
    assert set(refused.value.message_dict) == {"owner", "due_at"}
    result.refresh_from_db()
    assert result.remediation_action is None and not Action.objects.exists()
    assert not Deadline.objects.filter(kind=Kind.REMEDIATION).exists()


@pytest.mark.django_db
def test_when_a_findings_action_falls_due_its_owner_and_the_office_are_told_through_the_engine(
        round_, duty, office, make_person):
    keeper = make_person("tech_group", username="zhao", language="en")
    Asset.objects.filter(tag="SW-01").update(owner_role="tech_group")
    result = _finding(round_, duty, "SW-01", "power_supplies", {"ok": False})
    action = services.finding_remediate(result, person=duty, title="Replace PSU 2")
    with time_machine.travel(action.due_at + timedelta(seconds=1), tick=False):
        assert engine.sweep() >= 1
    first = Deadline.objects.get(kind=Kind.REMEDIATION, subject=action.subject, state=State.MISSED)
    told = Notification.objects.filter(event=f"deadline:{first.pk}")
    assert sorted(n.person.username for n in told) == sorted([keeper.username, office.username])
    assert all("Replace PSU 2" in n.body and "SW-01" in n.title for n in told)
    assert Deadline.objects.filter(kind=Kind.REMEDIATION, subject=action.subject, state=State.PENDING).exists()


@pytest.mark.django_db
def test_an_ok_check_is_not_a_finding(round_, duty):
    services.round_submit(round_, person=duty, results=full_answers(round_))
    with pytest.raises(Refused):
        services.finding_log_fault(Result.objects.filter(ok=True).first(), person=duty)
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_round_not_submitted_within_its_grace_is_missed_and_the_office_is_told(round_, office, duty):
    with time_machine.travel(round_.miss_at + timedelta(seconds=1), tick=False):
        assert engine.sweep() >= 1
    round_.refresh_from_db()
    assert round_.status == RoundStatus.MISSED and round_.missed_at is not None
    deadline = Deadline.objects.get(subject=round_.subject)
    assert deadline.state == State.MISSED
    told = Notification.objects.filter(event=f"deadline:{deadline.pk}")
    assert office in {n.person for n in told}
    said = told.get(person=office)
    assert said.incident is None and said.facts["link"] == f"/inspections/rounds/{round_.pk}/"
    assert "Machine room A night round" in said.title
    assert "Machine-room duty staff" in said.reader_body  # the plan's name of the role, in the reader's language
    assert said.deliveries.exists()  # through the office's own channel (email), not only the page
    from notifications.messages import message_for

    message = message_for(said)  # what the email channel sends
    assert message.link.endswith(f"/inspections/rounds/{round_.pk}/") and message.incident_id is None
    # Acted once: another sweep finds nothing.
    with time_machine.travel(round_.miss_at + timedelta(seconds=2), tick=False):
        engine.sweep()
    assert Notification.objects.filter(event=f"deadline:{deadline.pk}", person=office).count() == 1


@pytest.mark.django_db
def test_a_missed_round_may_still_be_walked_and_the_miss_stays_on_record(round_, duty):
    with time_machine.travel(round_.miss_at + timedelta(seconds=1), tick=False):
        engine.sweep()
    round_, _opened = services.round_submit(round_, person=duty, results=full_answers(round_))
    assert round_.status == RoundStatus.DONE and round_.missed_at is not None and round_.late


@pytest.mark.django_db
def test_a_round_submitted_in_time_is_never_missed(round_, duty):
    services.round_submit(round_, person=duty, results=full_answers(round_))
    with time_machine.travel(round_.miss_at + timedelta(minutes=1), tick=False):
        engine.sweep()
    round_.refresh_from_db()
    assert round_.status == RoundStatus.DONE and round_.missed_at is None
    assert not Notification.objects.filter(event__startswith="deadline:").exists()


@pytest.mark.django_db
def test_the_office_gets_an_email_about_the_missed_round_through_a_real_smtp_server(round_, office, settings):
    from notifications.delivery import deliver_due
    from notifications.tests.receivers import start_smtp

    controller, sink = start_smtp()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.NOTIFICATIONS_KICK_ON_COMMIT = False
        with time_machine.travel(round_.miss_at + timedelta(seconds=1), tick=False):
            engine.sweep()
            deliver_due()
        to_office = [m for m in sink.messages if office.email in m.rcpt_tos]
        assert to_office, "the office was not emailed"
        text = to_office[0].content.decode("utf-8", "replace")
        assert f"/inspections/rounds/{round_.pk}/" in text
    finally:
        controller.stop()
