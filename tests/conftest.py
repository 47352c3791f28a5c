"""Fixtures of the tests that run real Celery processes (escalation, notifications)."""

import pytest
from django.db import connection

from plan.services import load_plan_text
from plan.tests.documents import fast_plan_text
from tests.support.processes import CeleryProcesses, database_url, own_broker


@pytest.fixture
def broker(settings):
    """This run's own broker (a Redis database, or the filesystem broker's folder), emptied before and after."""
    client = own_broker(settings)
    client.flushdb()  # drop what an earlier run left queued
    yield client
    client.flushdb()


@pytest.fixture
def celery_processes(broker, transactional_db, tmp_path, settings):
    processes = CeleryProcesses(workdir=tmp_path, env={
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "FENGHUO_QUEUE_PREFIX": settings.FENGHUO_QUEUE_PREFIX,
        "ESCALATION_SWEEP_SECONDS": "0.5",
    })
    yield processes
    processes.stop_all()
    logs = b"".join(p.read_bytes() for p in tmp_path.glob("*.log"))
    # A double effect would surface as the unique timeline row refusing it.
    assert b"IntegrityError" not in logs
    # The embedded SQLite: a task must wait for another process's write, never fail on it.
    assert b"database is locked" not in logs


@pytest.fixture
def fast_plan(db):
    return load_plan_text(fast_plan_text(seconds_per_hour=2), source="fast")
