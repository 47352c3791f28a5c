"""Benchmark of the monitoring webhooks (not a test). Results go in bench/README.md.

    .venv/bin/python bench/alerts_bench.py [--db fenghuo_alerts_bench] [--redis redis://127.0.0.1:6379/10]

It (re)creates its own PostgreSQL database, migrates it, loads the shipped plan,
starts gunicorn with the web service's arguments from docker-compose.yml (and
CONN_MAX_AGE=60, its default), a Celery worker and beat, then with wrk:

(a) alert storm: 10,000 Alertmanager alerts, 10 per request, 16 connections,
    while a probe posts a fresh alert group every 0.25 s and times how long its
    incident takes to appear in GET /api/v1/incidents/ (falls back to the
    database when that endpoint is absent);
(b) single events: one PagerDuty-style event per request, 16 connections, 30 s;
(c) pgbench: raw one-row INSERTs with 16 clients, the ceiling to compare with.

Stored rows are counted afterwards and must equal the accepted alerts.
"""

import argparse
import json
import os
import secrets
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The settings refuse to start with DEBUG off and no strong key; a benchmark run gets its own.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
BIN = Path(sys.executable).parent
STORM_ALERTS, PER_REQUEST, CONNECTIONS, THREADS = 10_000, 10, 16, 2


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


class Stack:
    def __init__(self, db, redis_url, prefix):
        self.db, self.prefix = db, prefix
        self.env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
                    "CELERY_BROKER_URL": redis_url, "FENGHUO_QUEUE_PREFIX": prefix, "CONN_MAX_AGE": "60",
                    "DEBUG": "false", "LOG_LEVEL": "WARNING", "FENGHUO_VAR_DIR": tempfile.mkdtemp(prefix="fh-bench-")}
        self.processes = []

    def manage(self, *args):
        return sh(str(BIN / "python"), "manage.py", *args, cwd=ROOT, env=self.env)

    def prepare(self):
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {self.db}")
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {self.db}")
        sh("redis-cli", "-u", self.env["CELERY_BROKER_URL"], "flushdb")
        self.manage("migrate", "--noinput")
        self.manage("loadplan", "plan/plans/credit-system.yaml")
        self.manage("shell", "-c", "\n".join([
            "from people.models import Person, RoleAssignment",
            "for role in ['duty_staff', 'office', 'tech_group', 'ops_supervisor', 'network_maintainer', "
            "'leadership', 'system_technicians']:",
            "    p = Person.objects.create_user(username=f'bench-{role}', password='x')",
            "    RoleAssignment.objects.create(person=p, role_key=role)",
        ]))
        self.am_token = self.manage("createintegration", "bench-am", "--kind", "alertmanager", "--category",
                                    "network", "--level", "yellow", "--rate", "10000000").strip().splitlines()[-1]
        self.ev_token = self.manage("createintegration", "bench-events", "--kind", "events",
                                    "--rate", "10000000").strip().splitlines()[-1]
        self.api_token = self.manage("issuetoken", "bench-office").strip().splitlines()[-1]

    def start(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        queues = ",".join(f"{self.prefix}.{q}" for q in ("escalation", "notifications", "intake"))
        for command in (
            [BIN / "gunicorn", *web_arguments(f"127.0.0.1:{self.port}")],
            [BIN / "celery", "-A", "config", "worker", "-Q", queues, "--concurrency", worker_concurrency(),
             "--loglevel", "WARNING"],
            [BIN / "celery", "-A", "config", "beat", "--loglevel", "WARNING", "-s",
             str(Path(self.env["FENGHUO_VAR_DIR"]) / "beat-schedule")],
        ):
            self.processes.append(subprocess.Popen([str(c) for c in command], cwd=ROOT, env=self.env,
                                                   start_new_session=True, stdout=subprocess.DEVNULL,
                                                   stderr=open(Path(self.env["FENGHUO_VAR_DIR"]) / "log", "a")))
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=5)
                break
            except OSError:  # refused while booting, or a timeout while workers import Django
                time.sleep(0.2)
        time.sleep(3)  # let the worker connect

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def sql(self, query):
        return sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", self.db, "-Atqc", query).strip()

    def wait_processed(self, timeout=300):
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.sql("SELECT count(*) FROM alerts_alert WHERE processed_at IS NULL") == "0":
                return time.monotonic() - started
            time.sleep(0.5)
        return None


def web_arguments(bind):
    """The web service's gunicorn arguments exactly as docker-compose.yml gives them, bound to ``bind``."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
    arguments = command[1:]
    arguments[arguments.index("--bind") + 1] = bind
    return arguments


def worker_concurrency():
    """The worker service's ``--concurrency`` in docker-compose.yml."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]["command"]
    return command[command.index("--concurrency") + 1]


