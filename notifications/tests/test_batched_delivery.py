"""A claimed batch is sent at once and recorded in a few statements: still one attempt and one outcome per delivery."""

import json
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import delivery as delivery_module
from notifications.delivery import claim_due, deliver_due
from notifications.models import ChannelConfig, Delivery, DeliveryAttempt, DeliveryStatus, Notification
from notifications.recipients import notify_roles

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret-0123456789"


def _hook(url, *, role_key="", name="hook", **extra):
    return ChannelConfig.objects.create(name=name, kind="webhook", url=url, secret=SECRET, role_key=role_key,
                                        **extra)


def _attempts(delivery):
    return list(DeliveryAttempt.objects.filter(delivery=delivery))


def test_a_batch_with_one_receiver_failing_and_others_answering_records_each_attempt_once_with_its_outcome(
        open_incident, receiver):
    down = receiver("webhook", secret=SECRET, answers=[(500, {"error": "down"})])
    refusing = receiver("webhook", secret=SECRET, answers=[(400, {"error": "bad request"})])
    up = receiver("webhook", secret=SECRET)
    _hook(f"{down.base}/hook", name="down")
    _hook(f"{refusing.base}/hook", name="refusing")
    _hook(f"{up.base}/hook", name="up")
    open_incident()
    assert deliver_due() == 1
    by_channel = {d.channel.name: d for d in Delivery.objects.filter(kind="webhook").select_related("channel")}
    assert by_channel["up"].status == DeliveryStatus.SENT and by_channel["up"].sent_at
    assert by_channel["down"].status == DeliveryStatus.PENDING and "HTTP 500" in by_channel["down"].last_error
    assert by_channel["down"].next_attempt_at > timezone.now()
    assert by_channel["refusing"].status == DeliveryStatus.FAILED
    for name, ok, status in [("up", True, 200), ("down", False, 500), ("refusing", False, 400)]:
        [attempt] = _attempts(by_channel[name])
        assert (attempt.ok, attempt.http_status) == (ok, status)
        assert by_channel[name].attempts == 1
    assert (len(up.requests), len(down.requests), len(refusing.requests)) == (1, 1, 1)


def test_a_batch_is_recorded_in_one_insert_and_one_update_however_many_were_sent(open_incident, receiver):
    hook = receiver("webhook", secret=SECRET, keep_alive=True)
    channel = _hook(f"{hook.base}/hook", role_key="nobody-holds-this")
    notification = Notification.objects.filter(incident=open_incident()).first()
    Delivery.objects.bulk_create([Delivery(notification=notification, kind="webhook", channel=channel,
                                           idempotency_key=f"batch:{n}") for n in range(10)])
    with CaptureQueriesContext(connection) as queries:
        assert deliver_due() == 10
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum(s.startswith('INSERT INTO "notifications_deliveryattempt"') for s in statements) == 1
    assert sum(s.startswith('UPDATE "notifications_delivery" SET "status" = \'sent\'') for s in statements) == 1
    assert DeliveryAttempt.objects.filter(delivery__channel=channel, ok=True).count() == 10
    assert sorted(r["headers"]["X-Fenghuo-Delivery"] for r in hook.requests) == sorted(f"batch:{n}"
                                                                                       for n in range(10))


@pytest.mark.parametrize("incidents", [1, 3])
def test_a_batchs_robot_messages_read_who_was_told_once_not_once_per_delivery(open_incident, receiver, make_person,
                                                                              incidents):
    make_person("tech_group"), make_person("tech_group")
    hook = receiver("webhook", secret=SECRET, keep_alive=True)
    channel = _hook(f"{hook.base}/hook", role_key="tech_group")
    notifications = []
    for i in range(incidents):
        open_incident(title=f"i{i}")  # its robot delivery hangs from one of its tech_group notifications
        notifications.append(Delivery.objects.filter(kind="webhook").latest("id").notification)
    Delivery.objects.all().delete()  # the batches below hold only the robot deliveries made here

    def drain(count):
        Delivery.objects.bulk_create([Delivery(notification=notifications[n % incidents], kind="webhook",
                                               channel=channel, idempotency_key=f"reading:{count}:{n}")
                                      for n in range(count)])
        with CaptureQueriesContext(connection) as queries:
            sent = deliver_due()
        assert sent == count, list(Delivery.objects.exclude(status="sent").values_list("status", "last_error"))
        return [q["sql"] for q in queries.captured_queries]

    few, many = drain(3), drain(30)
    told = [sql for sql in many if sql.startswith('SELECT') and '"notifications_notification"."person_id" IS NOT NULL' in sql]
    assert len(told) == 1
    assert len(many) == len(few)


