"""The wiring, with a real Celery worker on Redis: commit → task → provider → marked sent."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from celery import current_app as app  # the project's app (config/celery.py), made current at start-up
from notifications.models import ChannelConfig, Delivery, DeliveryStatus

from .receivers import Receiver

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

SECRET = "webhook-secret-0123456789"


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_committed_notification_is_delivered_by_a_real_worker_exactly_once(settings, make_person, open_incident):
    settings.NOTIFICATIONS_KICK_ON_COMMIT = True
    settings.ESCALATION_ETA_TASKS = False
    hook = Receiver("webhook", secret=SECRET, answers=[(500, {"error": "first try fails"}), (200, {"ok": True})])
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 0.2
    try:
        ChannelConfig.objects.create(name="ops", kind="webhook", url=f"{hook.base}/hook", secret=SECRET,
                                     role_key="tech_group")
        make_person("tech_group")
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            open_incident()
            assert _wait_for(lambda: Delivery.objects.filter(kind="webhook", status=DeliveryStatus.PENDING,
                                                             attempts=1).exists())
            # The retry is due at once; the beat schedule would send the nudge, here the test does.
            from notifications.tasks import deliver_pending
            time.sleep(0.3)
            deliver_pending.delay()
            assert _wait_for(lambda: Delivery.objects.filter(kind="webhook", status=DeliveryStatus.SENT).exists())
            deliver_pending.delay()
            time.sleep(0.5)
        assert len(hook.accepted) == 1
        assert len(hook.requests) == 2
        assert Delivery.objects.get(kind="webhook").attempts == 2
    finally:
        hook.close()


def test_kicks_while_a_delivery_run_waits_in_the_queue_enqueue_nothing_more(settings, monkeypatch):
    from core.broker import broker_redis
    from notifications.delivery import delivery_run_started, kick_delivery
    from notifications.tasks import deliver_pending

    if broker_redis() is None:
        pytest.skip("the kick flag lives in Redis; this run uses another broker")
    settings.NOTIFICATIONS_KICK_ON_COMMIT = True
    queued = []
    monkeypatch.setattr(deliver_pending, "delay", lambda: queued.append("run"))

    kick_delivery()
    kick_delivery()
    kick_delivery()
    assert queued == ["run"]

    delivery_run_started()  # the queued run starts: it may claim before the next rows commit
    kick_delivery()
    assert queued == ["run", "run"]