def wrk(stack, script, token, duration, extra_env, threads=THREADS, finished=None):
    """Runs wrk; ``finished()`` true (polled every 0.2 s) ends it early with SIGINT.

    wrk always runs for its full ``-d`` even when every thread has sent its quota;
    SIGINT makes it stop and print its summary at once.
    """
    env = {**os.environ, "ALERTS_TOKEN": token, **extra_env}
    command = ["wrk", "-t", str(threads), "-c", str(CONNECTIONS), "-d", duration, "--timeout", "10s", "-s",
               str(ROOT / "bench" / script), stack.base]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    while finished is not None and process.poll() is None:
        time.sleep(0.2)
        if finished():
            time.sleep(0.5)  # the last answers are on their way back to wrk
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, out, err)
    return json.loads(re.search(r"RESULT (\{.*\})", out).group(1)), " ".join(command)


class VisibilityProbe:
    """Posts a new alert group every 0.25 s and times until its incident is listed by the API.

    Posting and watching are separate threads, so a slow incident does not delay
    the next post: the samples cover the whole storm evenly. The probe's alerts
    are critical (orange incidents, the larger response), and the watcher lists
    open orange incidents, newest first, every 50 ms.
    """

    def __init__(self, stack):
        self.stack, self.via = stack, "api"
        self.posted = {}  # name -> (monotonic, wall clock) of the 202
        self.seen = {}  # name -> seconds from the POST to the incident being listed
        self.stopping, self.lock = threading.Event(), threading.Lock()
        self.threads = [threading.Thread(target=self._post, daemon=True),
                        threading.Thread(target=self._watch, daemon=True)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def samples(self, *, posted_between=None):
        low, high = posted_between or (float("-inf"), float("inf"))
        return [self.seen[name] for name, (_mono, wall) in self.posted.items()
                if name in self.seen and low <= wall <= high]

    def unseen(self):
        return len(self.posted) - len(self.seen)

    def _open_incident_titles(self):
        if self.via == "api":
            request = urllib.request.Request(f"{self.stack.base}/api/v1/incidents/?open=true&level=orange",
                                             headers={"Authorization": f"Token {self.stack.api_token}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    data = json.load(response)
                items = data["results"] if isinstance(data, dict) else data
                return [item["title"] for item in items]
            except urllib.error.HTTPError as error:
                if error.code != 404:
                    raise
                self.via = "database (GET /api/v1/incidents/ not available)"
        return self.stack.sql("SELECT title FROM incidents_incident ORDER BY id DESC LIMIT 50").splitlines()

    def _post(self):
        n = 0
        while not self.stopping.is_set():
            n += 1
            name = f"Probe{n}x{os.getpid()}"
            body = {"version": "4", "groupKey": f"probe-{name}", "status": "firing", "alerts": [{
                "status": "firing", "labels": {"alertname": name, "severity": "critical"},
                "annotations": {"summary": "visibility probe"}, "startsAt": "2024-05-01T08:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z", "fingerprint": name}]}
            request = urllib.request.Request(
                f"{self.stack.base}/api/v1/alerts/alertmanager", data=json.dumps(body).encode(), method="POST",
                headers={"Authorization": f"Bearer {self.stack.am_token}", "Content-Type": "application/json"})
            started, started_at = time.monotonic(), time.time()
            urllib.request.urlopen(request, timeout=10).read()
            with self.lock:
                self.posted[name] = (started, started_at)
            time.sleep(max(0.0, 0.25 - (time.monotonic() - started)))

    def _watch(self):
        while True:
            with self.lock:
                waiting = {name: at for name, (at, _wall) in self.posted.items() if name not in self.seen}
            if self.stopping.is_set() and (not waiting or all(time.monotonic() - at > 30 for at in waiting.values())):
                return
            if waiting:
                titles = self._open_incident_titles()
                now = time.monotonic()
                for name, at in waiting.items():
                    if any(title.startswith(name) for title in titles):
                        self.seen[name] = now - at
            time.sleep(0.05)


def pgbench(stack):
    stack.sql("CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, v text)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("INSERT INTO bench_insert (v) VALUES ('x');\n")
    command = ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-c", "16", "-j", "2", "-T", "10", "-f",
               script.name, stack.db]
    out = sh(*command)
    return float(re.search(r"tps = ([\d.]+)", out).group(1)), " ".join(command)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="fenghuo_alerts_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--prefix", default="fenghuo-alerts-bench")
    parser.add_argument("--events-seconds", type=int, default=30)
    args = parser.parse_args()

    stack = Stack(args.db, args.redis, args.prefix)
    stack.prepare()
    report = {}
    try:
        stack.start()
        # (a) the storm, with the visibility probe running alongside
        probe = VisibilityProbe(stack)
        probe.start()
        storm, storm_cmd = wrk(stack, "alerts_storm.lua", stack.am_token, "120s", {
            "STORM_REQUESTS": str(STORM_ALERTS // PER_REQUEST), "STORM_THREADS": str(CONNECTIONS),
            "ALERTS_PER_REQUEST": str(PER_REQUEST)}, threads=CONNECTIONS,
            finished=lambda: int(stack.sql("SELECT count(*) FROM alerts_alert "
                                           "WHERE group_key LIKE '%storm-%'")) >= STORM_ALERTS)
        drained = stack.wait_processed()
        probe.stop()
        storm_stored = int(stack.sql("SELECT count(*) FROM alerts_alert a JOIN alerts_integration i "
                                     "ON i.id = a.integration_id WHERE i.name = 'bench-am' "
                                     "AND a.group_key LIKE '%storm-%'"))
        lag = [float(v) for v in stack.sql(
            "SELECT extract(epoch FROM i.opened_at - min(a.received_at)) FROM alerts_alert a "
            "JOIN incidents_incident i ON i.id = a.incident_id WHERE a.group_key LIKE '%storm-%' "
            "GROUP BY i.id").splitlines()]
        # wrk keeps running until its -d even after every thread has sent its quota, so
        # the rate is taken from the server's own first and last receipt times.
        first, last = map(float, stack.sql(
            "SELECT extract(epoch FROM min(received_at)), extract(epoch FROM max(received_at)) "
            "FROM alerts_alert WHERE group_key LIKE '%storm-%'").split("|"))
        seconds = (last - first) or storm["duration_us"] / 1e6
        # The probe runs on until the backlog is drained; what the office waits for during the storm
        # is the samples posted while storm alerts were arriving.
        during, everything = probe.samples(posted_between=(first, last)), probe.samples()
        report["storm"] = {
            "command": storm_cmd, "accepted_alerts": storm["accepted_requests"] * PER_REQUEST,
            "alerts_per_s": round(storm["accepted_requests"] * PER_REQUEST / seconds),
            "requests_per_s": round(storm["accepted_requests"] / seconds),
            "p50_ms": storm["p50_us"] / 1000, "p99_ms": storm["p99_us"] / 1000,
            "errors": storm["rejected_requests"] + storm["socket_errors"], "stored_alerts": storm_stored,
            "seconds_until_all_processed_after_storm": drained,
            "probe_visibility_via": probe.via, "probe_never_listed": probe.unseen(),
            "probe_samples": len(everything),
            "probe_visibility_p50_s": round(statistics.median(everything), 3),
            "probe_visibility_p99_s": round(percentile(everything, 99), 3),
            "probe_during_storm_samples": len(during),
            "probe_during_storm_p50_s": round(statistics.median(during), 3) if during else None,
            "probe_during_storm_p99_s": round(percentile(during, 99), 3) if during else None,
            "probe_during_storm_max_s": round(max(during), 3) if during else None,
            "storm_groups_first_alert_to_incident_p50_s": round(statistics.median(lag), 3) if lag else None,
            "storm_groups_first_alert_to_incident_p99_s": round(percentile(lag, 99), 3) if lag else None,
        }
        print(json.dumps(report["storm"], indent=2), flush=True)

        # (b) single events
        events, events_cmd = wrk(stack, "alerts_events.lua", stack.ev_token, f"{args.events_seconds}s", {})
        stack.wait_processed()
        events_stored = int(stack.sql("SELECT count(*) FROM alerts_alert a JOIN alerts_integration i "
                                      "ON i.id = a.integration_id WHERE i.name = 'bench-events'"))
        seconds = events["duration_us"] / 1e6
        report["events"] = {
            "command": events_cmd, "accepted": events["accepted_requests"],
            "events_per_s": round(events["accepted_requests"] / seconds),
            "p50_ms": events["p50_us"] / 1000, "p99_ms": events["p99_us"] / 1000,
            "errors": events["rejected_requests"] + events["socket_errors"], "stored": events_stored,
        }
        print(json.dumps(report["events"], indent=2), flush=True)
    finally:
        stack.stop()

    # (c) the ceiling: raw one-row INSERTs, nothing else running
    tps, pg_cmd = pgbench(stack)
    report["pgbench"] = {"command": pg_cmd, "inserts_per_s": round(tps),
                         "storm_alerts_per_s_over_pgbench": round(report["storm"]["alerts_per_s"] / tps, 3),
                         "storm_requests_per_s_over_pgbench": round(report["storm"]["requests_per_s"] / tps, 3),
                         "events_per_s_over_pgbench": round(report["events"]["events_per_s"] / tps, 3)}
    print(json.dumps(report["pgbench"], indent=2), flush=True)
    print("REPORT " + json.dumps(report))


if __name__ == "__main__":
    main()
