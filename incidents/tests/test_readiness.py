"""/readyz sees a dead worker, a dead beat, a notification backlog and deadlines nobody fires (finding 11)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation import tasks
from escalation.models import Heartbeat
from incidents import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_heartbeats(settings):
    settings.HEARTBEAT_MAX_AGE_SECONDS = 30
    tasks._beat_sent_heartbeat(sender="escalation.heartbeat")
    tasks.heartbeat()


def test_readyz_is_ready_with_fresh_heartbeats_and_no_backlog(client, fresh_heartbeats):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert checks["worker_heartbeat_age_seconds"]["ok"] and checks["beat_heartbeat_age_seconds"]["ok"]
    assert checks["worker_heartbeat_age_seconds"]["threshold"] == 30
    assert checks["due_unfired_deadlines"]["value"] == 0
    assert checks["out_of_bounds"] == []


def test_readyz_names_a_stale_worker_heartbeat(client, fresh_heartbeats):
    Heartbeat.objects.filter(name="worker").update(at=timezone.now() - timedelta(seconds=31))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["out_of_bounds"] == ["worker_heartbeat_age_seconds"]


def test_readyz_is_not_ready_before_any_worker_ever_ran(client, fresh_heartbeats):
    Heartbeat.objects.filter(name="worker").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker_heartbeat_age_seconds"]["value"] is None


def test_readyz_names_a_stale_beat_heartbeat(client, fresh_heartbeats):
    Heartbeat.objects.filter(name="beat").update(at=timezone.now() - timedelta(seconds=31))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["out_of_bounds"] == ["beat_heartbeat_age_seconds"]


def test_readyz_is_not_ready_when_a_notification_waits_past_the_backlog_threshold(client, fresh_heartbeats, settings):
    from notifications.models import Delivery, Notification

    settings.NOTIFICATION_BACKLOG_SECONDS = 120
    notification = Notification.objects.create(role_key="office", event="test", title="t", dedup_key="backlog-1")
    Delivery.objects.create(notification=notification, kind="email", address="a@example.test",
                            idempotency_key="backlog-1")
    assert client.get("/readyz").status_code == 200
    Delivery.objects.update(created_at=timezone.now() - timedelta(seconds=121))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["out_of_bounds"] == ["oldest_undelivered_notification_seconds"]


def test_readyz_counts_an_overdue_unfired_deadline(client, shipped_plan, make_person, settings):
    settings.ESCALATION_STALL_SECONDS = 60
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        services.log_fault(reporter=make_person("duty_staff"), category="system", level="yellow", title="slow")
    with time_machine.travel(start + timedelta(hours=1, seconds=61), tick=False):
        tasks._beat_sent_heartbeat(sender="escalation.heartbeat")
        tasks.heartbeat()
        from notifications.models import Delivery

        Delivery.objects.update(created_at=timezone.now())
        response = client.get("/readyz")
    assert response.status_code == 503
    figure = response.json()["checks"]["due_unfired_deadlines"]
    assert figure["value"] >= 1 and figure["oldest_age_seconds"] == 61
    assert "due_unfired_deadlines" in response.json()["checks"]["out_of_bounds"]
