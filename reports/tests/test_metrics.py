"""/metrics: open incidents by level, deadlines pending and overdue by kind, the notification backlog and failures
by channel, alert intake and heartbeat ages, beside the engine's own lines; the same token rule as before."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Integration
from escalation.models import Heartbeat, Kind, State
from notifications.models import DeliveryStatus

from .build import at, deadline, incident, integration, notification

pytestmark = pytest.mark.django_db

SCRAPER = {"Authorization": "Bearer scraper-token-for-tests"}
NOW = at("2026-11-10 12:00")


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = "scraper-token-for-tests"


def metric(text, name, labels=""):
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} missing from:\n{text}"
    return float(match.group(1))


def scrape(client):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def running(minimal_plan_version):
    v = minimal_plan_version
    hour = 3600
    a = incident(v, level="yellow", opened=NOW - timedelta(hours=2), ack=60)
    b = incident(v, level="yellow", opened=NOW - timedelta(minutes=30))
    c = incident(v, level="red", opened=NOW - timedelta(minutes=10), ack=30)
    incident(v, level="orange", opened=NOW - timedelta(days=1), ack=10, resolved=100)  # closed
    incident(v, level="red", opened=NOW - timedelta(minutes=5), drill=True)
    deadline(a, kind=Kind.ON_SITE, state=State.PENDING, role="tech_group", due=hour)  # an hour overdue
    deadline(a, kind=Kind.ESCALATION, state=State.PENDING, due=3 * hour)
    deadline(b, kind=Kind.ON_SITE, state=State.PENDING, role="tech_group", due=hour)
    deadline(c, kind=Kind.ON_SITE, state=State.MET, role="tech_group", due=1800, acted=600)
    notification(a, ack=None, deliveries={"email": DeliveryStatus.PENDING, "sms": DeliveryStatus.FAILED})
    notification(b, ack=None, deliveries={"email": DeliveryStatus.SENDING, "dingtalk": DeliveryStatus.SENT})
    notification(c, ack=None, deliveries={"email": DeliveryStatus.FAILED, "wecom": DeliveryStatus.COALESCED})
    integration("zabbix")
    integration("prometheus")
    Integration.objects.filter(name="zabbix").update(alerts_received=120, requests_rejected=3, incidents_opened=7)
    Integration.objects.filter(name="prometheus").update(alerts_received=30, incidents_opened=2)
    Heartbeat.objects.create(name="worker", at=NOW - timedelta(seconds=4))


def test_open_incidents_are_counted_by_level_without_drills(client, running):
    text = scrape(client)

    assert metric(text, "fenghuo_open_incidents", '{level="yellow"}') == 2
    assert metric(text, "fenghuo_open_incidents", '{level="red"}') == 1
    assert metric(text, "fenghuo_open_incidents", '{level="orange"}') == 0  # resolved
    assert metric(text, "fenghuo_open_drills") == 1


def test_deadlines_pending_and_overdue_are_counted_by_kind(client, running):
    text = scrape(client)

    assert metric(text, "fenghuo_deadlines_pending", '{kind="on_site"}') == 2
    assert metric(text, "fenghuo_deadlines_overdue", '{kind="on_site"}') == 1
    assert metric(text, "fenghuo_deadlines_pending", '{kind="escalation"}') == 1
    assert metric(text, "fenghuo_deadlines_overdue", '{kind="escalation"}') == 0
    assert metric(text, "fenghuo_pending_deadlines") == 3  # the engine's own total is still there


def test_the_notification_backlog_and_failures_are_counted_by_channel(client, running):
    text = scrape(client)

    assert metric(text, "fenghuo_notification_backlog", '{channel="email"}') == 2
    assert metric(text, "fenghuo_notification_backlog", '{channel="sms"}') == 0
    assert metric(text, "fenghuo_notification_deliveries_failed_total", '{channel="email"}') == 1
    assert metric(text, "fenghuo_notification_deliveries_failed_total", '{channel="sms"}') == 1
    assert metric(text, "fenghuo_notification_deliveries_sent_total", '{channel="dingtalk"}') == 1
    assert metric(text, "fenghuo_notification_deliveries_sent_total", '{channel="wecom"}') == 1


def test_alert_intake_and_heartbeat_ages_are_exposed(client, running):
    text = scrape(client)

    assert metric(text, "fenghuo_alerts_received_total") == 150
    assert metric(text, "fenghuo_alert_requests_rejected_total") == 3
    assert metric(text, "fenghuo_alert_incidents_opened_total") == 9
    assert metric(text, "fenghuo_heartbeat_age_seconds", '{process="worker"}') == 4
    assert metric(text, "fenghuo_heartbeat_age_seconds", '{process="beat"}') == -1  # beat never ran


def test_a_scrape_takes_the_same_queries_however_many_rows(client, running, minimal_plan_version):
    with CaptureQueriesContext(connection) as few:
        scrape(client)
    for minutes in range(1, 20):
        inc = incident(minimal_plan_version, opened=NOW - timedelta(minutes=minutes))
        deadline(inc, kind=Kind.REPORT, state=State.PENDING, role="office", to_role="leadership", due=60)
        notification(inc, ack=None, deliveries={"feishu": DeliveryStatus.PENDING})
    with CaptureQueriesContext(connection) as many:
        text = scrape(client)

    assert len(many) == len(few)
    assert metric(text, "fenghuo_deadlines_overdue", '{kind="report"}') == 19


def test_metrics_still_need_the_bearer_token(client, running):
    assert client.get("/metrics").status_code == 401
