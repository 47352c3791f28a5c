"""Redis through Sentinel (issue 22, item 3): the broker, the cache and the flags follow a failover.

A private ``redis-server`` master, its replica and a Sentinel (``redis-server --sentinel``) watching them;
a Celery worker and beat given only ``CELERY_BROKER_URL=sentinel://…`` and ``REDIS_SENTINEL_MASTER``. The
master is SIGKILLed while deadlines come due: the Sentinel promotes the replica, worker and beat reconnect
to it without a restart, every deadline acts exactly once, and the cache answers from the new master.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.cache import ForgivingRedisCache
from core.broker import redis_client
from escalation.models import Heartbeat
from tests.support.processes import CeleryProcesses, acted_exactly_once, database_url, make_incidents_with_deadlines, \
    wait_until
from tests.support.servers import PrivateRedis

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

MASTER = "fenghuo-test"


@pytest.fixture
def sentinel_set(tmp_path):
    master = PrivateRedis(tmp_path / "master")
    replica = PrivateRedis(tmp_path / "replica", replica_of=master)
    sentinel = PrivateRedis(tmp_path / "sentinel", sentinel_of=master, master_name=MASTER)
    try:
        master.start()
        replica.start()
        sentinel.start()
        # The Sentinel learns of the replica from the master's INFO; a failover needs it known and in sync.
        assert wait_until(lambda: sentinel.client().execute_command("SENTINEL", "REPLICAS", MASTER)
                          and master.client().info("replication").get("slave0", {}).get("state") == "online",
                          timeout=30), sentinel.log()[-2000:]
        yield master, replica, sentinel
    finally:
        for server in (sentinel, replica, master):
            server.stop()


def named_master(sentinel):
    return int(sentinel.client().execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)[1])


def test_the_master_killed_the_sentinel_promotes_the_replica_and_workers_beat_and_cache_follow(
        sentinel_set, fast_plan, settings, tmp_path):
    master, replica, sentinel = sentinel_set
    url = f"sentinel://127.0.0.1:{sentinel.port}/0"
    settings.REDIS_SENTINEL_MASTER = MASTER
    cache = ForgivingRedisCache(f"sentinel://127.0.0.1:{sentinel.port}/1",
                                {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})
    cache.set("before-failover", "kept", timeout=300)
    processes = CeleryProcesses(workdir=tmp_path, env={
        "DATABASE_URL": database_url(connection.settings_dict), "CELERY_BROKER_URL": url,
        "REDIS_SENTINEL_MASTER": MASTER, "FENGHUO_QUEUE_PREFIX": "fenghuo-sentinel",
        "ESCALATION_SWEEP_SECONDS": "0.5", "HEARTBEAT_SECONDS": "1", "CACHE_URL": ""})
    try:
        processes.start_worker("w1", concurrency=2)
        processes.start_beat()
        now = timezone.now()
        # Due before, during and after the failover (the Sentinel calls the master down after 1 s).
        deadlines = make_incidents_with_deadlines(version=fast_plan, due_times=[
            now + timedelta(seconds=2 + i * 0.5) for i in range(30)], schedule_eta=False)
        ids = [d.pk for d in deadlines]
        assert wait_until(lambda: Heartbeat.objects.filter(name="worker").exists(), timeout=30)
        assert wait_until(lambda: deadlines[0].__class__.objects.filter(pk__in=ids).exclude(
            state="pending").count() >= 3, timeout=30), processes.log_text("w1").decode()[-3000:]

        master.stop()
        killed, killed_at = time.monotonic(), timezone.now()
        assert wait_until(lambda: named_master(sentinel) == replica.port, timeout=30), sentinel.log()[-3000:]
        promoted = time.monotonic()
        assert wait_until(lambda: Heartbeat.objects.filter(name="worker", at__gt=timezone.now()
                                                           - timedelta(seconds=0.5)).exists(), timeout=60), \
            processes.log_text("w1").decode()[-3000:]
        working_again = time.monotonic()
        assert wait_until(lambda: not deadlines[0].__class__.objects.filter(pk__in=ids, state="pending").exists(),
                          timeout=60), processes.log_text("w1").decode()[-3000:]
    finally:
        processes.stop_all()

    rows = acted_exactly_once(ids)
    late_after_kill = [(d.acted_at - d.due_at).total_seconds() for d in rows if d.due_at > killed_at]
    print(f"\n[sentinel] promoted_after_s={promoted - killed:.1f}, worker_heartbeat_again_after_s="
          f"{working_again - killed:.1f}, deadlines={len(rows)}, due_after_kill={len(late_after_kill)}, "
          f"max_lateness_of_those_s={max(late_after_kill):.1f}")
    assert late_after_kill, "no deadline came due after the master died; the test proves nothing"
    # The cache, and the flags' client, now reach the promoted server.
    cache.set("after-failover", "written", timeout=300)
    assert cache.get("after-failover") == "written"
    assert cache.get("before-failover") == "kept", "replicated before the kill"
    assert redis_client(url, socket_timeout=1).ping()
    assert replica.client().info("replication")["role"] == "master"
    logs = processes.log_text("w1") + processes.log_text("beat")
    assert b"IntegrityError" not in logs
