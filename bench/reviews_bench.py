"""The post-incident review of a long incident, and the open actions list: time and query counts.

Not a test. One incident with 1,000 timeline entries (the evidence pack's target
size, issue 16) is opened, worked and resolved through the real services (notes
fill its timeline), its review written and 200 remediation actions added over 20
incidents. Then, in-process through Django's WSGI handler (no network):

- ``reviews.selectors.review_of`` (what the evidence pack reads),
- GET /api/v1/incidents/{id}/review/,
- GET /incidents/{id}/review/ (the editor page),
- GET /actions/ and GET /api/v1/actions/?overdue=true.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_h1 \\
    .venv/bin/python bench/reviews_bench.py [--entries 1000] [--requests 30]

It creates (and drops) its own database ``<DATABASE NAME>_bench``.
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(call, n):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def queries(call):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from incidents import services as incidents
    from people.models import Person, RoleAssignment
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN
    from reviews import selectors, services

    settings.ESCALATION_ETA_TASKS = False
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
        people = {}
        for role in ("office", "leadership", "ops_supervisor", "tech_group"):
            people[role] = Person.objects.create_user(username=f"bench-{role}", password="x", language="en",
                                                      email=f"{role}@example.test")
            RoleAssignment.objects.create(person=people[role], role_key=role)
        office = people["office"]
        started = time.perf_counter()
        incident = incidents.log_fault(reporter=office, category="system", level="yellow", title="Long incident")
        incidents.acknowledge(incident, actor=people["ops_supervisor"])
        incidents.check_in(incident, actor=people["ops_supervisor"])
        while incident.timeline.count() < args.entries - 3:
            incidents.add_note(incident, actor=office, text="Checked the queue depth again; still high.")
        incidents.mark_recovered(incident, actor=people["ops_supervisor"], note="back")
        incident = incidents.resolve(incident, actor=people["ops_supervisor"], summary="Restarted the pool.")
        services.review_update(incident, actor=office, changes={"lessons": "Alert on pool usage.", "impact": "x"})
        due = timezone.now() + timedelta(days=30)
        for n in range(20):
            other = incidents.log_fault(reporter=office, category="network", level="blue", title=f"fault {n}")
            incidents.acknowledge(other, actor=office)
            other = incidents.resolve(other, actor=office, summary="fixed")
            for m in range(10):
                services.action_create(other, actor=office, title=f"action {n}.{m}", owner=office.username, due_at=due)
        print(f"set up {incident.timeline.count()} timeline entries, 200 actions in "
              f"{time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(office)
        calls = {
            f"review_of (selector, {args.entries} entries)": lambda: selectors.review_of(incident),
            "GET /api/v1/incidents/{id}/review/": lambda: client.get(f"/api/v1/incidents/{incident.pk}/review/"),
            "GET /incidents/{id}/review/ (page)": lambda: client.get(f"/incidents/{incident.pk}/review/"),
            "GET /actions/ (page, 200 open)": lambda: client.get("/actions/"),
            "GET /api/v1/actions/?overdue=true": lambda: client.get("/api/v1/actions/?overdue=true"),
        }
        for call in calls.values():
            call()  # warm
        print(f"| what | median ms | p95 ms | queries |\n|---|---|---|---|")
        for label, call in calls.items():
            times = timed(call, args.requests)
            print(f"| {label} | {statistics.median(times):.1f} | {percentile(times, 95):.1f} | {queries(call)} |")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
