"""Notifications benchmark: fan-out to a 50-person role, and delivery throughput to a local webhook.

Not a test. Two figures:

1. Fan-out: from the triggering event (an incident logged through
   ``incidents.services.log_fault``) to the commit of the last notification row
   (and its outbox deliveries) for a 50-person role. p50/p95 over ``--runs``.
2. Throughput: ``--deliveries`` webhook deliveries drained by
   ``notifications.delivery.deliver_due`` (the task body: claim a batch, send
   it at once on kept-alive connections, record it in a few statements) in 1
   and 2 processes against a keep-alive ThreadingHTTPServer on loopback that
   checks every HMAC signature. ``--statements`` adds a 1-process run that
   counts the SQL statements per delivery.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_notif \\
    .venv/bin/python bench/notifications_bench.py --runs 30 --deliveries 1000

It creates (and drops) its own database ``<DATABASE NAME>_bench``; it sends
nothing to the broker.
"""

import argparse
import hashlib
import hmac
import multiprocessing
import os
import secrets
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The settings refuse to start with DEBUG off and no strong key; a benchmark run gets its own.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
SECRET = "bench-webhook-secret-0123456789"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def setup_database():
    from django.conf import settings
    from django.db import connection

    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return connection


def quiet_settings():
    from django.conf import settings

    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    settings.ESCALATION_ETA_TASKS = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def seed(role_size):
    from people.models import Person, RoleAssignment
    from plan.services import load_plan_text
    from plan.tests.documents import as_yaml, minimal_plan

    load_plan_text(as_yaml(minimal_plan()), source="bench")
    people = Person.objects.bulk_create([
        Person(username=f"bench-{i}", email=f"bench-{i}@example.test", phone=f"1380000{i:04d}")
        for i in range(role_size)
    ])
    RoleAssignment.objects.bulk_create([RoleAssignment(person=p, role_key="tech_group") for p in people])


def fan_out(runs, role_size):
    from incidents.services import log_fault
    from notifications.models import Delivery, Notification

    timings = []
    for n in range(runs):
        started = time.perf_counter()
        incident = log_fault(reporter=None, category="system", level="yellow", title=f"bench {n}")
        elapsed = time.perf_counter() - started
        told = Notification.objects.filter(incident=incident, person__isnull=False).count()
        assert told == role_size, told
        assert Delivery.objects.filter(notification__incident=incident).count() >= role_size
        timings.append(elapsed)
    return timings


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = set()
    bad = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers["X-Fenghuo-Timestamp"]
        mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if self.headers["X-Fenghuo-Signature"] != f"sha256={mac}":
            Hook.bad += 1
        Hook.seen.add(self.headers["X-Fenghuo-Delivery"])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def make_deliveries(count, url):
    from django.db import transaction

    from incidents.services import log_fault
    from notifications.models import ChannelConfig, Delivery, Notification

    channel = ChannelConfig.objects.create(name="bench", kind="webhook", url=url, secret=SECRET,
                                           role_key="nobody-holds-this")
    incident = log_fault(reporter=None, category="network", level="blue", title="throughput")
    notification = Notification.objects.filter(incident=incident).first()
    batch = f"{time.time_ns()}"
    with transaction.atomic():
        Delivery.objects.bulk_create([
            Delivery(notification=notification, kind="webhook", channel=channel,
                     idempotency_key=f"bench:{batch}:{i}") for i in range(count)
        ])


def drain(_worker):
    import django
    from django.db import connections

    django.setup()
    connections.close_all()
    quiet_settings()
    from notifications.delivery import deliver_due

    cpu = time.process_time()
    sent = deliver_due(limit=50, rounds=100000)
    return sent, time.process_time() - cpu


def statements_per_delivery(count, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.delivery import deliver_due
    from notifications.models import Delivery, DeliveryStatus

    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(status=DeliveryStatus.CANCELLED)
    make_deliveries(count, url)
    Delivery.objects.filter(status=DeliveryStatus.PENDING).exclude(kind="webhook").update(
        status=DeliveryStatus.CANCELLED)
    with CaptureQueriesContext(connection) as queries:
        sent = deliver_due(limit=50, rounds=100000)
    return sent, len(queries.captured_queries)


def throughput(count, processes, url):
    from django.db import connections

    from notifications.models import Delivery, DeliveryStatus

    # Only the webhook rows count: the fan-out runs left their people's emails pending.
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(status=DeliveryStatus.CANCELLED)
    make_deliveries(count, url)
    Hook.seen.clear()
    connections.close_all()
    started = time.perf_counter()
    if processes == 1:
        # In this process, whose CPU time also counts the receiver's threads: no CPU figure.
        sent, cpu = drain(0)[0], None
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            drained = pool.map(drain, range(processes))
        sent, cpu = sum(n for n, _cpu in drained), sum(c for _n, c in drained)
    elapsed = time.perf_counter() - started
    left = Delivery.objects.exclude(status=DeliveryStatus.SENT).filter(kind="webhook").count()
    return sent, elapsed, left, len(Hook.seen), cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--role-size", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--statements", action="store_true", help="also count SQL statements per delivery")
    args = parser.parse_args()

    import django

    django.setup()
    quiet_settings()
    connection = setup_database()
    try:
        seed(args.role_size)
        timings = fan_out(args.runs, args.role_size)
        ms = [t * 1000 for t in timings]
        print(f"fan-out to a {args.role_size}-person role, {args.runs} runs: "
              f"p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        for processes in (1, 2):
            sent, elapsed, left, unique, cpu = throughput(args.deliveries, processes, url)
            # The workers' own CPU per delivery (all their threads) moves much less with the load than the rate.
            cpu_text = f"; worker CPU {cpu * 1000 / sent:.2f} ms/delivery" if cpu is not None else ""
            print(f"webhook delivery, {processes} process(es): {sent} sent in {elapsed:.2f} s = "
                  f"{sent / elapsed:.0f}/s; unique ids at receiver {unique}; not sent {left}; bad signatures {Hook.bad}"
                  f"{cpu_text}; load average {os.getloadavg()[0]:.2f}")
        if args.statements:
            sent, statements = statements_per_delivery(args.deliveries, url)
            print(f"SQL statements, 1 process: {statements} for {sent} deliveries = {statements / sent:.2f} each")
        server.shutdown()
    finally:
        from django.db import connections

        connections.close_all()
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
