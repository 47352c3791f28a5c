"""The outbox: notifications and their deliveries are written together, once, and delivered once."""

import email

import pytest
from django.db import transaction

from notifications.delivery import deliver_due
from notifications.models import Ask, Delivery, DeliveryAttempt, DeliveryStatus, Notification, Preference
from notifications.recipients import notify_roles

pytestmark = pytest.mark.django_db


def test_opening_an_incident_writes_one_notification_and_one_email_delivery_per_person(make_person, open_incident):
    wang = make_person("tech_group", username="wang")
    li = make_person("tech_group", username="li")
    incident = open_incident()
    notes = Notification.objects.filter(incident=incident)
    assert sorted(n.person.username for n in notes) == ["li", "wang"]
    deliveries = Delivery.objects.filter(notification__incident=incident)
    assert sorted((d.kind, d.address) for d in deliveries) == sorted([("email", li.email), ("email", wang.email)])
    assert all(d.status == DeliveryStatus.PENDING for d in deliveries)


def test_notifying_the_same_event_twice_creates_no_second_notification_or_delivery(make_person, open_incident):
    make_person("tech_group")
    incident = open_incident()
    before = (Notification.objects.count(), Delivery.objects.count())
    told, _nobody = notify_roles(incident, role_keys=["tech_group"], event=Notification.objects.first().event,
                                          ask=Ask.ON_SITE)
    assert told == []
    assert (Notification.objects.count(), Delivery.objects.count()) == before


def test_a_rolled_back_event_leaves_neither_notification_nor_delivery(make_person, open_incident):
    make_person("tech_group")
    incident = open_incident()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_roles(incident, role_keys=["tech_group"], event="rolled-back", ask=Ask.FYI)
        assert Delivery.objects.filter(notification__event="rolled-back").exists()
        raise RuntimeError("the caller's transaction fails")
    assert not Notification.objects.filter(event="rolled-back").exists()
    assert not Delivery.objects.filter(notification__event="rolled-back").exists()


def test_a_role_nobody_holds_is_recorded_as_a_gap(open_incident):
    incident = open_incident()
    gap = Notification.objects.get(incident=incident, person__isnull=True)
    assert gap.role_key == "tech_group"


def test_email_reaches_a_real_smtp_server_in_the_persons_language_with_link_and_ack_link(
        make_person, open_incident, smtp):
    make_person("tech_group", username="wang", language="en", email="wang@bank.test")
    incident = open_incident(level="yellow")
    assert deliver_due() == 1
    [envelope] = smtp.messages
    assert envelope.rcpt_tos == ["wang@bank.test"]
    message = email.message_from_bytes(envelope.content)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    body = message.get_payload(decode=True).decode()
    assert "Serious" in subject and f"#{incident.pk}" in subject
    assert "Be on site by" in body
    assert f"https://fenghuo.example.test/incidents/{incident.pk}/" in body
    assert "https://fenghuo.example.test/notifications/ack/" in body
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert DeliveryAttempt.objects.get(delivery=delivery).ok


def test_email_to_a_chinese_speaker_is_in_chinese(make_person, open_incident, smtp):
    make_person("tech_group", language="zh-hans")
    open_incident(level="yellow")
    deliver_due()
    message = email.message_from_bytes(smtp.messages[0].content)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert "较重预警" in subject


def test_drill_is_marked_as_a_drill_in_the_message(make_person, open_incident, smtp):
    make_person("tech_group", language="en")
    open_incident(drill=True)
    deliver_due()
    message = email.message_from_bytes(smtp.messages[0].content)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject.startswith("[DRILL]")
    assert "This is a drill." in message.get_payload(decode=True).decode()


def test_delivering_again_after_success_sends_nothing_more(make_person, open_incident, smtp):
    make_person("tech_group")
    open_incident()
    assert deliver_due() == 1
    assert deliver_due() == 0
    assert len(smtp.messages) == 1
    assert DeliveryAttempt.objects.count() == 1


def test_an_unreachable_smtp_server_is_retried_then_recorded_as_failed(make_person, open_incident, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    make_person("tech_group")
    open_incident()
    deliver_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at > delivery.created_at
    deliver_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "ConnectionRefused" in delivery.last_error
    assert DeliveryAttempt.objects.filter(delivery=delivery, ok=False).count() == 2


def test_orange_goes_out_on_every_channel_and_yellow_only_on_the_first(
        make_person, open_incident, receiver):
    from notifications.models import ChannelConfig

    ChannelConfig.objects.create(name="gw", kind="sms", url=receiver("sms", secret="s" * 16).base + "/send",
                                 secret="s" * 16)
    person = make_person("tech_group", phone="13800000001")
    Preference.objects.create(person=person, channels=["sms", "email"])
    yellow = open_incident(level="yellow")
    orange = open_incident(level="orange", title="Everything down")
    assert list(Delivery.objects.filter(notification__incident=yellow).values_list("kind", flat=True)) == ["sms"]
    assert sorted(Delivery.objects.filter(notification__incident=orange).values_list("kind", flat=True)) == [
        "email", "sms"]


def test_quiet_hours_hold_yellow_until_morning_but_not_red(make_person, open_incident, time_machine):
    import datetime as dt
    from zoneinfo import ZoneInfo

    time_machine.move_to(dt.datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    person = make_person("tech_group")
    Preference.objects.create(person=person, channels=["email"], quiet_start=dt.time(22), quiet_end=dt.time(7))
    yellow = open_incident(level="yellow")
    red = open_incident(level="red", title="All branches down")
    held = Delivery.objects.get(notification__incident=yellow)
    assert held.next_attempt_at == dt.datetime(2026, 3, 3, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    urgent = Delivery.objects.get(notification__incident=red)
    assert urgent.next_attempt_at <= dt.datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_failed_first_channel_falls_back_to_the_next_in_priority_order(make_person, open_incident, receiver,
                                                                         settings, mailoutbox):
    from notifications.models import ChannelConfig

    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    gateway = receiver("sms", secret="s" * 16, answers=[(500, {"error": "down"})])
    ChannelConfig.objects.create(name="gw", kind="sms", url=gateway.base + "/send", secret="s" * 16)
    person = make_person("tech_group", phone="13800000001")
    Preference.objects.create(person=person, channels=["sms", "email"])
    open_incident(level="yellow")
    deliver_due()
    assert sorted(Delivery.objects.values_list("kind", "status")) == [("email", "sent"), ("sms", "failed")]
    assert len(gateway.requests) == 1
    assert [m.to for m in mailoutbox] == [[person.email]]
