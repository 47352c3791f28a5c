"""The restore drill of docs/deployment.md, performed (issue 22, item 4).

A private PostgreSQL holds a running deployment's data: the plan, people, incidents with their timelines
and deadlines. It is dumped with ``pg_dump -Fc`` as the nightly backup does, restored with ``pg_restore``
into a fresh cluster (another initdb: the replacement server), and the product is pointed at it: gunicorn
answers the incident list from it, every timeline row is there byte for byte in its order, the timeline is
still append-only (its trigger came back with the dump), and the sequences continue where they were, so a
new incident opened on the restored server takes fresh ids.
"""

import hashlib
import json
import urllib.request

import psycopg
import pytest

from tests.support.multinode import Deployment
from tests.support.processes import gunicorn
from tests.support.servers import PrivatePostgres
from tests.test_faults import SEED

pytestmark = pytest.mark.faults

TIMELINE = ("SELECT id, incident_id, kind, at, actor_id, actor_label, deadline_id, detail::text "
            "FROM incidents_timelineentry ORDER BY id")


def timeline_digest(url):
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(TIMELINE).fetchall()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def test_a_dump_restored_into_a_fresh_server_is_the_same_deployment_and_takes_new_work(tmp_path):
    source, target = PrivatePostgres(), None
    try:
        source.start()
        before = Deployment(database_url=source.url("fenghuo"), broker_url="filesystem://", workdir=tmp_path,
                            extra_env={"ESCALATION_ETA_TASKS": "false", "NOTIFICATIONS_KICK_ON_COMMIT": "false"})
        before.create_database(source.url(), "fenghuo")
        before.manage("migrate", "--noinput", "-v", "0")
        tokens = json.loads(before.shell(SEED.format(seconds_per_hour=3600, secret="x" * 32,
                                                     hook_url="http://127.0.0.1:9/hook")))
        opened = before.open_incidents(count=5, category="network", level="orange", tag="before the backup")
        count, digest = timeline_digest(source.url("fenghuo"))
        assert count > len(opened)

        # The backup: a custom-format dump, written where the cluster's owner may write.
        dump = source.dir / "fenghuo.dump"
        source.run("pg_dump", "-h", "127.0.0.1", "-p", str(source.port), "-U", "postgres", "-Fc",
                   "-f", str(dump), "fenghuo")
        source.stop()  # the old server is gone

        target = PrivatePostgres()
        target.start()
        after = Deployment(database_url=target.url("fenghuo"), broker_url="filesystem://", workdir=tmp_path,
                           extra_env=before.env | {"DATABASE_URL": target.url("fenghuo")})
        after.create_database(target.url(), "fenghuo")
        target.run("pg_restore", "-h", "127.0.0.1", "-p", str(target.port), "-U", "postgres", "--no-owner",
                   "--exit-on-error", "-d", "fenghuo", str(dump))

        assert timeline_digest(target.url("fenghuo")) == (count, digest), "every timeline row, in order"
        assert "No migrations to apply" in after.manage("migrate", "--noinput"), "the schema came back whole"
        with psycopg.connect(target.url("fenghuo"), autocommit=True) as conn:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute("UPDATE incidents_timelineentry SET actor_label = 'rewritten' WHERE id = "
                             "(SELECT min(id) FROM incidents_timelineentry)")

        with gunicorn(after.env) as (_web, base):
            request = urllib.request.Request(f"{base}/api/v1/incidents/",
                                             headers={"Authorization": f"Token {tokens['api_token']}"})
            with urllib.request.urlopen(request, timeout=15) as response:
                listed = json.loads(response.read())
        assert sorted(item["id"] for item in listed["results"]) == sorted(opened)

        new = after.open_incidents(count=1, category="system", level="yellow", tag="after the restore")
        assert new[0] > max(opened), "the sequences continue where the backup left them"
        grown, _digest = timeline_digest(target.url("fenghuo"))
        assert grown > count
    finally:
        source.remove()
        if target is not None:
            target.remove()