def test_what_was_sent_before_a_message_failed_to_be_put_together_is_still_recorded(open_incident, receiver,
                                                                                      monkeypatch):
    hook = receiver("webhook", secret=SECRET)
    channel = _hook(f"{hook.base}/hook", role_key="nobody-holds-this")
    notification = Notification.objects.filter(incident=open_incident()).first()
    first, second = Delivery.objects.bulk_create([
        Delivery(notification=notification, kind="webhook", channel=channel, idempotency_key=f"k:{n}")
        for n in range(2)])
    real = delivery_module.robot_message

    def robot_message(delivery, **kwargs):
        if delivery.pk == second.pk:
            raise RuntimeError("message bug")
        return real(delivery, **kwargs)

    monkeypatch.setattr(delivery_module, "robot_message", robot_message)
    with pytest.raises(RuntimeError):
        deliver_due()
    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == DeliveryStatus.SENT and len(_attempts(first)) == 1
    # Not reached: it keeps its claim, to be taken over when the claim runs out, as before batching.
    assert second.status == DeliveryStatus.SENDING and not _attempts(second)


def test_the_robot_limit_holds_inside_one_batch(open_incident, receiver):
    hook = receiver("wecom", keep_alive=True)
    wecom = ChannelConfig.objects.create(name="wecom", kind="wecom", url=f"{hook.base}/cgi-bin/webhook/send?key=K")
    assert wecom.limit_per_minute == 20
    for n in range(25):
        open_incident(title=f"switch {n}")
    robot_rows = Delivery.objects.filter(channel=wecom)
    assert robot_rows.count() == 25 and robot_rows.values("notification__incident").distinct().count() == 25
    deliver_due()
    assert len(hook.requests) == 20
    assert robot_rows.filter(status=DeliveryStatus.SENT).count() == 20
    assert DeliveryAttempt.objects.filter(channel=wecom).count() == 20
    waiting = robot_rows.filter(status=DeliveryStatus.PENDING)
    assert waiting.count() == 5 and all(d.next_attempt_at > timezone.now() for d in waiting)
    deliver_due()
    assert len(hook.requests) == 20


def test_a_robots_messages_are_sent_in_order_one_after_the_other(open_incident, receiver):
    hook = receiver("wecom")
    ChannelConfig.objects.create(name="wecom", kind="wecom", url=f"{hook.base}/cgi-bin/webhook/send?key=K")
    incidents = [open_incident(title=f"switch {n}") for n in range(4)]
    deliver_due()
    texts = [json.loads(r["body"])["markdown"]["content"] for r in hook.requests]
    assert [next(i for i, incident in enumerate(incidents) if f"/incidents/{incident.pk}/" in text)
            for text in texts] == [0, 1, 2, 3]


def test_rows_another_worker_is_still_sending_take_room_under_the_robot_limit(open_incident, receiver):
    hook = receiver("wecom")
    wecom = ChannelConfig.objects.create(name="wecom", kind="wecom", url=f"{hook.base}/cgi-bin/webhook/send?key=K",
                                         per_minute=3)
    for n in range(5):
        open_incident(title=f"switch {n}")
    out = list(Delivery.objects.filter(channel=wecom).order_by("id")[:2])
    # Claimed by a worker that has not recorded its calls yet.
    Delivery.objects.filter(pk__in=[d.pk for d in out]).update(
        status=DeliveryStatus.SENDING, claimed_until=timezone.now() + timedelta(minutes=2), attempts=1)
    claimed = claim_due()
    assert len(claimed) == 1
    assert Delivery.objects.filter(channel=wecom, status=DeliveryStatus.PENDING,
                                   next_attempt_at__gt=timezone.now()).count() == 2


