"""Reporting duties from the plan: started by the level, added to by a later level, filed once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from external import services
from external.models import Contact, ExternalReport, Party
from incidents import services as incidents
from incidents.models import TimelineEntry, TimelineKind
from notifications.models import Ask, Delivery, Notification

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def office(settings, shipped_plan, make_person):
    settings.ESCALATION_ETA_TASKS = False
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    return make_person("office", username="office", full_name="Office Li")


def at(delta):
    return time_machine.travel(T0 + delta, tick=False)


def orange(office, **fields):
    with at(timedelta(0)):
        return incidents.log_fault(reporter=office, category="system", level="orange", title="Core down", **fields)


def send(incident, office, stage="initial", *, sent_at=None, party="pboc"):
    return services.report_send(incident=incident, party_key=party, stage=stage, sent_at=sent_at or T0,
                                channel="fax", reference="R-1", author=office)


def test_a_blue_fault_owes_no_report_to_an_outside_party(office):
    incident = incidents.log_fault(reporter=office, category="system", level="blue", title="Slow")
    assert not ExternalReport.objects.filter(incident=incident).exists()


def test_orange_starts_the_initial_and_written_deadlines_with_a_reminder_before_each(office, settings):
    incident = orange(office)
    deadlines = {(d.kind, d.subject): d for d in Deadline.objects.filter(incident=incident, kind__in=services.EXTERNAL_KINDS)}
    assert deadlines[(Kind.EXTERNAL_REPORT, "external:pboc:initial")].due_at == T0 + timedelta(hours=1)
    assert deadlines[(Kind.EXTERNAL_REMINDER, "external:pboc:initial")].due_at == T0 + timedelta(minutes=50)
    assert deadlines[(Kind.EXTERNAL_REPORT, "external:pboc:written")].due_at == T0 + timedelta(hours=24)
    assert (Kind.EXTERNAL_REPORT, "external:pboc:final") not in deadlines
    assert deadlines[(Kind.EXTERNAL_REPORT, "external:pboc:initial")].role_key == "office"


def test_red_after_orange_brings_a_pending_stage_forward_but_asks_no_filed_stage_again(office):
    incident = orange(office)
    with at(timedelta(minutes=5)):
        send(incident, office, sent_at=T0 + timedelta(minutes=4))
    with at(timedelta(minutes=10)):
        incidents.escalate(incident, level_key="red", actor=office, reason="whole province down")
    initial = ExternalReport.objects.get(incident=incident, stage="initial")
    assert initial.sent_at == T0 + timedelta(minutes=4) and initial.level_key == "orange"
    assert Deadline.objects.filter(incident=incident, subject="external:pboc:initial",
                                   state=State.PENDING).count() == 0
    written = ExternalReport.objects.get(incident=incident, stage="written")
    assert written.due_at == T0 + timedelta(minutes=10, hours=12)  # red's 12 h, sooner than orange's 24 h
    pending = Deadline.objects.get(incident=incident, kind=Kind.EXTERNAL_REPORT, subject="external:pboc:written",
                                   state=State.PENDING)
    assert pending.pk == written.deadline_id and written.level_key == "red"


def test_a_lowered_level_keeps_the_duties_already_running(office):
    incident = orange(office)
    with at(timedelta(minutes=5)):
        incidents.deescalate(incident, level_key="yellow", actor=office, reason="contained")
    assert Deadline.objects.get(incident=incident, kind=Kind.EXTERNAL_REPORT,
                                subject="external:pboc:initial").state == State.PENDING


def test_a_stage_recorded_twice_is_refused_and_nothing_changes(office):
    incident = orange(office)
    with at(timedelta(minutes=5)):
        send(incident, office)
        with pytest.raises(ValidationError) as info:
            send(incident, office)
    assert "stage" in info.value.message_dict
    assert TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.EXTERNAL_REPORT_SENT).count() == 1


def test_a_sent_time_in_the_future_or_before_the_incident_is_refused(office):
    incident = orange(office)
    with at(timedelta(minutes=5)):
        for sent_at in (T0 + timedelta(hours=1), T0 - timedelta(days=1)):
            with pytest.raises(ValidationError) as info:
                send(incident, office, sent_at=sent_at)
            assert "sent_at" in info.value.message_dict
    assert not ExternalReport.objects.filter(incident=incident, sent_at__isnull=False).exists()


def test_only_the_coordinating_roles_may_file_a_report(office, make_person):
    incident = orange(office)
    technician = make_person("system_technicians")
    with at(timedelta(minutes=5)), pytest.raises(Refused) as info:
        send(incident, technician)
    assert info.value.status_code == 403


def test_a_report_sent_late_meets_nothing_and_says_so(office):
    incident = orange(office)
    with at(timedelta(hours=1, seconds=1)):
        engine.sweep()
    with at(timedelta(hours=2)):
        report = send(incident, office, sent_at=T0 + timedelta(hours=2))
    assert Deadline.objects.get(pk=report.deadline_id).state == State.MISSED
    entry = TimelineEntry.objects.get(incident=incident, kind=TimelineKind.EXTERNAL_REPORT_SENT)
    assert entry.detail["late"] is True and report.missed


def test_a_missed_stage_acts_once_even_when_swept_twice(office):
    incident = orange(office)
    with at(timedelta(hours=1, seconds=1)):
        engine.sweep()
        engine.sweep()
    deadline = Deadline.objects.get(incident=incident, kind=Kind.EXTERNAL_REPORT, subject="external:pboc:initial")
    assert deadline.state == State.MISSED
    assert Notification.objects.filter(event=f"deadline:{deadline.pk}", person=office, ask=Ask.MISSED).count() == 1
    assert TimelineEntry.objects.filter(deadline=deadline).count() == 1


def test_filing_before_the_reminder_ends_the_reminder(office):
    incident = orange(office)
    with at(timedelta(minutes=5)):
        send(incident, office)
    reminder = Deadline.objects.get(incident=incident, kind=Kind.EXTERNAL_REMINDER, subject="external:pboc:initial")
    assert reminder.state == State.CANCELLED
    with at(timedelta(minutes=51)):
        engine.sweep()
    assert not Notification.objects.filter(event=f"deadline:{reminder.pk}").exists()


def test_a_call_out_to_a_party_with_no_contact_is_refused(office):
    incident = orange(office)
    party = Party.objects.create(key="lonely", kind="vendor", name_en="Lonely", name_zh="孤", arrival_within=timedelta(hours=1))
    with pytest.raises(ValidationError) as info:
        services.callout_create(incident=incident, party=party, caller=office, ticket="T")
    assert "party" in info.value.message_dict
    assert not incident.callouts.exists()


def test_a_call_out_without_promise_or_sla_is_refused(office):
    incident = orange(office)
    party = Party.objects.create(key="nosla", kind="carrier", name_en="Carrier", name_zh="运营商")
    Contact.objects.create(party=party, name="Zhang", phone="10010")
    with pytest.raises(ValidationError) as info:
        services.callout_create(incident=incident, party=party, caller=office)
    assert "arrive_within" in info.value.message_dict


def test_arrival_meets_the_call_out_deadline_and_departure_follows_it(office):
    incident = orange(office)
    party = Party.objects.create(key="carrier", kind="carrier", name_en="Carrier", name_zh="运营商")
    Contact.objects.create(party=party, name="Zhang", phone="10010")
    with at(timedelta(minutes=1)):
        callout = services.callout_create(incident=incident, party=party, caller=office, ticket="T-9",
                                          arrive_within=timedelta(hours=4))
    with at(timedelta(hours=1)):
        with pytest.raises(ValidationError):
            services.callout_departed(callout=callout, person=office)
        services.callout_arrived(callout=callout, person=office)
    with at(timedelta(hours=3)):
        services.callout_departed(callout=callout, person=office)
    assert Deadline.objects.get(pk=callout.deadline_id).state == State.MET
    kinds = list(TimelineEntry.objects.filter(incident=incident, kind__startswith="callout").values_list("kind", flat=True))
    assert kinds == ["callout", "callout_arrived", "callout_departed"]


def test_an_announcement_also_reaches_the_department_parties_contacts_by_email(office):
    department = Party.objects.create(key="retail", kind="department", name_en="Retail banking", name_zh="零售业务部")
    Contact.objects.create(party=department, name="Sun", email="retail@bank.test")
    Contact.objects.create(party=department, name="Phone only", phone="123")
    incident = orange(office)
    delivery = Delivery.objects.get(address="retail@bank.test")
    assert delivery.kind == "email" and delivery.notification.ask == Ask.ANNOUNCE
    assert delivery.notification.incident_id == incident.pk and delivery.notification.person is None
    from notifications.messages import message_for

    assert "Nobody holds" not in message_for(delivery.notification).text


def test_an_archived_incident_takes_no_report_and_no_call_out(office, make_person, approve_review):
    incident = orange(office)
    party = Party.objects.create(key="carrier", kind="carrier", name_en="Carrier", name_zh="运营商",
                                 arrival_within=timedelta(hours=1))
    Contact.objects.create(party=party, name="Zhang", phone="10010")
    incidents.acknowledge(incident, actor=office)
    incidents.resolve(incident, actor=office, summary="fixed")
    approve_review(incident, writer=office, approver=make_person("leadership"))
    incidents.archive(incident, actor=office)
    with pytest.raises(Refused) as report:
        services.report_send(incident=incident, party_key="pboc", stage="final", sent_at=incident.opened_at,
                             channel="fax", author=office)
    with pytest.raises(Refused) as callout:
        services.callout_create(incident=incident, party=party, caller=office)
    assert report.value.status_code == callout.value.status_code == 409
    assert not ExternalReport.objects.filter(incident=incident, sent_at__isnull=False).exists()


def test_someone_with_no_part_in_the_response_may_not_call_out_a_party(office, make_person):
    incident = orange(office)
    party = Party.objects.create(key="carrier", kind="carrier", name_en="Carrier", name_zh="运营商",
                                 arrival_within=timedelta(hours=1))
    Contact.objects.create(party=party, name="Zhang", phone="10010")
    outsider = make_person("business_departments")
    with pytest.raises(Refused) as info:
        services.callout_create(incident=incident, party=party, caller=outsider)
    assert info.value.status_code == 403 and not incident.callouts.exists()


def test_the_final_report_is_owed_from_resolution_and_survives_it(office):
    incident = orange(office)
    with at(timedelta(hours=3)):
        incidents.acknowledge(incident, actor=office)
        incidents.resolve(incident, actor=office, summary="fixed")
    final = ExternalReport.objects.get(incident=incident, stage="final")
    assert final.due_at == T0 + timedelta(hours=3, days=5)
    assert Deadline.objects.get(pk=final.deadline_id).state == State.PENDING
    written = ExternalReport.objects.get(incident=incident, stage="written")
    assert Deadline.objects.get(pk=written.deadline_id).state == State.PENDING  # resolution cancels only the response's
