"""Office dashboard benchmark: response time and query count with a realistic history.

Not a test. 100,000 past (closed) incidents with their timelines and deadlines
are bulk-loaded with COPY; 500 open incidents are opened through the real
services at times spread over the last three hours, then the escalation engine
sweeps (so some deadlines are missed, some incidents escalated), people check
in and response plans wait for approval. Then, in-process through Django's
WSGI handler (middleware, session, templates; no network):

- GET /dashboard/                         full page
- GET /dashboard/fragment/                what a poll gets when something changed (200)
- GET /dashboard/fragment/ + If-None-Match what a poll gets when nothing changed (304)

The query count of the page is measured with 50 and with 500 open incidents.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_dash \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/11 FENGHUO_QUEUE_PREFIX=fenghuo-dash \\
    .venv/bin/python bench/dashboard_bench.py [--past 100000] [--open 500] [--requests 60]

It creates (and drops) its own database ``<DATABASE NAME>_bench``.
"""

import argparse
import os
import secrets
import random
import statistics
import sys
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


def setup_database(reuse=False):
    from django.conf import settings
    from django.db import connection

    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    if reuse:  # a database left by --keep: point at it as create_test_db would
        connection.close()
        settings.DATABASES["default"]["NAME"] = connection.settings_dict["NAME"] = name
        return connection
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return connection


def seed_people():
    from people.models import Person, RoleAssignment

    people = {}
    for role in ("duty_staff", "office", "leadership", "main_leaders", "tech_group", "ops_supervisor",
                 "system_technicians", "maintenance_supervisor", "network_maintainer", "maintenance_dept_head",
                 "maintenance_coordinator", "local_maintenance", "local_maintenance_lead", "business_departments"):
        person = Person.objects.create_user(username=f"bench-{role}", password="x", email=f"{role}@example.test",
                                            language="en")
        RoleAssignment.objects.create(person=person, role_key=role)
        people[role] = person
    return people


def copy_rows(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def bulk_past_incidents(version, count, reporter):
    """100,000 closed incidents from the last three years, three timeline rows and two deadlines each (COPY)."""
    from django.db import connection
    from django.utils import timezone

    from escalation.models import Deadline
    from incidents.models import Incident, TimelineEntry

    levels = list(version.levels.all())
    categories = list(version.categories.all())
    now = timezone.now()
    rng = random.Random(7)
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {Incident._meta.db_table}")
        first_id = cursor.fetchone()[0] + 1
        opened = [now - timedelta(days=3 * 365 * rng.random(), hours=6) for _ in range(count)]
        copy_rows(cursor, Incident._meta.db_table, [
            "id", "title", "description", "plan_version_id", "category_id", "level_id", "status", "affected_system",
            "host_fault", "is_drill", "source", "reporter_id", "discovered_at", "opened_at", "level_since",
            "resolved_at", "resolution_summary"], (
            (first_id + i, f"past fault {i}", "", version.pk, rng.choice(categories).pk, rng.choice(levels).pk,
             "archived" if i % 3 else "resolved", "", False, i % 20 == 0, "manual", reporter.pk, at, at, at,
             at + timedelta(hours=2), "fixed") for i, at in enumerate(opened)))
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{Incident._meta.db_table}', 'id'), %s)",
                       [first_id + count])
        copy_rows(cursor, TimelineEntry._meta.db_table,
                  ["incident_id", "at", "kind", "actor_label", "detail", "prev_hash", "hash"],
                  chained_past_timelines(first_id, opened))
        copy_rows(cursor, Deadline._meta.db_table, [
            "incident_id", "kind", "level_key", "role_key", "to_role_key", "started_at", "due_at", "state",
            "target_level_key", "condition_field", "condition_op", "acted_at", "note", "subject"], (
            row for i, at in enumerate(opened) for row in (
                (first_id + i, "on_site", "yellow", "ops_supervisor", "", at, at + timedelta(hours=1), "met", "", "",
                 "", at + timedelta(minutes=40), "", ""),
                (first_id + i, "escalation", "yellow", "", "", at, at + timedelta(hours=2), "cancelled", "orange",
                 "", "", at + timedelta(minutes=110), "incident resolved", ""))))
        cursor.execute("ANALYZE")


def chained_past_timelines(first_id, opened):
    """Three timeline rows per past incident, each sealed into its incident's hash chain (incidents/chain.py)."""
    import hashlib

    from incidents import chain

    for i, at in enumerate(opened):
        previous = ""
        for offset, kind in ((0, "opened"), (0, "notified"), (120, "resolved")):
            when = at + timedelta(minutes=offset)
            digest = hashlib.sha256(chain.canonical(
                incident_id=first_id + i, kind=kind, at=when, actor_id=None, actor_label="Fenghuo", deadline_id=None,
                detail={}, prev_hash=previous)).hexdigest()
            yield first_id + i, when, kind, "Fenghuo", "{}", previous, digest
            previous = digest