def test_an_sms_that_fails_does_not_count_against_the_daily_cap_inside_one_batch(make_person, open_incident,
                                                                                  receiver, settings):
    from notifications.models import Ask, Preference

    settings.NOTIFICATIONS_SMS_DAILY_CAP = 2
    gateway = receiver("sms", secret="gateway-token-0123456789", answers=[(500, {"error": "busy"}), (200, {})])
    ChannelConfig.objects.create(name="gw", kind="sms", url=f"{gateway.base}/send",
                                 secret="gateway-token-0123456789")
    person = make_person("tech_group", phone="13800000001")
    Preference.objects.create(person=person, channels=["sms"])
    incident = open_incident()
    for n in range(2):
        notify_roles(incident, role_keys=["tech_group"], event=f"update:{n}", ask=Ask.FYI)
    deliver_due()
    # One by one: the first fails (retried later), the next two fit under the cap of two.
    rows = list(Delivery.objects.filter(kind="sms").order_by("id"))
    assert [d.status for d in rows] == [DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert [len(_attempts(d)) for d in rows] == [1, 1, 1]
    assert len(gateway.accepted) == 2


def test_a_kept_alive_connection_is_reused_for_the_next_call(open_incident, receiver):
    hook = receiver("webhook", secret=SECRET, keep_alive=True)
    _hook(f"{hook.base}/hook")
    open_incident(title="first")
    deliver_due()
    open_incident(title="second")
    deliver_due()
    assert len(hook.accepted) == 2
    assert hook.requests[0]["client"] == hook.requests[1]["client"]


def test_a_connection_the_receiver_closed_while_idle_is_not_used_again(open_incident, receiver):
    hook = receiver("webhook", secret=SECRET, keep_alive=True, close_after_answer=True)
    _hook(f"{hook.base}/hook")
    open_incident(title="first")
    deliver_due()
    time.sleep(0.05)
    open_incident(title="second")
    deliver_due()
    rows = list(Delivery.objects.filter(kind="webhook"))
    assert [d.status for d in rows] == [DeliveryStatus.SENT] * 2
    assert all(len(_attempts(d)) == 1 for d in rows)
    assert hook.requests[0]["client"] != hook.requests[1]["client"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only("two drainers on their own connections claiming at once with SKIP LOCKED")
def test_two_concurrent_drainers_deliver_each_of_many_deliveries_exactly_once(open_incident, receiver):
    hook = receiver("webhook", secret=SECRET, keep_alive=True)
    channel = _hook(f"{hook.base}/hook", role_key="nobody-holds-this")
    notification = Notification.objects.filter(incident=open_incident()).first()
    count = 300
    Delivery.objects.bulk_create([Delivery(notification=notification, kind="webhook", channel=channel,
                                           idempotency_key=f"drain:{n}") for n in range(count)])
    sent, errors = [], []
    start = threading.Barrier(2)

    def drain():
        try:
            start.wait()
            sent.append(deliver_due(limit=20, rounds=1000))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    drainers = [threading.Thread(target=drain) for _ in range(2)]
    for thread in drainers:
        thread.start()
    for thread in drainers:
        thread.join(60)
    assert not errors and sum(sent) == count
    assert all(s > 0 for s in sent), sent  # both took part
    at_receiver = Counter(r["headers"]["X-Fenghuo-Delivery"] for r in hook.requests)
    assert len(at_receiver) == count and set(at_receiver.values()) == {1}
    assert not hook.requests or len(hook.accepted) == count
    rows = Delivery.objects.filter(channel=channel)
    assert rows.filter(status=DeliveryStatus.SENT, attempts=1).count() == count
    per_row = Counter(DeliveryAttempt.objects.filter(delivery__channel=channel).values_list("delivery_id", flat=True))
    assert len(per_row) == count and set(per_row.values()) == {1}
