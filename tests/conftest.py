"""Fixtures of the tests that run real Celery processes (escalation, notifications)."""

import pytest
import redis
from django.db import connection

from plan.tests.documents import fast_plan_text
from escalation.testing import CeleryProcesses, database_url
from plan.services import load_plan_text


@pytest.fixture
def broker(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://.../<your db>")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    assert db not in (13, 14, 15), "Redis databases 13-15 belong to others"
    client.flushdb()  # this run's own database: drop what an earlier run left queued
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


@pytest.fixture
def fast_plan(db):
    return load_plan_text(fast_plan_text(seconds_per_hour=2), source="fast")
