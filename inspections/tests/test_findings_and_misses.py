"""An abnormal finding offers a prefilled fault or a follow-up item; a missed round tells the office."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from assets.models import FollowUp
from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, State
from incidents.models import Incident
from inspections import services
from inspections.models import Result, RoundStatus
from notifications.models import Notification

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


@pytest.mark.django_db
def test_a_finding_becomes_a_follow_up_item_on_the_asset_once(round_, duty):
    services.round_submit(round_, person=duty, results=full_answers(round_, bad={("SW-01", "power_supplies"):
                                                                                 {"ok": False}}))
    result = Result.objects.get(asset__tag="SW-01", check_key="power_supplies")
    item = services.finding_follow_up(result, person=duty, title="Replace PSU 2")
    assert (item.asset.tag, item.source, item.status) == ("SW-01", f"inspection:result:{result.pk}", "open")
    with pytest.raises(Refused):
        services.finding_follow_up(result, person=duty, title="again")
    assert FollowUp.objects.count() == 1


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
