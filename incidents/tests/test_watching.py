"""Watching the watcher: /readyz and /metrics tell when deadlines are not being acted on."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation import services as engine
from incidents import services

pytestmark = pytest.mark.django_db

SCRAPER = {"Authorization": "Bearer scraper-token-for-tests"}


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = "scraper-token-for-tests"


def metric(text, name, labels=""):
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} missing from:\n{text}"
    return float(match.group(1))


@pytest.fixture
def stalled_incident(shipped_plan, make_person, settings):
    """A yellow system fault whose one-hour on-site deadline nobody has swept for 61 s past the threshold."""
    settings.ESCALATION_STALL_SECONDS = 60
    # Only the deadline is under test here: heartbeats and the notification backlog stay in bounds
    # (incidents/tests/test_readiness.py tests those).
    settings.HEARTBEAT_MAX_AGE_SECONDS = settings.NOTIFICATION_BACKLOG_SECONDS = 10 ** 6
    settings.DUE_UNFIRED_MAX_COUNT = 10 ** 6
    engine.beat_heart("worker")
    engine.beat_heart("beat")
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        incident = services.log_fault(reporter=make_person("duty_staff"), category="system", level="yellow",
                                      title="slow")
    return incident, start + timedelta(hours=1)


def test_readyz_goes_not_ready_when_a_deadline_is_overdue_past_the_stall_threshold(client, stalled_incident):
    _incident, due = stalled_incident

    with time_machine.travel(due + timedelta(seconds=60), tick=False):
        assert client.get("/readyz").status_code == 200
    with time_machine.travel(due + timedelta(seconds=61), tick=False):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["escalation"].startswith("stalled")
    assert response.json()["checks"]["oldest_overdue_deadline_seconds"] == 61


def test_readyz_recovers_once_the_sweeper_has_acted(client, stalled_incident):
    _incident, due = stalled_incident

    with time_machine.travel(due + timedelta(seconds=61), tick=False):
        engine.sweep()
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["oldest_overdue_deadline_seconds"] is None


def test_metrics_expose_the_oldest_overdue_deadline_and_the_tables_counts(client, stalled_incident):
    _incident, due = stalled_incident

    with time_machine.travel(due + timedelta(seconds=61), tick=False):
        response = client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    assert metric(text, "fenghuo_oldest_overdue_deadline_seconds") == 61
    assert metric(text, "fenghuo_pending_deadlines") == 2  # on site in 1 h, orange in 2 h
    assert metric(text, "fenghuo_deadlines_acted_total", '{state="met"}') == 3  # the three reports, made at once
    assert metric(text, "fenghuo_deadlines_acted_total", '{state="missed"}') == 0

    with time_machine.travel(due + timedelta(seconds=61), tick=False):
        engine.sweep()
        text = client.get("/metrics", headers=SCRAPER).content.decode()
    assert metric(text, "fenghuo_oldest_overdue_deadline_seconds") == 0
    assert metric(text, "fenghuo_pending_deadlines") == 1
    assert metric(text, "fenghuo_deadlines_acted_total", '{state="missed"}') == 1


def test_metrics_are_in_the_prometheus_text_format(client, db):
    text = client.get("/metrics", headers=SCRAPER).content.decode()

    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or re.fullmatch(
            r'[a-z_]+(\{[a-z_]+="[a-z_]+"\})? -?[0-9.]+', line), line
    assert text.endswith("\n")


def test_metrics_are_404_for_everyone_when_no_metrics_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_refuse_an_anonymous_scraper_with_401(client):
    response = client.get("/metrics")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"fenghuo_" not in response.content


def test_metrics_refuse_a_wrong_bearer_token_with_401(client):
    response = client.get("/metrics", headers={"Authorization": "Bearer scraper-token-for-test"})

    assert response.status_code == 401


def test_metrics_refuse_a_signed_in_staff_member_without_the_token(admin_client):
    assert admin_client.get("/metrics").status_code == 401


def test_metrics_answer_the_right_bearer_token(client):
    response = client.get("/metrics", headers=SCRAPER)

    assert response.status_code == 200
    assert b"fenghuo_pending_deadlines" in response.content
