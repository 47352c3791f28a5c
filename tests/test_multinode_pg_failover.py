"""PostgreSQL failover (issue 22, item 3): a primary, its synchronous standby, and a two-host DATABASE_URL.

gunicorn is given ``postgres://postgres@primary,standby/fenghuo?target_session_attrs=read-write`` and
nothing else about the servers. Under a steady load of alerts and staff API reads the primary is killed
(``pg_ctl stop -m immediate``, a crash) and, a few seconds later, the standby promoted, as Patroni or a
managed service does. While no server accepts writes every request is a 503 with Retry-After, never a
500; after the promotion the same processes answer from the new primary, and every alert answered 202
before the crash is in it (synchronous replication: a commit waits for the standby).

``pytest tests/test_multinode_pg_failover.py -s`` prints the figures docs/reliability.md reports.
"""

import json
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest

from tests.support.multinode import Deployment
from tests.support.processes import wait_until
from tests.support.servers import PrivatePostgres, PrivateRedis
from tests.test_faults import SEED, Load

pytestmark = pytest.mark.faults

DETECTION_SECONDS = 4  # what the failover manager takes to call the primary dead and promote


# A signed-in session for the duty officer SEED made: the pages read the session and the user in middleware,
# before any view, so a lost database there must be a 503 too (config/middleware.py server_error).
SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from people.models import Person
officer = Person.objects.get(username="duty-officer")
session = SessionStore()
session.update({SESSION_KEY: str(officer.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: officer.get_session_auth_hash()})
session.create()
print(session.session_key)
"""


class PageReader(threading.Thread):
    """Reads the incident list page with the session cookie, as a browser on the duty desk does."""

    def __init__(self, base, session_key):
        super().__init__(daemon=True)
        self.base, self.cookie = base, f"sessionid={session_key}"
        self.stopping = threading.Event()
        self.answers = []

    def run(self):
        while not self.stopping.is_set():
            request = urllib.request.Request(f"{self.base}/incidents/", headers={"Cookie": self.cookie})
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=15) as response:
                    status, retry = response.status, response.headers.get("Retry-After")
            except urllib.error.HTTPError as error:
                status, retry = error.code, error.headers.get("Retry-After")
            except OSError:
                status, retry = 0, None
            self.answers.append((started, "/incidents/", status, retry))
            self.stopping.wait(0.25)

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


class Web:
    """What the Load of tests/test_faults.py needs of a stack: a base URL and the two tokens."""

    def __init__(self, base, tokens):
        self.base, self.alert_token, self.api_token = base, tokens["alert_token"], tokens["api_token"]


@pytest.fixture
def pair(tmp_path):
    primary = PrivatePostgres()
    try:
        primary.start(synchronous_commit="on")
        yield primary, lambda: PrivatePostgres(standby_of=primary)
    finally:
        primary.remove()


def test_a_primary_crash_then_promotion_is_503_with_retry_after_meanwhile_and_loses_no_accepted_alert(
        tmp_path, pair):
    from tests.support.processes import gunicorn

    primary, make_standby = pair
    broker = PrivateRedis(tmp_path / "redis")
    broker.start()
    standby = None
    try:
        setup = Deployment(database_url=primary.url("fenghuo_failover"), broker_url=broker.url, workdir=tmp_path)
        setup.create_database(primary.url(), "fenghuo_failover")
        setup.manage("migrate", "--noinput", "-v", "0")
        tokens = json.loads(setup.shell(SEED.format(seconds_per_hour=3600, secret="x" * 32,
                                                    hook_url="http://127.0.0.1:9/hook")))
        session_key = setup.shell(SESSION)
        standby = make_standby()
        standby.start()
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            assert wait_until(lambda: conn.execute("SELECT count(*) FROM pg_stat_replication WHERE state = "
                                                   "'streaming'").fetchone()[0] == 1, timeout=30)
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")
            assert wait_until(lambda: conn.execute("SELECT sync_state FROM pg_stat_replication").fetchone()[0]
                              == "sync", timeout=30)

        both = (f"postgres://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/fenghuo_failover"
                "?target_session_attrs=read-write&connect_timeout=2")
        env = {**setup.env, "DATABASE_URL": both, "ESCALATION_ETA_TASKS": "false", "LOG_LEVEL": "WARNING"}
        with gunicorn(env) as (web, base):
            load = Load(Web(base, tokens), tag="failover", per_second=4.0, api_token=tokens["api_token"])
            pages = PageReader(base, session_key)
            load.start()
            pages.start()
            try:
                assert wait_until(lambda: load.statuses().get(202, 0) >= 8, timeout=60), load.answers[-5:]
                primary.stop(mode="immediate")
                crashed = time.monotonic()
                time.sleep(DETECTION_SECONDS)
                promoting = time.monotonic()
                standby.promote()
                promoted = time.monotonic()
                assert wait_until(lambda: any(t > promoted and s == 202 for t, _p, s, _r in load.answers),
                                  timeout=60), load.answers[-10:]
                time.sleep(3)
            finally:
                load.stop()
                pages.stop()
            assert web.poll() is None, "gunicorn never restarted"
        with psycopg.connect(standby.url("fenghuo_failover"), autocommit=True) as conn:
            stored = conn.execute("SELECT count(*) FROM alerts_alert WHERE fingerprint = ANY(%s)",
                                  (load.accepted,)).fetchone()[0]
    finally:
        broker.stop()
        if standby is not None:
            standby.remove()

    # Asked before the promotion began: no server accepted writes yet.
    answers = load.answers + pages.answers
    during = [a for a in answers if crashed <= a[0] < promoting]
    refused = [a for a in answers if a[2] == 503]
    after = [a for a in answers if a[0] >= promoted]
    first_ok = min(t for t, _p, s, _r in after if s in (200, 202))
    print(f"\n[pg-failover] answers={len(answers)} (pages {len(pages.answers)}), during_switch={len(during)}, "
          f"refused_503={len(refused)}, answers_500={sum(1 for a in answers if a[2] >= 500 and a[2] != 503)}, "
          f"promotion_s={promoted - promoting:.2f}, first_success_after_promotion_s={first_ok - promoted:.2f}, accepted={len(load.accepted)}, "
          f"stored_on_new_primary={stored}")
    assert during, "nothing was asked during the switch; the test proves nothing"
    assert {s for _t, _p, s, _r in during} == {503}
    assert all(r and int(r) > 0 for _t, _p, _s, r in refused), "every 503 says when to retry"
    assert not [a for a in answers if a[2] not in (200, 202, 503)]
    assert {p for _t, p, _s, _r in during} >= {"/incidents/", "/api/v1/incidents/", "/api/v1/alerts/alertmanager"}
    assert any(p == "/incidents/" and s == 200 for _t, p, s, _r in after), "the page reads the new primary"
    assert stored == len(load.accepted), "every alert answered 202 is on the promoted server"
