"""Readiness and scorecard benchmark: how long the readiness view and a drill's scorecard take to read.

Not a test. ``--people`` persons holding plan roles, each in ``--drills`` past drills (participation rows)
and ``--trainings`` training sessions; then the readiness view (``drills.selectors.readiness``, the page,
the CSV and the API read it) and one red network drill's scorecard (``drills.scorecard.scorecard_of``),
each timed over ``--repeat`` runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_drills \\
    .venv/bin/python bench/drills_bench.py --people 2000 --drills 12 --trainings 6

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
os.environ.setdefault("NOTIFICATIONS_KICK_ON_COMMIT", "false")
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

ROLES = ["network_maintainer", "maintenance_dept_head", "office", "leadership", "tech_group", "duty_staff",
         "system_technicians", "ops_supervisor"]


def seed(people, drills, trainings):
    from django.utils import timezone

    from drills import services
    from drills.models import Attendance, Drill, DrillStatus, Participation, TrainingSession
    from people.models import Person, RoleAssignment
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN

    load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    now = timezone.now()
    persons = Person.objects.bulk_create([Person(username=f"p{i:05d}", email=f"p{i}@example.test")
                                          for i in range(people)])
    RoleAssignment.objects.bulk_create([RoleAssignment(person=p, role_key=ROLES[i % len(ROLES)])
                                        for i, p in enumerate(persons)])
    office = Person.objects.create_user(username="bench-office", password="x")
    RoleAssignment.objects.create(person=office, role_key="office")
    past = [Drill(title=f"past {n}", category_key=("network", "equipment", "system")[n % 3], level_key="red",
                  starts_at=now - timedelta(days=30 * n + 1), status=DrillStatus.SCHEDULED)
            for n in range(drills)]
    Drill.objects.bulk_create(past)
    Participation.objects.bulk_create([Participation(drill=d, person=p, role_key=ROLES[i % len(ROLES)],
                                                     at=d.starts_at)
                                       for d in past for i, p in enumerate(persons)], batch_size=5000)
    sessions = TrainingSession.objects.bulk_create([TrainingSession(title=f"t{n}", held_at=now - timedelta(days=60 * n))
                                                    for n in range(trainings)])
    Attendance.objects.bulk_create([Attendance(session=s, person=p) for s in sessions for p in persons[::2]],
                                   batch_size=5000)
    # One drill run through the real services, with everyone the red network cell tells.
    drill = services.drill_schedule(actor=office, title="bench", category="network", level="red",
                                    starts_at=now + timedelta(minutes=1), clock=60)
    services.drill_start(drill, actor=office)
    return services.drill_end(drill, actor=office)


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--drills", type=int, default=12)
    parser.add_argument("--trainings", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from drills import scorecard, selectors

    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        drill = seed(args.people, args.drills, args.trainings)
        rows = selectors.readiness()
        median, worst = timed(selectors.readiness, args.repeat)
        print(f"readiness: {len(rows)} people, {args.people * args.drills} participations, "
              f"{args.trainings * ((args.people + 1) // 2)} attendances: median {median:.0f} ms, max {worst:.0f} ms")
        median, worst = timed(lambda: selectors.readiness(category="network", level="red"), args.repeat)
        print(f"readiness, red network only: median {median:.0f} ms, max {worst:.0f} ms")
        median, worst = timed(selectors.role_readiness, args.repeat)
        print(f"role readiness: median {median:.0f} ms, max {worst:.0f} ms")
        median, worst = timed(lambda: scorecard.scorecard_of(drill), args.repeat)
        print(f"scorecard of a red network drill ({len(drill.scorecard['items'])} items): "
              f"median {median:.1f} ms, max {worst:.1f} ms")
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)


if __name__ == "__main__":
    main()
