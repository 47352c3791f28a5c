"""Real Celery and gunicorn processes for the integration tests and the benchmark.

``celery -A config worker``, ``celery -A config beat`` and gunicorn run as
subprocesses against the database and broker the caller names (PostgreSQL and
a Redis DB, or the embedded SQLite file and filesystem broker), exactly as
operators run them; each in its own process group so a SIGKILL takes the
prefork children too.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url(settings_dict):
    """DATABASE_URL for the database Django is connected to now (the test database under pytest)."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env, *, workers=2, threads=4, timeout=60):
    """gunicorn (gthread, as deploy/ runs it) serving config.wsgi with env; yields (process, base URL)."""
    port = free_port()
    # A file, not a pipe: nobody reads a pipe while the server runs, and once the logs of an outage fill it
    # (64 KiB) every thread that logs blocks, which looked like requests hanging.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads)],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except OSError:  # refused while booting, or a timeout while workers import Django
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn did not start: {log.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


class FolderBroker:
    """kombu's filesystem broker (the embedded default) with the two Redis calls the tests make of a broker.

    Only the messages of queues named with ``prefix`` count: a folder may hold another deployment's queues.
    """

    def __init__(self, folder, prefix):
        self.folder = Path(folder)
        self.prefix = prefix

    def _messages(self):
        # kombu names each message <time>_<uuid>.<queue>.msg
        return list(self.folder.glob(f"*.{self.prefix}.*.msg"))

    def dbsize(self):
        return len(self._messages())

    def flushdb(self):
        for message in self._messages():
            message.unlink(missing_ok=True)


def own_broker(settings):
    """The broker these tests may empty: this run's own Redis database, or the filesystem broker's folder.

    Anything else (a shared broker) would lose another run's work, so the test is skipped.
    """
    import pytest
    import redis

    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        # FENGHUO_VAR_DIR is the test run's own folder (scripts/test.sh), shared with the processes it starts.
        return FolderBroker(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"], settings.FENGHUO_QUEUE_PREFIX)
    if not url.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://.../<your db> or filesystem://")
    client = redis.Redis.from_url(url)
    assert client.connection_pool.connection_kwargs.get("db", 0) not in (13, 14, 15), "Redis 13-15 belong to others"
    return client


class CeleryProcesses:
    """Start, kill and restart workers and beat; ``stop_all`` in every teardown."""

    def __init__(self, *, workdir, env):
        self.workdir = Path(workdir)
        self.env = {**os.environ, **env}
        self.processes = {}

    def _start(self, name, args):
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process in stop()
        proc = subprocess.Popen([CELERY, "-A", "config", *args], cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = (proc, log)
        return proc

    def start_worker(self, name="w1", concurrency=1, queues=None, wait=True):
        args = ["worker", "-n", f"{name}@%h", "-c", str(concurrency), "-l", "info",
                "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if queues:
            args += ["-Q", ",".join(queues)]
        proc = self._start(name, args)
        if wait:
            self.wait_for_log(name, b" ready.")
        return proc

    def start_beat(self, name="beat"):
        # Each beat keeps its own schedule file and pid file, as on its own host.
        return self._start(name, ["beat", "-l", "info", "--schedule", str(self.workdir / f"{name}-schedule"),
                                  "--pidfile", str(self.workdir / f"{name}.pid")])

    def log_text(self, name):
        return (self.workdir / f"{name}.log").read_bytes()

    def wait_for_log(self, name, marker, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.log_text(name):
                return
            proc, _log = self.processes[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_text(name).decode()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{name} never logged {marker!r}:\n{self.log_text(name).decode()[-3000:]}")

    def kill(self, name, sig=signal.SIGKILL):
        proc, log = self.processes.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        log.close()

    def stop_all(self):
        # SIGKILL: nothing here may depend on a clean shutdown, and PostgreSQL rolls back
        # and drops the connections of a killed process at once.
        for name in list(self.processes):
            self.kill(name)


def wait_until(predicate, timeout=30, interval=0.1):
    """Poll ``predicate`` until it is true; the timeout only bounds a broken run, it asserts no speed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


DUTY_ROLES = ("tech_group", "ops_supervisor", "system_technicians", "office", "leadership")


def make_incidents_with_deadlines(*, version, due_times, category="equipment", level="blue", schedule_eta=True):
    """Open incidents and give them on-site deadlines due at ``due_times`` (up to five per incident).

    Rows are written in bulk (the benchmark needs thousands); each deadline is
    what ``start_level_response`` would write, and, like it, asks for an ETA
    nudge for the ones due within the horizon once the transaction commits.
    """
    from django.db import transaction
    from django.utils import timezone

    from escalation import services as engine
    from escalation.models import Deadline, Kind
    from incidents.models import Incident
    from plan.models import Category, Level

    category_obj = Category.objects.get(version=version, key=category)
    level_obj = Level.objects.get(version=version, key=level)
    now = timezone.now()
    per = len(DUTY_ROLES)
    with transaction.atomic():
        incidents = Incident.objects.bulk_create([
            Incident(title=f"bench {i}", plan_version=version, category=category_obj, level=level_obj,
                     discovered_at=now, opened_at=now, level_since=now)
            for i in range((len(due_times) + per - 1) // per)
        ], batch_size=1000)
        deadlines = Deadline.objects.bulk_create([
            Deadline(incident=incidents[i // per], kind=Kind.ON_SITE, level_key=level, role_key=DUTY_ROLES[i % per],
                     started_at=min(now, due), due_at=due)
            for i, due in enumerate(due_times)
        ], batch_size=2000)
        if schedule_eta:
            engine.schedule_precise_firing(deadlines)
    return deadlines


def acted_exactly_once(deadline_ids):
    """Every deadline left pending state, and each effect exists once: the proof the tests assert."""
    from escalation.models import Deadline, State
    from incidents.models import TimelineEntry

    rows = list(Deadline.objects.filter(pk__in=deadline_ids))
    assert len(rows) == len(deadline_ids)
    pending = [d.pk for d in rows if d.state == State.PENDING]
    assert not pending, f"never acted on: {pending}"
    effects = TimelineEntry.objects.filter(deadline_id__in=deadline_ids)
    acted_with_effect = [d for d in rows if d.state in (State.MISSED, State.FIRED, State.CONDITION_NOT_MET)]
    assert effects.count() == len(acted_with_effect)
    for deadline in rows:
        assert deadline.acted_at is not None and deadline.acted_at >= deadline.due_at
    return rows
