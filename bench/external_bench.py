"""External parties benchmark: what the People's Bank duties cost when incidents open, and when they are missed.

Not a test. Opens N orange system incidents with the shipped plan (each owes the People's Bank an
initial, a written and a final report), measuring the statements and time the ``level_started`` hook
adds to each opening; then lets every initial notice and its reminder fall due and times the engine's
sweep acting on them (each missed notice tells the office and writes its timeline row).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_h6 CELERY_BROKER_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/external_bench.py --incidents 200

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
os.environ.setdefault("ESCALATION_ETA_TASKS", "false")
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    old = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        import time_machine
        from django.utils import timezone

        from escalation import services as engine
        from escalation.models import Deadline, Kind, State
        from external import services as external
        from incidents import hooks
        from incidents.services import log_fault
        from people.models import Person, RoleAssignment
        from plan.services import load_plan_text
        from plan.tests.documents import SHIPPED_PLAN

        load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
        for role in ("office", "leadership", "ops_supervisor", "system_technicians"):
            person = Person.objects.create_user(username=f"bench-{role}", password="x", email=f"{role}@example.test")
            RoleAssignment.objects.create(person=person, role_key=role)

        hook_ms, hook_queries = [], []
        original = external.start_level_duties

        def timed(incidents, *, at):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                original(incidents, at=at)
            hook_ms.append((time.perf_counter() - started) * 1000)
            hook_queries.append(len(captured.captured_queries))

        hooks._hooks["level_started"] = [timed if fn is original else fn for fn in hooks._hooks["level_started"]]
        start = timezone.now()
        open_ms = []
        with time_machine.travel(start, tick=False):
            for i in range(args.incidents):
                began = time.perf_counter()
                log_fault(reporter=None, category="system", level="orange", title=f"bench {i}")
                open_ms.append((time.perf_counter() - began) * 1000)

        due = Deadline.objects.filter(kind__in=[Kind.EXTERNAL_REPORT, Kind.EXTERNAL_REMINDER], state=State.PENDING,
                                      due_at__lte=start + timedelta(hours=1, seconds=1)).count()
        with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
            began = time.perf_counter()
            acted = 0
            while True:
                n = engine.sweep()
                acted += n
                if n == 0:
                    break
            sweep_s = time.perf_counter() - began
        missed = Deadline.objects.filter(kind=Kind.EXTERNAL_REPORT, state=State.MISSED).count()
        print(f"incidents opened: {args.incidents} (orange, system; shipped plan)")
        print(f"  opening, whole: median {statistics.median(open_ms):.1f} ms, p90 {percentile(open_ms, 90):.1f} ms")
        print(f"  of which the external hook: median {statistics.median(hook_ms):.2f} ms, "
              f"p90 {percentile(hook_ms, 90):.2f} ms, statements {min(hook_queries)}–{max(hook_queries)}")
        print(f"due external deadlines (initial + reminder): {due}; sweep acted on {acted} in {sweep_s:.2f} s "
              f"({acted / sweep_s:.0f}/s, all deadlines kinds); initial notices missed: {missed}")
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)


if __name__ == "__main__":
    main()