def open_incidents(count, people, start_index=0):
    """Open incidents through the real services, opened over the last three hours, then swept."""
    import time_machine
    from django.utils import timezone

    from escalation import services as engine
    from incidents import services

    rng = random.Random(start_index + 11)
    now = timezone.now()
    levels = ["blue"] * 4 + ["yellow"] * 3 + ["orange"] * 2 + ["red"]
    created = []
    for i in range(count):
        category, level = rng.choice(["network", "equipment", "system"]), rng.choice(levels)
        with time_machine.travel(now - timedelta(minutes=rng.uniform(1, 180)), tick=False):
            incident = services.log_fault(reporter=people["duty_staff"], category=category, level=level,
                                          title=f"open fault {start_index + i}", is_drill=i % 25 == 0)
            if i % 3 == 0:
                services.check_in(incident, actor=people["office"])
            if level in {"orange", "red"} and i % 2 == 0:
                services.propose_plan(incident, actor=people["office"], text="switch to the standby; replay")
        created.append(incident)
    engine.sweep()
    return created


def timed(client, path, n, cold=False, **headers):
    from django.core.cache import cache

    times, statuses = [], set()
    for _ in range(n):
        if cold:
            cache.clear()  # as after a change: the fragment is rendered, not served from the shared render
        started = time.perf_counter()
        response = client.get(path, **headers)
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    return times, statuses


def query_count(client, path, **headers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path, **headers)
    return len(captured.captured_queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--past", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=500)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the bench database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="time the database a --keep run left; no loading")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from plan.tests.documents import SHIPPED_PLAN
    from incidents.models import Incident, TimelineEntry
    from escalation.models import Deadline
    from plan.services import load_plan_text

    settings.ESCALATION_ETA_TASKS = False  # no worker: the bench sweeps itself
    connection = setup_database(reuse=args.reuse)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    queries_small = small = None
    try:
        if args.reuse:
            from people.models import Person

            client.force_login(Person.objects.get(username="bench-office"))
        else:
            version = load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
            people = seed_people()
            started = time.perf_counter()
            bulk_past_incidents(version, args.past, people["duty_staff"])
            print(f"loaded {args.past:,} past incidents in {time.perf_counter() - started:.1f} s")

            client.force_login(people["office"])
            small = min(50, args.open)
            started = time.perf_counter()
            open_incidents(small, people)
            client.get("/dashboard/")
            cache.clear()
            queries_small = query_count(client, "/dashboard/")
            open_incidents(args.open - small, people, start_index=small)
            print(f"opened {args.open} incidents through the services in {time.perf_counter() - started:.1f} s")
            from django.db import connection as db

            with db.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"rows: {Incident.objects.count():,} incidents ({Incident.objects.open().count()} open), "
              f"{TimelineEntry.objects.count():,} timeline entries, {Deadline.objects.count():,} deadlines")

        for _ in range(5):  # warm caches and the connection
            client.get("/dashboard/")
        cache.clear()
        queries_large = query_count(client, "/dashboard/")
        fragment = client.get("/dashboard/fragment/")
        etag = fragment["ETag"]
        results = {
            "GET /dashboard/ (full page, rendered)": timed(client, "/dashboard/", args.requests, cold=True),
            "GET /dashboard/fragment/ (200 after a change, rendered)": timed(client, "/dashboard/fragment/",
                                                                             args.requests, cold=True),
            "GET /dashboard/ (full page, shared render)": timed(client, "/dashboard/", args.requests),
            "GET /dashboard/fragment/ (200, shared render)": timed(client, "/dashboard/fragment/", args.requests),
            "GET /dashboard/fragment/ (304, unchanged)": timed(client, "/dashboard/fragment/", args.requests * 3,
                                                              HTTP_IF_NONE_MATCH=etag),
        }
        queries_304 = query_count(client, "/dashboard/fragment/", HTTP_IF_NONE_MATCH=etag)
        print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"size of the page: {len(client.get('/dashboard/').content) / 1024:.0f} KiB")
        print("| request | n | p50 ms | p95 ms | max ms | status |")
        print("|---|---|---|---|---|---|")
        for name, (times, statuses) in results.items():
            print(f"| {name} | {len(times)} | {statistics.median(times):.1f} | {percentile(times, 95):.1f} | "
                  f"{max(times):.1f} | {','.join(map(str, sorted(statuses)))} |")
        small_text = f"{queries_small} with {small} open incidents, " if small else ""
        print(f"\nqueries for a rendered /dashboard/: {small_text}"
              f"{queries_large} with {Incident.objects.open().count()} open; a 304 poll: {queries_304}")
    finally:
        if args.keep or args.reuse:
            connection.close()
        else:
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
