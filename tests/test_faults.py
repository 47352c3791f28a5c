"""Faults with real servers, under a steady alert load (issue 13, "Faults, proven by tests").

The tests start their own ``redis-server`` and ``postgres`` on free loopback
ports, then run the product as operators do (gunicorn, a Celery worker, beat)
against them, so they can stop and restart those servers without touching
the ones the rest of the suite (and other runs) share. Everything is read back
with plain SQL: this process never holds a Django connection to the private
database, so the restart cannot break the test's own reads.

Run them with ``pytest tests/test_faults.py -m faults -s``: ``-s`` shows the
figures that docs/reliability.md reports.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from alerts.tests.conftest import am_alert, am_webhook
from notifications.tests.receivers import Receiver
from tests.support.processes import CeleryProcesses, wait_until
from tests.support.servers import PrivatePostgres, PrivateRedis
from tests.support.servers import free_port as _free_port

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "faults-webhook-secret-0123456789"
REDIS_OUTAGE_SECONDS = 30
# The fast plan scaled so an on-site duty of 30 min is due 6 s after the incident opens: the
# incidents opened in the last seconds before Redis stops have deadlines that come due during the outage.
SECONDS_PER_HOUR = 12


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def private_postgres():
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


# Run in the private database by `manage.py shell`: the plan, the monitoring integration, the
# robot channel the office is told on, and a duty officer whose token reads the API.
SEED = """
import json
from alerts.integrations import integration_create
from notifications.models import ChannelConfig
from people.models import ApiToken, Person, RoleAssignment
from plan.services import load_plan_text
from plan.tests.documents import fast_plan_text

load_plan_text(fast_plan_text(seconds_per_hour={seconds_per_hour}), source="faults")
_integration, alert_token = integration_create(name="prometheus", kind="alertmanager", default_category="equipment",
                                               default_level="yellow", rate_limit_per_minute=100000,
                                               storm={{"storm_threshold": 0}})  # one incident per alert, to count
ChannelConfig.objects.create(name="office robot", kind="webhook", url="{hook_url}", secret="{secret}",
                             role_key="office")
