"""Who is told first (the duty roster), and what happens when nobody answers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import answers, recipients
from notifications.delivery import deliver_due
from notifications.models import Ask, Delivery, DeliveryStatus, DutyShift, LevelPolicy, Notification, RolePolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def tech_group_with_roster(make_person):
    on_duty = make_person("tech_group", username="zhao")
    rest = [make_person("tech_group", username=f"rest{i}") for i in range(3)]
    now = timezone.now()
    DutyShift.objects.create(role_key="tech_group", person=on_duty, starts_at=now - timedelta(hours=1),
                             ends_at=now + timedelta(hours=7), handover_note="DB replica lag under watch")
    RolePolicy.objects.create(role_key="tech_group", ack_wait=timedelta(minutes=10))
    return on_duty, rest


def test_who_is_on_duty_now_follows_the_shift_times(make_person):
    now = timezone.now()
    day, night = make_person(username="day"), make_person(username="night")
    DutyShift.objects.create(role_key="duty_staff", person=day, starts_at=now - timedelta(hours=8), ends_at=now)
    DutyShift.objects.create(role_key="duty_staff", person=night, starts_at=now, ends_at=now + timedelta(hours=8))
    assert recipients.on_duty("duty_staff") == [night]
    assert recipients.on_duty("duty_staff", at=now - timedelta(hours=1)) == [day]


def test_the_on_duty_person_is_told_first_and_the_rest_after_the_roles_wait(tech_group_with_roster, open_incident):
    on_duty, rest = tech_group_with_roster
    incident = open_incident()
    first = Notification.objects.get(incident=incident, person=on_duty)
    later = Notification.objects.filter(incident=incident, person__in=rest)
    assert first.visible_from <= timezone.now()
    assert {n.visible_from - first.visible_from for n in later} == {timedelta(minutes=10)}
    assert answers.unread_count(rest[0]) == 0
    assert answers.unread_count(on_duty) == 1
    held = Delivery.objects.filter(notification__in=later)
    assert all(d.next_attempt_at == d.notification.visible_from for d in held)


def test_when_the_on_duty_person_acknowledges_the_rest_are_never_told(tech_group_with_roster, open_incident,
                                                                       mailoutbox):
    on_duty, rest = tech_group_with_roster
    incident = open_incident()
    answers.confirm_read(Notification.objects.get(incident=incident, person=on_duty), person=on_duty)
    deliver_due(now=timezone.now() + timedelta(minutes=11))
    assert [m.to for m in mailoutbox] == [[on_duty.email]]
    assert all(n.cancelled_at for n in Notification.objects.filter(person__in=rest))
    assert answers.unread_count(rest[0]) == 0


def test_when_nobody_on_duty_answers_the_rest_of_the_role_is_told(tech_group_with_roster, open_incident, mailoutbox):
    on_duty, rest = tech_group_with_roster
    open_incident()
    deliver_due()
    assert len(mailoutbox) == 1
    deliver_due(now=timezone.now() + timedelta(minutes=11))
    assert sorted(m.to[0] for m in mailoutbox) == sorted([on_duty.email] + [p.email for p in rest])


def test_an_unanswered_notification_is_repeated_at_its_levels_interval_then_escalated_to_the_superior(
        make_person, open_incident, mailoutbox):
    LevelPolicy.objects.create(level_key="yellow", repeat_every=timedelta(minutes=15), max_repeats=2)
    engineer = make_person("tech_group", username="engineer")
    boss = make_person("office", username="boss")
    incident = open_incident(level="yellow")
    start = timezone.now()
    deliver_due()
    assert answers.follow_up(now=start + timedelta(minutes=10)) == (0, 0)
    assert answers.follow_up(now=start + timedelta(minutes=16)) == (1, 0)
    assert answers.follow_up(now=start + timedelta(minutes=20)) == (0, 0)
    assert answers.follow_up(now=start + timedelta(minutes=32)) == (1, 0)
    deliver_due(now=start + timedelta(minutes=33))
    assert [m.to for m in mailoutbox] == [[engineer.email]] * 3
    assert answers.follow_up(now=start + timedelta(minutes=48)) == (0, 1)
    told = Notification.objects.get(incident=incident, person=boss)
    assert told.ask == Ask.MISSED and "engineer" in told.body
    answers.follow_up(now=start + timedelta(minutes=90))
    assert Notification.objects.filter(event__startswith="unanswered").count() == 1, "escalated only once"
    assert Notification.objects.get(person=engineer).repeats == 2


def test_an_acknowledged_notification_is_not_repeated(make_person, open_incident):
    LevelPolicy.objects.create(level_key="yellow", repeat_every=timedelta(minutes=15), max_repeats=2)
    engineer = make_person("tech_group")
    open_incident(level="yellow")
    answers.confirm_read(Notification.objects.get(person=engineer), person=engineer)
    assert answers.follow_up(now=timezone.now() + timedelta(hours=2)) == (0, 0)
    assert Delivery.objects.count() == 1


def test_a_colleague_acknowledging_stops_the_repeats_for_the_whole_role(make_person, open_incident):
    LevelPolicy.objects.create(level_key="yellow", repeat_every=timedelta(minutes=15), max_repeats=2)
    first, second = make_person("tech_group"), make_person("tech_group")
    open_incident(level="yellow")
    answers.confirm_read(Notification.objects.get(person=first), person=first)
    assert answers.follow_up(now=timezone.now() + timedelta(hours=2)) == (0, 0)
    assert not Delivery.objects.filter(notification__person=second, idempotency_key__contains="repeat").exists()


def test_fyi_notifications_are_never_repeated(make_person, open_incident):
    make_person("tech_group")
    incident = open_incident()
    recipients.notify_roles(incident, role_keys=["tech_group"], event="fyi", ask=Ask.FYI)
    answers.follow_up(now=timezone.now() + timedelta(days=1))
    assert Notification.objects.get(event="fyi").repeats == 0


def test_a_held_back_notification_whose_colleague_answered_is_not_delivered(tech_group_with_roster, open_incident):
    on_duty, rest = tech_group_with_roster
    open_incident()
    answers.confirm_read(Notification.objects.get(person=on_duty), person=on_duty)
    statuses = set(Delivery.objects.filter(notification__person__in=rest).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.CANCELLED}


def test_telling_superiors_up_a_long_reporting_chain_keeps_each_event_within_its_column():
    events = ["level_started:yellow"]
    for role in ["tech_group", "ops_supervisor", "office", "leadership", "main_leaders", "board"]:
        events.append(answers.unanswered_event(events[-1], role))
    limit = Notification._meta.get_field("event").max_length
    assert all(len(event) <= limit for event in events)
    assert len(set(events)) == len(events), "each rung is its own event"
    assert answers.unanswered_event(events[-2], "board") == events[-1], "the same rung is the same event (dedup)"


def test_an_unanswered_notification_with_a_long_event_is_still_escalated(make_person, open_incident):
    LevelPolicy.objects.create(level_key="yellow", repeat_every=timedelta(minutes=1), max_repeats=0)
    make_person("tech_group", username="engineer")
    boss = make_person("office", username="boss")
    incident = open_incident(level="yellow")
    Notification.objects.filter(incident=incident, role_key="tech_group").update(event="unanswered:" + "x" * 88)
    assert answers.follow_up(now=timezone.now() + timedelta(minutes=5)) == (0, 1)
    assert Notification.objects.get(incident=incident, person=boss).ask == Ask.MISSED
