"""Reports benchmark: the reports page and the summary API over 100,000 past incidents.

Not a test. Loads ``bench/reports_data.py``'s history (100,000 incidents over three years, with their
timelines, deadlines, notifications, deliveries and alerts) into its own database ``<DATABASE NAME>_bench``,
then, in-process through Django's WSGI handler (middleware, session, templates; no network), times:

- GET /api/v1/reports/summary/                     the default period (the last twelve months)
- GET /api/v1/reports/summary/?from=…&to=…          all three years
- GET /api/v1/reports/summary/?…&level=red&category=network     a filtered one
- GET /reports/                                    the page (twelve months), charts' numbers and tables
- GET /reports/?from=…&to=…                         the page over three years

each "cold" (the cache cleared before every request, as after any change to an incident: every figure is
computed by the database) and "warm" (nothing changed since the last request: the stamp query and the
cached figures), and counts the queries of each cold request with 1,000 and with 100,000 incidents loaded
(the count must not change). Target (issue 20): p95 ≤ 300 ms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_h7 \\
    .venv/bin/python bench/reports.py [--past 100000] [--requests 30] [--keep | --reuse]
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def setup_database(reuse=False):
    from django.conf import settings
    from django.db import connection

    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    if reuse:  # a database left by --keep, migrated to this checkout: point at it as create_test_db would
        connection.close()
        settings.DATABASES["default"]["NAME"] = connection.settings_dict["NAME"] = name
        return connection
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return connection


def paths():
    from django.utils import timezone

    today = timezone.localdate()
    three_years = f"from={today.replace(year=today.year - 3)}&to={today}"
    return [
        ("summary API, 12 months", "/api/v1/reports/summary/"),
        ("summary API, 3 years", f"/api/v1/reports/summary/?{three_years}"),
        ("summary API, 3 years, red network", f"/api/v1/reports/summary/?{three_years}&level=red&category=network"),
        ("page, 12 months", "/reports/"),
        ("page, 3 years", f"/reports/?{three_years}"),
    ]


def timed(client, path, n, *, cold):
    from django.core.cache import cache

    times, statuses = [], set()
    for _ in range(n):
        if cold:
            cache.clear()  # as after any change to an incident: the figures are computed again
        started = time.perf_counter()
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    return times, statuses


def query_count(client, path):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured)


def main():
    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--past", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="leave the bench database for a look or --reuse")
    parser.add_argument("--reuse", action="store_true",
                        help="time the database a --keep run left (run `migrate` on it first); no loading, so the "
                             "query counts are given for its size only")
    args = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.test import Client

    from people.models import Person, RoleAssignment
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN
    from reports_data import generate

    settings.ALLOWED_HOSTS = ["*"]
    connection = setup_database(reuse=args.reuse)
    try:
        client = Client()
        if args.reuse:
            client.force_login(Person.objects.get(username="bench-office"))
            many = {label: query_count(client, path) for label, path in paths()}
            few = {label: "-" for label in many}
        else:
            version = load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
            office = Person.objects.create_user(username="bench-office", password="x", language="zh-hans")
            RoleAssignment.objects.create(person=office, role_key="office")
            client.force_login(office)
            generate(version, count=1_000, seed=1)
            few = {label: query_count(client, path) for label, path in paths()}
            started = time.perf_counter()
            written = generate(version, count=args.past - 1_000, seed=7)
            print(f"loaded {args.past:,} incidents ({written}) in {time.perf_counter() - started:.1f} s")
            many = {label: query_count(client, path) for label, path in paths()}

        print(f"{'request':<38} {'cold p50':>9} {'p95':>7} {'warm p50':>9} {'p95':>7}  queries cold 1k / 100k")
        for label, path in paths():
            timed(client, path, 2, cold=False)  # warm the connection, the plan caches and the templates
            cold, statuses = timed(client, path, args.requests, cold=True)
            warm, more = timed(client, path, args.requests, cold=False)
            assert statuses | more == {200}, (path, statuses, more)
            print(f"{label:<38} {statistics.median(cold):9.1f} {percentile(cold, 95):7.1f} "
                  f"{statistics.median(warm):9.1f} {percentile(warm, 95):7.1f}  {few[label]} / {many[label]}")
    finally:
        if not (args.keep or args.reuse):
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
