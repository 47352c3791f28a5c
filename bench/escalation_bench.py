"""Escalation engine benchmark: lateness and throughput with real Celery workers and beat.

Not a test. 10,000 pending deadlines, of which 1,000 come due within the same
minute ("spread") and, separately, 1,000 at the same instant ("burst"); the
rest are hours away. Lateness is acted_at - due_at as the engine records it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_esc \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/8 FENGHUO_QUEUE_PREFIX=fenghuo-esc-bench \\
    .venv/bin/python bench/escalation_bench.py --workers 1 2

The worker docker-compose.yml ships (one worker, -c 4, all three queues):

    ... bench/escalation_bench.py --workers 1 --concurrency 4 --all-queues

It creates (and drops) its own database ``<DATABASE NAME>_bench`` and FLUSHes
the Redis database of CELERY_BROKER_URL: give it one nobody else uses.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The settings refuse to start with DEBUG off and no strong key; a benchmark run gets its own.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def setup_database(migrate):
    from django.conf import settings
    from django.db import connection

    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name, "MIGRATE": migrate})
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return connection


def seed(far_count):
    from django.utils import timezone

    from plan.tests.documents import SHIPPED_PLAN
    from tests.support.processes import DUTY_ROLES, make_incidents_with_deadlines
    from people.models import Person, RoleAssignment
    from plan.services import load_plan_text

    version = load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    for role in {*DUTY_ROLES, "main_leaders", "office"}:
        person = Person.objects.create_user(username=f"bench-{role}", password="x", email=f"{role}@example.test")
        RoleAssignment.objects.create(person=person, role_key=role)
    now = timezone.now()
    far = [now + timedelta(hours=1, seconds=i) for i in range(far_count)]
    make_incidents_with_deadlines(version=version, due_times=far, schedule_eta=False)
    return version


def run_scenario(version, *, name, due_times, eta):
    from escalation.models import Deadline, State
    from tests.support.processes import make_incidents_with_deadlines, wait_until

    deadlines = make_incidents_with_deadlines(version=version, due_times=due_times, schedule_eta=eta)
    ids = [d.pk for d in deadlines]
    pending_total = Deadline.objects.filter(state=State.PENDING).count()
    finished = wait_until(lambda: not Deadline.objects.filter(pk__in=ids, state=State.PENDING).exists(),
                          timeout=(max(due_times) - min(due_times)).total_seconds() + 120, interval=0.5)
    rows = list(Deadline.objects.filter(pk__in=ids).exclude(state=State.PENDING).values_list("due_at", "acted_at"))
    lateness = [(acted - due).total_seconds() for due, acted in rows]
    span = (max(a for _d, a in rows) - min(d for d, _a in rows)).total_seconds()
    return {
        "scenario": name, "pending_at_start": pending_total, "acted": len(rows), "finished": finished,
        "p50": statistics.median(lateness), "p99": percentile(lateness, 99), "max": max(lateness),
        "per_second": len(rows) / span if span > 0 else float("inf"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    parser.add_argument("--concurrency", type=int, default=1, help="processes per worker (-c)")
    parser.add_argument("--sweep", default="0.5", help="ESCALATION_SWEEP_SECONDS for beat")
    parser.add_argument("--pending", type=int, default=10_000, help="pending deadlines in all")
    parser.add_argument("--due", type=int, default=1_000, help="deadlines due per scenario")
    parser.add_argument("--no-eta", action="store_true", help="rely on the sweeper alone (no ETA nudges)")
    parser.add_argument("--all-queues", action="store_true",
                        help="workers also consume the notification and intake queues (default: escalation only, "
                             "the deployment docs/escalation.md recommends)")
    parser.add_argument("--no-migrations", action="store_true", help="create tables from the models")
    parser.add_argument("--scenarios", nargs="+", choices=["spread", "burst"], default=["spread", "burst"],
                        help="which scenarios to run (default both)")
    args = parser.parse_args()

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.utils import timezone

    from tests.support.processes import CeleryProcesses, database_url

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    connection = setup_database(migrate=not args.no_migrations)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    results = []
    try:
        version = seed(args.pending - args.due)
        for workers in args.workers:
            broker.flushdb()
            with tempfile.TemporaryDirectory() as workdir:
                processes = CeleryProcesses(workdir=workdir, env={
                    "DATABASE_URL": database_url(connection.settings_dict),
                    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                    "FENGHUO_QUEUE_PREFIX": settings.FENGHUO_QUEUE_PREFIX,
                    "ESCALATION_SWEEP_SECONDS": args.sweep,
                })
                try:
                    queues = None if args.all_queues else [f"{settings.FENGHUO_QUEUE_PREFIX}.escalation"]
                    for n in range(workers):
                        processes.start_worker(f"bench{n}", concurrency=args.concurrency, queues=queues)
                    processes.start_beat()
                    time.sleep(2)
                    if "spread" in args.scenarios:
                        start = timezone.now() + timedelta(seconds=5)
                        spread = [start + timedelta(seconds=60 * i / args.due) for i in range(args.due)]
                        results.append({"workers": workers, **run_scenario(version, name="spread over 60 s",
                                                                          due_times=spread, eta=not args.no_eta)})
                    if "burst" in args.scenarios:
                        burst = [timezone.now() + timedelta(seconds=5)] * args.due
                        results.append({"workers": workers, **run_scenario(version, name="burst at one instant",
                                                                          due_times=burst, eta=not args.no_eta)})
                finally:
                    processes.stop_all()
    finally:
        broker.flushdb()
        connection.close()
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)

    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nworkers × -c {args.concurrency}, sweep {args.sweep} s, ETA nudges {'off' if args.no_eta else 'on'}, "
          f"queues: {'all' if args.all_queues else 'escalation only'}, {args.pending} pending, "
          f"load average before: {load_before}, after: {load_after}")
    print(f"{'workers':>7} {'scenario':<22} {'pending':>7} {'acted':>6} {'p50 s':>7} {'p99 s':>7} {'max s':>7} "
          f"{'deadl./s':>9}")
    for r in results:
        print(f"{r['workers']:>7} {r['scenario']:<22} {r['pending_at_start']:>7} {r['acted']:>6} {r['p50']:>7.3f} "
              f"{r['p99']:>7.3f} {r['max']:>7.3f} {r['per_second']:>9.1f}" + ("" if r["finished"] else "  (timed out)"))


if __name__ == "__main__":
    main()
