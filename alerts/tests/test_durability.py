"""A 202 means committed: killing the web process or the worker right after it loses nothing."""

import json
import os
import signal
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from alerts import processing
from alerts.models import Alert, AlertGroup
from incidents.models import Incident, TimelineKind
from tests.support.processes import CeleryProcesses, database_url, own_broker, wait_until
from tests.support.processes import gunicorn as gunicorn_server

from .conftest import am_alert, am_webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gunicorn():
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict),
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "FENGHUO_QUEUE_PREFIX": settings.FENGHUO_QUEUE_PREFIX,
           "CONN_MAX_AGE": "60"}
    with gunicorn_server(env) as server:
        yield server


def _post_groups(base, token, groups, per_group):
    """POST ``per_group`` alerts for each of ``groups`` new groups; returns the fingerprints answered 202."""
    accepted = []
    for n in range(groups):
        body = am_webhook(f"group-{n}", [am_alert(f"fp-{n}-{i}") for i in range(per_group)])
        request = urllib.request.Request(f"{base}/api/v1/alerts/alertmanager", data=json.dumps(body).encode(),
                                         method="POST", headers={"Authorization": f"Bearer {token}",
                                                                 "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            accepted += [f"fp-{n}-{i}" for i in range(per_group)]
    return accepted


def test_sigkilled_web_process_right_after_202_loses_no_alert(minimal_plan_version, make_integration, gunicorn):
    process, base = gunicorn
    _integration, token = make_integration()
    accepted = _post_groups(base, token, groups=5, per_group=10)
    # The last 202 has just arrived: kill the master and its workers at once, no chance to flush anything.
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == sorted(accepted)
    # Whatever happened to the after-commit nudges, the sweep turns every stored alert into its incident.
    processing.alerts_process_pending()
    assert Incident.objects.count() == 5
    assert not Alert.objects.filter(processed_at__isnull=True).exists()


@pytest.fixture
def celery(tmp_path):
    client = own_broker(settings)
    client.flushdb()  # this run's own broker: nothing queued by earlier tests
    processes = CeleryProcesses(workdir=tmp_path, env={
        "DATABASE_URL": database_url(connection.settings_dict), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "FENGHUO_QUEUE_PREFIX": settings.FENGHUO_QUEUE_PREFIX})
    yield processes
    processes.stop_all()
    client.flushdb()


def test_worker_killed_while_it_opens_incidents_loses_no_alert_and_opens_each_incident_once(
        minimal_plan_version, make_integration, gunicorn, celery):
    _process, base = gunicorn
    integration, token = make_integration(storm={"storm_threshold": 0})  # each group its own incident: 30 to count
    celery.start_worker("w1", concurrency=2)
    accepted = _post_groups(base, token, groups=30, per_group=10)
    # SIGKILL as soon as the worker has opened anything: its open transactions die with it, its
    # Redis turns stay held until they expire, its unacknowledged tasks are lost to this broker.
    wait_until(lambda: Incident.objects.exists(), timeout=60)
    celery.kill("w1")

    celery.start_worker("w2", concurrency=2)
    celery.start_beat()  # the sweep, every 2 s, is what picks up the work
    wait_until(lambda: not Alert.objects.filter(processed_at__isnull=True).exists(), timeout=90)

    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == sorted(accepted)
    assert Incident.objects.count() == 30
    for group in AlertGroup.objects.filter(integration=integration):
        assert group.incident.timeline.filter(kind=TimelineKind.OPENED).count() == 1
        assert set(Alert.objects.filter(group_key=group.key).values_list("incident", flat=True)) == {group.incident_id}
    integration.refresh_from_db()
    assert (integration.incidents_opened, integration.alerts_received) == (30, 300)
