"""/readyz reports an alert worker whose lane count or queue prefix differs from the web process's."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from alerts import lanes, tasks
from alerts.models import WorkerSettings
from tests.support.processes import CeleryProcesses, database_url, own_broker, wait_until


@pytest.fixture
def two_lanes(settings):
    settings.ALERTS_LANES = 2
    settings.HEARTBEAT_MAX_AGE_SECONDS = 30


def _worker_ran_with(settings, name, **values):
    """What the sweep task records, as a worker started with ``values`` would."""
    saved = {key: getattr(settings, key) for key in values}
    for key, value in values.items():
        setattr(settings, key, value)
    lanes.worker_settings_record(worker=name)
    for key, value in saved.items():
        setattr(settings, key, value)


@pytest.mark.django_db
def test_readyz_reports_no_disagreement_when_workers_share_the_web_settings(client, two_lanes, settings):
    _worker_ran_with(settings, "celery@w1", ALERTS_LANES=2)
    figure = client.get("/readyz").json()["checks"]["alert_worker_settings"]
    assert figure == {"value": [], "threshold": {"lanes": 2, "queue_prefix": settings.FENGHUO_QUEUE_PREFIX},
                      "ok": True}


@pytest.mark.django_db
def test_readyz_is_not_ready_while_a_worker_runs_with_another_lane_count(client, two_lanes, settings):
    _worker_ran_with(settings, "celery@w1", ALERTS_LANES=2)
    _worker_ran_with(settings, "celery@w2", ALERTS_LANES=4)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert "alert_worker_settings" in checks["out_of_bounds"]
    assert [(w["worker"], w["lanes"]) for w in checks["alert_worker_settings"]["value"]] == [("celery@w2", 4)]


@pytest.mark.django_db
def test_readyz_is_not_ready_while_a_worker_runs_with_another_queue_prefix(client, two_lanes, settings):
    _worker_ran_with(settings, "celery@w1", FENGHUO_QUEUE_PREFIX="elsewhere")
    figure = client.get("/readyz").json()["checks"]["alert_worker_settings"]
    assert not figure["ok"]
    assert [(w["worker"], w["queue_prefix"]) for w in figure["value"]] == [("celery@w1", "elsewhere")]


@pytest.mark.django_db
def test_a_worker_silent_past_the_heartbeat_age_no_longer_disagrees(client, two_lanes, settings):
    _worker_ran_with(settings, "celery@old", ALERTS_LANES=4)
    WorkerSettings.objects.update(seen_at=timezone.now() - timedelta(seconds=31))
    assert client.get("/readyz").json()["checks"]["alert_worker_settings"]["ok"]


@pytest.mark.django_db
def test_every_sweep_records_the_settings_its_worker_runs_with(two_lanes, settings):
    tasks.sweep_pending()
    tasks.sweep_pending()
    (row,) = WorkerSettings.objects.all()
    assert (row.lanes, row.queue_prefix) == (2, settings.FENGHUO_QUEUE_PREFIX)
    assert timezone.now() - row.seen_at < timedelta(seconds=5)


@pytest.fixture
def celery(tmp_path):
    client = own_broker(settings)
    client.flushdb()  # this run's own broker: nothing queued by earlier tests
    processes = CeleryProcesses(workdir=tmp_path, env={
        "DATABASE_URL": database_url(connection.settings_dict), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "FENGHUO_QUEUE_PREFIX": settings.FENGHUO_QUEUE_PREFIX, "ALERTS_LANES": "3"})
    yield processes
    processes.stop_all()
    client.flushdb()


@pytest.mark.django_db(transaction=True)
def test_readyz_names_a_real_worker_started_with_another_lane_count(client, two_lanes, celery):
    celery.start_worker("w1")
    tasks.sweep_pending.delay()  # what beat sends every 2 s
    assert wait_until(lambda: WorkerSettings.objects.exists(), timeout=30)
    figure = client.get("/readyz").json()["checks"]["alert_worker_settings"]
    assert not figure["ok"]
    assert [(w["worker"].split("@")[0], w["lanes"]) for w in figure["value"]] == [("w1", 3)]
    assert figure["threshold"]["lanes"] == 2


def test_a_worker_silent_for_a_week_is_forgotten_when_a_new_one_appears(db):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.lanes import worker_settings_record
    from alerts.models import WorkerSettings

    WorkerSettings.objects.create(worker="celery@old-container", lanes=4, queue_prefix="x",
                                  seen_at=timezone.now() - timedelta(days=8))
    WorkerSettings.objects.create(worker="celery@yesterday", lanes=4, queue_prefix="x",
                                  seen_at=timezone.now() - timedelta(days=1))
    worker_settings_record(worker="celery@new-container")
    assert sorted(WorkerSettings.objects.values_list("worker", flat=True)) == ["celery@new-container", "celery@yesterday"]
