"""Benchmark of inspection rounds (not a test). Figures go in bench/inspections.md.

    SECRET_KEY=... .venv/bin/python bench/inspections.py [--db fenghuo_inspections_bench] [--assets 2000]

It (re)creates its own PostgreSQL database, migrates it and loads the shipped plan, then:

(a) generation: 2,000 assets on 20 schedules of 100 (every 2 hours, 30 min grace), a month of
    rounds generated at once (``generate_rounds(ahead=30 days)``), each with its engine deadline;
(b) a year of history: 365 days of those rounds (87,600), nine in ten submitted, the rest missed,
    with every answer of one schedule's rounds for the last 30 days; then the rounds page
    (``/inspections/``), a round's page and ``GET /api/v1/inspections/`` timed 200 times each
    through Django's test client (in process: the figure is the server's time, no network).
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="fenghuo_inspections_bench")
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", args.db], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", args.db], check=True)
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    os.environ["ESCALATION_ETA_TASKS"] = "false"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    call_command("loadplan", str(ROOT / "plan/plans/credit-system.yaml"), verbosity=0)

    from assets.models import Asset
    from escalation.models import Deadline
    from inspections import generation
    from inspections.items import round_items
    from inspections.models import Result, Round, Schedule, ScheduleAsset
    from people.models import Person, RoleAssignment

    kinds = ["server", "storage", "switch", "router", "firewall", "ups", "air_conditioning", "power_distribution"]
    Asset.objects.bulk_create([Asset(tag=f"A-{i:05d}", name=f"Asset {i}", kind=kinds[i % len(kinds)],
                                     category="equipment", core=i % 10 == 0, room=f"R{i // 500}")
                               for i in range(args.assets)])
    office = Person.objects.create_user("bench-office", password="x")
    RoleAssignment.objects.create(person=office, role_key="office")
    duty = Person.objects.create_user("bench-duty", password="bench-pw")
    RoleAssignment.objects.create(person=duty, role_key="duty_staff")
    assets = list(Asset.objects.order_by("tag"))
    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)

    def schedules(first_due_at):
        made = []
        for n in range(0, len(assets), 100):
            schedule = Schedule.objects.create(name=f"Round {n // 100}", role_key="duty_staff",
                                               every=timedelta(hours=2), grace=timedelta(minutes=30),
                                               first_due_at=first_due_at, created_by=office)
            ScheduleAsset.objects.bulk_create([ScheduleAsset(schedule=schedule, asset=a, position=i)
                                               for i, a in enumerate(assets[n:n + 100])])
            made.append(schedule)
        return made

    # (a) a month of rounds at once.
    month = schedules(start)
    began = time.perf_counter()
    written = generation.generate_rounds(now=start, ahead=timedelta(days=30))
    generation_s = time.perf_counter() - began
    print(f"(a) generated {written} rounds (+{Deadline.objects.count()} deadlines) for {len(assets)} assets "
          f"on {len(month)} schedules, 30 days ahead: {generation_s:.2f} s")

    # (b) a year of history before now.
    Schedule.objects.filter(pk__in=[s.pk for s in month]).update(active=False)
    history = schedules(start - timedelta(days=365))
    began = time.perf_counter()
    for schedule in history:
        generation.generate_schedule(schedule.pk, now=start - timedelta(days=365), ahead=timedelta(days=366))
    print(f"    a year of history: {Round.objects.filter(schedule__in=history).count()} rounds "
          f"in {time.perf_counter() - began:.1f} s")
    past = Round.objects.filter(schedule__in=history, due_at__lt=now)
    past.filter(id__regex=r"[0-8]$").update(status="done", submitted_at=timezone.now() - timedelta(days=1),
                                           submitted_by=duty)
    past.exclude(status="done").update(status="missed", missed_at=timezone.now() - timedelta(days=1))
    Deadline.objects.filter(due_at__lt=now, state="pending").update(state="missed", acted_at=now)
    sample = history[0]
    items = round_items(Round.objects.filter(schedule=sample).first())
    results = []
    for round_ in Round.objects.filter(schedule=sample, due_at__gte=now - timedelta(days=30), due_at__lt=now):
        for item in items:
            results.append(Result(round=round_, asset=item.asset, check_key=item.check.key,
                                  check_type=item.check.type, label_en=item.check.label_en,
                                  label_zh=item.check.label_zh, ok=True if item.check.type == "ok" else None,
                                  value=22.0 if item.check.type == "number" else None, answered_at=round_.due_at,
                                  answered_by=duty))
    Result.objects.bulk_create(results, batch_size=5000)
    print(f"    {Round.objects.count()} rounds, {Result.objects.count()} answers, "
          f"{Deadline.objects.count()} deadlines in the database")

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(duty)
    today = Round.objects.filter(schedule__in=history, due_at__gte=now - timedelta(hours=2)).order_by("due_at").first()
    for name, path in [("rounds page /inspections/", "/inspections/"),
                       ("a round's page (100 assets)", f"/inspections/rounds/{today.pk}/"),
                       ("GET /api/v1/inspections/?status=due", "/api/v1/inspections/?status=due")]:
        client.get(path)  # warm
        times = []
        for _ in range(args.requests):
            began = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        print(f"(b) {name}: p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms, "
              f"max {max(times):.1f} ms over {args.requests}")


if __name__ == "__main__":
    main()