officer = Person.objects.create_user(username="duty-officer", password="pw-for-tests-only", email="")
RoleAssignment.objects.create(person=officer, role_key="duty_staff")
_token, api_token = ApiToken.issue(officer)
print(json.dumps({{"alert_token": alert_token, "api_token": api_token}}))
"""


class Stack:
    """gunicorn, a Celery worker and beat on the private servers, and the webhook receiver they notify."""

    def __init__(self, *, postgres, redis_server, workdir):
        self.postgres, self.redis = postgres, redis_server
        self.workdir = workdir
        self.database_url = postgres.url("fenghuo_faults")
        self.env = {**os.environ, "DATABASE_URL": self.database_url, "CELERY_BROKER_URL": redis_server.url,
                    "FENGHUO_QUEUE_PREFIX": "fenghuo-faults", "FENGHUO_VAR_DIR": str(workdir / "var"),
                    "CONN_MAX_AGE": "60", "ESCALATION_SWEEP_SECONDS": "1", "HEARTBEAT_SECONDS": "2",
                    "LOG_LEVEL": "WARNING"}
        self.env.pop("EMAIL_URL", None)
        self.hook = Receiver("webhook", secret=WEBHOOK_SECRET)
        self.web = None
        self.base = None
        self.celery = CeleryProcesses(workdir=workdir, env=self.env)

    def manage(self, *args):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def prepare(self):
        with psycopg.connect(self.postgres.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE fenghuo_faults")
        self.manage("migrate", "--noinput", "-v", "0")
        out = self.manage("shell", "-c", SEED.format(seconds_per_hour=SECONDS_PER_HOUR, secret=WEBHOOK_SECRET,
                                                     hook_url=f"{self.hook.base}/hook"))
        tokens = json.loads(out.strip().splitlines()[-1])
        self.alert_token, self.api_token = tokens["alert_token"], tokens["api_token"]

    def start(self):
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.web_log = open(self.workdir / "gunicorn.log", "ab")  # noqa: SIM115 - closed in stop()
        self.web = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--worker-class", "gthread", "--workers", "2", "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env=self.env, start_new_session=True, stdout=self.web_log, stderr=subprocess.STDOUT)
        if not wait_until(lambda: self._healthy(), timeout=90, interval=0.3):
            raise RuntimeError(f"gunicorn did not start:\n{self.log('gunicorn')[-3000:]}")
        self.celery.start_worker("worker", concurrency=2, wait=True)
        self.celery.start_beat()

    def _healthy(self):
        if self.web.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.log('gunicorn')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=5):
                return True
        except OSError:
            return False

    def log(self, name):
        return (self.workdir / f"{name}.log").read_bytes().decode(errors="replace")

    def stop(self):
        self.celery.stop_all()
        if self.web is not None and self.web.poll() is None:
            os.killpg(self.web.pid, signal.SIGKILL)
            self.web.wait()
            self.web_log.close()
        self.hook.close()

    def rows(self, query, *params):
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def sql(self, query, *params):
        """One value (or row) read in a fresh connection: the server may have restarted since the last one."""
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(query, params).fetchone()
        return row[0] if row is not None and len(row) == 1 else row


@pytest.fixture(scope="module")
def stack(private_postgres, private_redis, tmp_path_factory):
    stack = Stack(postgres=private_postgres, redis_server=private_redis, workdir=tmp_path_factory.mktemp("stack"))
    try:
        stack.prepare()
        stack.start()
        yield stack
    finally:
        stack.stop()
    logs = stack.log("worker") + stack.log("beat")
    # A deadline acted on twice would surface as its unique timeline row refusing the second insert.
    assert "IntegrityError" not in logs


def _now_iso():
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Load(threading.Thread):
    """Posts one new Alertmanager group (so one new incident) every ``1 / per_second`` s until stopped.

    With ``api_token`` it also reads the incident list between posts, so the figures cover the
    staff API as well as the webhook. Every answer is recorded: (monotonic time, path, status, Retry-After).
    """

    def __init__(self, stack, *, tag, per_second=3.0, api_token=None):
        super().__init__(daemon=True)
        self.stack, self.tag, self.interval, self.api_token = stack, tag, 1 / per_second, api_token
        self.stopping = threading.Event()
        self.answers = []
        self.ended = []  # when each of ``answers`` came back, in the same order
        self.sent, self.accepted = [], []

    def run(self):
        n = 0
        next_at = time.monotonic()
        while not self.stopping.is_set():
            fingerprint = f"{self.tag}-{n}"
            body = am_webhook(f"{self.tag}-group-{n}", [am_alert(fingerprint, starts=_now_iso())])
            self.sent.append(fingerprint)
            status = self._request("/api/v1/alerts/alertmanager", body, f"Bearer {self.stack.alert_token}")
            if 200 <= status < 300:
                self.accepted.append(fingerprint)
            if self.api_token:
                self._request("/api/v1/incidents/", None, f"Token {self.api_token}")
            n += 1
            next_at += self.interval
            self.stopping.wait(max(0.0, next_at - time.monotonic()))

    def _request(self, path, body, authorization):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.stack.base}{path}", data=data, method="POST" if data else "GET",
                                         headers={"Authorization": authorization, "Content-Type": "application/json"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
        except urllib.error.HTTPError as error:
            status, retry_after = error.code, error.headers.get("Retry-After")
        except OSError:  # refused or timed out: no answer at all, never counted as accepted
            status, retry_after = 0, None
        self.answers.append((started, path, status, retry_after))
        self.ended.append(time.monotonic())
        return status

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)

    def statuses(self, path=None):
        counts = {}
        for _at, answered_path, status, _retry in self.answers:
            if path is None or answered_path == path:
                counts[status] = counts.get(status, 0) + 1
        return counts


def _stored(stack, fingerprints):
    return stack.sql("SELECT count(*) FROM alerts_alert WHERE fingerprint = ANY(%s)", list(fingerprints))


def _backlog(stack):
    """What is still waiting, for the message of a failed wait."""
    return {
        "alerts_unprocessed": stack.sql("SELECT count(*) FROM alerts_alert WHERE processed_at IS NULL"),
        "deadlines_pending_due": stack.sql(
            "SELECT count(*) FROM escalation_deadline WHERE state = 'pending' AND due_at <= now()"),
        "deadlines_pending": stack.sql("SELECT count(*) FROM escalation_deadline WHERE state = 'pending'"),
        "deliveries_waiting": stack.sql(
            "SELECT count(*) FROM notifications_delivery WHERE status IN ('pending', 'sending')"),
        "worker_log": stack.log("worker")[-2000:], "beat_log": stack.log("beat")[-1500:],
    }


def _report(title, figures):
    print(f"\n[faults] {title}: " + ", ".join(f"{name}={value}" for name, value in figures.items()))


def test_redis_stopped_30_s_loses_no_accepted_alert_fires_each_due_deadline_once_and_resumes_notifying(stack):
    load = Load(stack, tag="redis", api_token=stack.api_token)
    load.start()
    try:
        # Before the fault: alerts become incidents and the office robot is told.
        assert wait_until(lambda: len(stack.hook.accepted) >= 3, timeout=60), stack.log("worker")[-3000:]
        time.sleep(3)
        stack.redis.stop()
        stopped_at = datetime.now(UTC)
        time.sleep(REDIS_OUTAGE_SECONDS)
        sent_before_restart = len(stack.hook.accepted)
        stack.redis.start()
        restarted, restarted_at = time.monotonic(), datetime.now(UTC)
        # Load continues through the recovery, then stops; what it sent must all be handled.
        time.sleep(10)
    finally:
        load.stop()

    def settled():
        return (_stored(stack, load.accepted) == len(load.accepted)
                and not stack.sql("SELECT count(*) FROM alerts_alert WHERE processed_at IS NULL")
                and not stack.sql("SELECT count(*) FROM escalation_deadline WHERE state = 'pending' AND due_at <= now()")
                and not stack.sql("SELECT count(*) FROM escalation_deadline WHERE state = 'pending'")
                and not stack.sql("SELECT count(*) FROM notifications_delivery WHERE status IN ('pending', 'sending')"))

    assert wait_until(settled, timeout=90, interval=0.5), _backlog(stack)
    recovered_after = time.monotonic() - restarted
    # Timed deadlines only: a report duty is born met (Fenghuo makes the report itself) and never comes due.
    timed = "kind <> 'report'"
    due_in_outage = stack.sql(f"SELECT count(*) FROM escalation_deadline WHERE {timed} AND due_at > %s AND due_at < %s",
                              stopped_at, restarted_at)
    # The worker keeps the ETA nudges it already held and PostgreSQL is up: some act on time during the
    # outage. The rest wait for the sweep once Redis is back. Either way each acts exactly once.
    acted_in_outage = stack.rows(
        f"SELECT count(*) FILTER (WHERE acted_at < %s), count(*) FILTER (WHERE acted_at >= %s) "
        f"FROM escalation_deadline WHERE {timed} AND due_at > %s AND due_at < %s AND state <> 'pending'",
        restarted_at, restarted_at, stopped_at, restarted_at)[0]
    due = stack.sql(f"SELECT count(*) FROM escalation_deadline WHERE {timed} AND due_at <= now()")
    acted = stack.sql(f"SELECT count(*) FROM escalation_deadline WHERE {timed} AND state <> 'pending'")
    effects = stack.sql(f"SELECT count(DISTINCT deadline_id) FROM incidents_timelineentry t "
                        f"JOIN escalation_deadline d ON d.id = t.deadline_id WHERE d.{timed}")
    doubled = stack.sql("SELECT count(*) FROM (SELECT deadline_id FROM incidents_timelineentry "
                        "WHERE deadline_id IS NOT NULL GROUP BY deadline_id HAVING count(*) > 1) AS d")
    sent = stack.sql("SELECT count(*) FROM notifications_delivery WHERE status = 'sent'")
    sent_after_restart = stack.sql("SELECT count(*) FROM notifications_delivery WHERE sent_at > %s", restarted_at)
    _report("Redis stopped 30 s", {
        "alerts_sent": len(load.sent), "alerts_accepted": len(load.accepted),
        "alerts_stored": _stored(stack, load.accepted),
        "webhook_answers": load.statuses("/api/v1/alerts/alertmanager"), "api_answers": load.statuses("/api/v1/incidents/"),
        "deadlines_due": due, "deadlines_due_during_outage": due_in_outage,
        "of_those_acted_during_outage": acted_in_outage[0],
        "of_those_acted_after_restart": acted_in_outage[1], "deadlines_acted": acted, "doubled": doubled,
        "deliveries_sent": sent, "sent_after_restart": sent_after_restart,
        "receiver_accepted": len(stack.hook.accepted), "receiver_accepted_before_restart": sent_before_restart,
        "settled_seconds_after_restart": round(recovered_after, 1),
    })

    assert set(load.statuses("/api/v1/alerts/alertmanager")) == {202}, "PostgreSQL stores alerts while Redis is down"
    assert set(load.statuses("/api/v1/incidents/")) == {200}, "the staff API reads PostgreSQL, not Redis"
    assert _stored(stack, load.accepted) == len(load.accepted) == len(load.sent)
    # One new group per post: each accepted alert opened its own incident, once.
    assert stack.sql("SELECT count(DISTINCT incident_id) FROM alerts_alert WHERE fingerprint = ANY(%s)",
                     load.accepted) == len(load.accepted)
    assert due_in_outage > 0, "no deadline came due during the outage; the test proves nothing"
    assert sum(acted_in_outage) == due_in_outage and acted_in_outage[1] > 0
    assert acted == effects == due and doubled == 0
    assert sent_after_restart > 0 and len(stack.hook.accepted) == sent


def test_postgres_restarted_answers_503_with_retry_after_never_500_and_recovers_without_a_process_restart(stack):
    web_pid = stack.web.pid
    load = Load(stack, tag="pg", per_second=3.0, api_token=stack.api_token)
    load.start()
    try:
        assert wait_until(lambda: load.statuses().get(202, 0) >= 5, timeout=60)
        stack.postgres.stop()
        stopped = time.monotonic()
        time.sleep(8)
        restarting = time.monotonic()
        stack.postgres.start()
        started = time.monotonic()

        def answering_again():
            recent = [a for a in load.answers if a[0] > started]
            return any(p.endswith("alertmanager") and s == 202 for _t, p, s, _r in recent) and any(
                p == "/api/v1/incidents/" and s == 200 for _t, p, s, _r in recent)

        assert wait_until(answering_again, timeout=60), load.answers[-10:]
        back = min(t for t, p, s, _r in load.answers if t > started and s in (200, 202))
        time.sleep(3)
    finally:
        load.stop()

    # Asked and answered while PostgreSQL was down. A request asked just before the restart can reach the
    # database once it accepts connections, a moment before pg_ctl sees it ready: that 202 is right.
    during = [a for a, ended in zip(load.answers, load.ended) if stopped <= a[0] and ended < restarting]
    unavailable = [a for a in load.answers if a[2] == 503]
    assert wait_until(lambda: _stored(stack, load.accepted) == len(load.accepted), timeout=30)
    _report("PostgreSQL restarted", {
        "alerts_sent": len(load.sent), "alerts_accepted": len(load.accepted),
        "alerts_stored": _stored(stack, load.accepted),
        "webhook_answers": load.statuses("/api/v1/alerts/alertmanager"),
        "api_answers": load.statuses("/api/v1/incidents/"),
        "answers_while_down": len(during), "answers_503": len(unavailable),
        "answers_500": sum(1 for a in load.answers if a[2] >= 500 and a[2] != 503),
        "first_success_after_start_seconds": round(back - started, 2),
    })

    assert during, "nothing was asked while PostgreSQL was down; the test proves nothing"
    assert {status for _t, _p, status, _r in during} == {503}
    assert {status for t, _p, status, _r in load.answers if t >= started} <= {200, 202}, "every thread reconnected"
    assert all(retry and int(retry) > 0 for _t, _p, _s, retry in unavailable)
    assert not [a for a in load.answers if a[2] not in (200, 202, 503)]
    assert stack.web.pid == web_pid and stack.web.poll() is None
    # The worker and beat reconnect too: alerts sent after the restart become incidents.
    assert wait_until(lambda: not stack.sql("SELECT count(*) FROM alerts_alert WHERE processed_at IS NULL"),
                      timeout=60), stack.log("worker")[-3000:]
    restarted_at = datetime.now(UTC) - timedelta(seconds=time.monotonic() - started)
    assert wait_until(lambda: stack.sql("SELECT count(*) FROM escalation_heartbeat WHERE at > %s", restarted_at) == 2,
                      timeout=30), stack.log("beat")[-3000:]
