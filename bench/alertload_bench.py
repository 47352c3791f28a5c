"""The issue 21 HTTP figures with the shared load tool (not a test). Results go in bench/alertload.md.

    python3 -m venv /tmp/alertload-venv && /tmp/alertload-venv/bin/pip install aiohttp
    .venv/bin/python bench/alertload_bench.py --alertload-python /tmp/alertload-venv/bin/python [--runs 3]

The load tool (``../shared/tools/alertload.py``) needs aiohttp, which is not a
dependency of Fenghuo: it runs from its own virtualenv, named by
``--alertload-python``. Everything else reuses ``alerts_bench``: gunicorn with
the web service's arguments from docker-compose.yml, a Celery worker with the
worker service's concurrency and queues, and beat, on a database and a Redis
database of the bench's own.

One template database is prepared once (migrated, the shipped plan, one person
with an email address for each role a network incident tells, a generic
webhook channel for every role, two Alertmanager integrations: ``load-guard-on``
with the storm guard as it ships and ``load-guard-off`` with
``storm_threshold=0``). Every run gets a fresh copy of it and a fresh stack,
so no run inherits another's incidents or notification backlog. A run:

1. alertload ``-c 16 -d 20 --repeat-ratio 0.2 --severities critical=0.15,warning=0.85 --seed 7``
   with ``-n 1`` or ``-n 10`` against the integration of the mode (guard on / off);
2. alongside it, the alert-to-person probe: a new critical alert group every
   0.25 s through the same integration, timed from its POST to the first
   message about it that reaches a person on a real channel, the test SMTP
   server (aiosmtpd) or a webhook receiver, both on loopback in this process;
3. after the load ends: the time until every stored alert of the integration
   is processed and attached to an incident; alerts sent (distinct, 2xx) vs
   stored; incidents and storms opened;
4. at the end, with the stack stopped, pgbench's one-row INSERT rate (16
   clients) as the ceiling.

What the probe measures. A probe alert that opens its own incident: from its
POST to the first delivery (email or webhook) naming that incident. With the
guard on, most probe alerts arrive past the threshold and join the storm
incident, about which people were told once, when the storm opened (and again
when its level rises): for those it is the time from the POST to the first
delivery naming the storm incident made at or after the POST; a probe alert
whose storm had already been announced before its POST, and got no new
message since (by design: one storm message, not one per group), is counted as
"covered by an earlier storm message", with the time until its alert was
attached to the storm incident instead.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import threading
import time
import urllib.request
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alerts_bench import ROOT, Stack, free_port, percentile, pgbench, sh, web_arguments, worker_concurrency

ALERTLOAD = ROOT.parent / "shared" / "tools" / "alertload.py"
LOAD_ARGS = ["-c", "16", "-d", "20", "--repeat-ratio", "0.2", "--severities", "critical=0.15,warning=0.85",
             "--seed", "7"]
PROBE_INTERVAL = 0.25
# Roles a network incident tells at yellow and orange (plan/plans/credit-system.yaml): one person each, with email.
NOTIFIED_ROLES = ["maintenance_coordinator", "office", "local_maintenance_lead", "network_maintainer",
                  "maintenance_dept_head", "leadership", "business_departments"]
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"


class Deliveries:
    """What reached a person: (wall time, incident id, channel), from the webhook receiver and the SMTP sink."""

    def __init__(self):
        self.items, self.lock = [], threading.Lock()
        deliveries = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                at = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    incident = json.loads(body).get("incident")
                except ValueError:
                    incident = None
                deliveries.add(at, incident, "webhook")
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.webhook_url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"

        from aiosmtpd.controller import Controller

        class Sink:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
                at = time.time()
                text = message_from_bytes(envelope.content).get_payload(decode=True) or b""
                found = re.search(rb"/incidents/(\d+)/", text)
                deliveries.add(at, int(found.group(1)) if found else None, "email")
                return "250 OK"

        self.smtp_port = free_port()
        self.smtp = Controller(Sink(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

    def add(self, at, incident, channel):
        with self.lock:
            self.items.append((at, incident, channel))

    def clear(self):
        with self.lock:
            self.items.clear()

    def by_incident(self):
        with self.lock:
            items = list(self.items)
        found = {}
        for at, incident, channel in items:
            found.setdefault(incident, []).append((at, channel))
        return {incident: sorted(times) for incident, times in found.items()}

    def close(self):
        self.http.shutdown()
        self.smtp.stop()


class PersonProbe:
    """Posts a new critical alert group every 0.25 s through the load's integration; records each POST's time."""

    def __init__(self, base, token, tag):
        self.base, self.token, self.tag = base, token, tag
        self.posted = {}  # group key -> wall time just before the POST
        self.failed = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._post, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def _post(self):
        n = 0
        while not self.stopping.is_set():
            n += 1
            name = f"Probe{self.tag}x{n}"
            key = f"probe-{name}"
            body = {"version": "4", "groupKey": key, "status": "firing", "alerts": [{
                "status": "firing", "labels": {"alertname": name, "severity": "critical", "category": "network"},
                "annotations": {"summary": "alert-to-person probe"},
                "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "endsAt": "0001-01-01T00:00:00Z", "fingerprint": name}]}
            request = urllib.request.Request(
                f"{self.base}/api/v1/alerts/alertmanager", data=json.dumps(body).encode(), method="POST",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            started = time.time()
            try:
                urllib.request.urlopen(request, timeout=10).read()
                self.posted[key] = started
            except OSError:
                self.failed += 1
            time.sleep(max(0.0, PROBE_INTERVAL - (time.time() - started)))


def prepare_template(template, redis_url, prefix, deliveries):
    """The template database every run copies: plan, people with email, a webhook channel, two integrations."""
    stack = Stack(template, redis_url, prefix)
    stack.prepare()
    tokens = stack.manage("shell", "-c", "\n".join([
        "import json",
        "from people.models import Person, RoleAssignment",
        "from notifications.models import ChannelConfig",
        "from alerts.integrations import integration_create",
        f"for role in {NOTIFIED_ROLES!r}:",
        "    p = Person.objects.create_user(username=f'person-{role}', password='x', email=f'{role}@bench.invalid')",
        "    RoleAssignment.objects.create(person=p, role_key=role)",
        f"ChannelConfig.objects.create(name='bench webhook', kind='webhook', url={deliveries.webhook_url!r}, "
        f"secret={WEBHOOK_SECRET!r})",
        "tokens = {}",
        "for mode, storm in (('on', None), ('off', {'storm_threshold': 0})):",
        "    _i, tokens[mode] = integration_create(name=f'load-guard-{mode}', kind='alertmanager', "
        "default_category='network', default_level='yellow', rate_limit_per_minute=10_000_000, storm=storm)",
        "print('TOKENS ' + json.dumps(tokens))",
    ]))
    return json.loads(re.search(r"TOKENS (\{.*\})", tokens).group(1))


def clone(template, db):
    for query in (f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db} TEMPLATE {template}"):
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", query)


ALERTLOAD_PATH = ALERTLOAD


def alertload(python, url, token, per_request, tag):
    command = [python, str(ALERTLOAD_PATH), url, "-H", f"Authorization: Bearer {token}", *LOAD_ARGS,
               "-n", str(per_request), "--run-id", tag]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1]), " ".join(command[:3] + ["-H", "'Authorization: Bearer …'"]
                                                              + command[5:])


def stack_cpu(stack):
    """CPU seconds used so far by the stack's processes: web (gunicorn), worker, beat and PostgreSQL backends."""
    groups = {role: [str(process.pid), *sh("pgrep", "-s", str(process.pid)).split()]
              for role, process in zip(("web", "worker", "beat"), stack.processes, strict=True)}
    # The PostgreSQL backends serving this database (persistent connections: the same ones all along).
    groups["postgres"] = stack.sql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{stack.db}' "
                                   "AND pid <> pg_backend_pid()").split()
    return {role: sum(map(cpu_seconds, pids)) for role, pids in groups.items()}


def cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def profile_web_workers(stack, py_spy, prefix):
    """``py-spy record`` of each gunicorn worker for 15 s of the load, as collapsed stacks (``prefix``-PID.txt)."""
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    master = stack.processes[0].pid
    workers = sh("pgrep", "-P", str(master)).split()
    return [subprocess.Popen([py_spy, "record", "-p", pid, "-d", "15", "-r", "200", "--format", "raw", "-o",
                              f"{prefix}-{pid}.txt", "--nonblocking"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for pid in workers]


def wait_attached(stack, integration, timeout=120):
    """Seconds until every alert of ``integration`` is processed and on an incident (None after ``timeout``)."""
    started = time.monotonic()
    query = (f"SELECT count(*) FROM alerts_alert a JOIN alerts_integration i ON i.id = a.integration_id "
             f"WHERE i.name = '{integration}' AND (a.processed_at IS NULL OR a.incident_id IS NULL)")
    while time.monotonic() - started < timeout:
        if stack.sql(query) == "0":
            return round(time.monotonic() - started, 2)
        time.sleep(0.1)
    return None


def summary(values):
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_s": round(statistics.median(values), 3),
            "p99_s": round(percentile(values, 99), 3), "max_s": round(max(values), 3)}


def probe_figures(stack, probe, deliveries, integration):
    """POST → first message to a person, per probe alert (the module docstring says what counts)."""
    rows = stack.sql(
        "SELECT a.group_key, a.incident_id, extract(epoch FROM a.processed_at), "
        "EXISTS (SELECT 1 FROM alerts_alertstorm s WHERE s.incident_id = a.incident_id) "
        f"FROM alerts_alert a JOIN alerts_integration i ON i.id = a.integration_id WHERE i.name = '{integration}' "
        "AND a.group_key LIKE 'probe-%'").splitlines()
    received = deliveries.by_incident()
    own, storm_told, covered, covered_attached, missing = [], [], [], [], 0
    first_email, first_webhook = [], []
    for row in rows:
        key, incident, processed, stormed = row.split("|")
        if key not in probe.posted or not incident:
            continue
        posted = probe.posted[key]
        times = [(at, channel) for at, channel in received.get(int(incident), []) if at >= posted]
        if stormed == "t" and not times:
            covered.append(key)
            covered_attached.append(float(processed) - posted)
            continue
        if not times:
            missing += 1
            continue
        (own if stormed == "f" else storm_told).append(times[0][0] - posted)
        for channel, sink in (("email", first_email), ("webhook", first_webhook)):
            first = next((at for at, c in times if c == channel), None)
            if first is not None:
                sink.append(first - posted)
    return {
        "posted": len(probe.posted), "post_failures": probe.failed,
        "first_message_all": summary(own + storm_told),
        "own_incident": summary(own), "storm_incident_new_message": summary(storm_told),
        "covered_by_earlier_storm_message": len(covered),
        "covered_post_to_attached_to_storm": summary(covered_attached),
        "no_message_within_wait": missing,
        "first_email": summary(first_email), "first_webhook": summary(first_webhook),
    }


def one_run(args, template, tokens, deliveries, *, mode, per_request, n):
    db = f"{args.db}_run"
    clone(template, db)
    stack = Stack(db, args.redis, args.prefix)
    stack.env.update({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(deliveries.smtp_port),
                      "SITE_URL": "http://fenghuo.bench.invalid"})
    sh("redis-cli", "-u", args.redis, "flushdb")
    deliveries.clear()
    integration = f"load-guard-{mode}"
    tag = f"{mode}{per_request}r{n}t{int(time.time())}"
    result = {"mode": f"guard {mode}", "alerts_per_request": per_request, "run": n,
              "load_before": os.getloadavg()}
    try:
        stack.start()
        probe = PersonProbe(stack.base, tokens[mode], tag) if not args.no_probe else None
        if probe:
            probe.start()
        cpu_before = stack_cpu(stack)
        spies = profile_web_workers(stack, args.py_spy, f"{args.profile_dir}/{tag}") if args.profile_dir else []
        load, command = alertload(args.alertload_python, f"{stack.base}/api/v1/alerts/alertmanager",
                                  tokens[mode], per_request, tag)
        result["load_at_end"] = os.getloadavg()
        cpu_after = stack_cpu(stack)
        # Backends that came and went during the load are missed: a lower bound for postgres.
        result["cpu_s_during_load"] = {role: round(cpu_after[role] - cpu_before.get(role, 0), 2) for role in cpu_after}
        for spy in spies:
            spy.wait()
        if probe:
            probe.stop()
        attached = wait_attached(stack, integration)
        # Messages for the last probe incidents may still be on their way: wait for them, up to 30 s.
        if probe:
            deadline = time.time() + 30
            while time.time() < deadline:
                figures = probe_figures(stack, probe, deliveries, integration)
                if figures["no_message_within_wait"] == 0:
                    break
                time.sleep(1)
        counts = stack.sql(
            "SELECT count(*) FILTER (WHERE a.group_key NOT LIKE 'probe-%'), count(DISTINCT a.incident_id), "
            "(SELECT count(*) FROM alerts_alertstorm), "
            "(SELECT count(*) FROM alerts_alertgroup g WHERE g.incident_id IS NOT NULL), "
            "(SELECT count(*) FROM notifications_delivery) "
            f"FROM alerts_alert a JOIN alerts_integration i ON i.id = a.integration_id WHERE i.name = '{integration}'"
        ).split("|")
        stored, incidents, storms, groups, delivery_rows = map(int, counts)
        result.update({
            "command": command,
            "accepted_requests_per_s": load["ok_rps"], "alerts_per_s": load["alerts_per_s"],
            "p50_ms": load["latency_ms"]["p50"], "p99_ms": load["latency_ms"]["p99"],
            "max_ms": load["latency_ms"]["max"], "status_codes": load["status_codes"], "errors": load["errors"],
            "requests": load["requests"], "new_groups": load["new_groups"],
            "alerts_sent": load["alerts_sent"], "alerts_2xx": load["alerts_2xx"],
            "distinct_alerts_2xx": load["distinct_alerts_2xx"], "alerts_stored": stored,
            "lost": load["distinct_alerts_2xx"] - stored,
            "incidents_with_alerts": incidents, "storms": storms, "groups_attached": groups,
            "delivery_rows": delivery_rows,
            "seconds_after_load_until_all_attached": attached,
            "alertload_cpu_pct_of_one_core": load["gen_cpu_pct_of_one_core"],
        })
        if probe:
            result["alert_to_person"] = probe_figures(stack, probe, deliveries, integration)
    finally:
        stack.stop()
    print(json.dumps(result), flush=True)
    return result, stack


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alertload-python", required=True,
                        help="a Python with aiohttp, e.g. /tmp/alertload-venv/bin/python (see above)")
    parser.add_argument("--alertload", default=str(ALERTLOAD), help=f"the load tool (default {ALERTLOAD})")
    parser.add_argument("--db", default="fenghuo_alertload_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--prefix", default="fenghuo-alertload-bench")
    parser.add_argument("--runs", type=int, default=3, help="runs of each configuration (default 3)")
    parser.add_argument("--per-request", type=int, action="append", help="alerts per request (default: 1 and 10)")
    parser.add_argument("--modes", default="on,off", help="storm guard modes to run (default on,off)")
    parser.add_argument("--profile-dir", help="py-spy record every gunicorn worker during each load into this folder")
    parser.add_argument("--py-spy", default="py-spy", help="the py-spy executable (pip install py-spy)")
    parser.add_argument("--no-probe", action="store_true", help="no alert-to-person probe")
    args = parser.parse_args()
    global ALERTLOAD_PATH
    ALERTLOAD_PATH = args.alertload

    deliveries = Deliveries()
    template = f"{args.db}_tmpl"
    tokens = prepare_template(template, args.redis, args.prefix, deliveries)
    print(json.dumps({"gunicorn": web_arguments("127.0.0.1:PORT"), "celery_worker_concurrency": worker_concurrency(),
                      "alertload": LOAD_ARGS, "probe_interval_s": PROBE_INTERVAL, "cpus": os.cpu_count()}),
          flush=True)
    results, stack = [], None
    try:
        for per_request in args.per_request or [1, 10]:
            for n in range(1, args.runs + 1):
                for mode in args.modes.split(","):
                    result, stack = one_run(args, template, tokens, deliveries, mode=mode,
                                            per_request=per_request, n=n)
                    results.append(result)
        tps, pg_cmd = pgbench(stack)
        results.append({"pgbench": {"command": pg_cmd, "inserts_per_s": round(tps), "load": os.getloadavg()}})
        print(json.dumps(results[-1]), flush=True)
    finally:
        deliveries.close()
    print("REPORT " + json.dumps(results))


if __name__ == "__main__":
    main()
