"""What a second beat costs: the periodic tasks' work per minute with one beat and with two.

Not a test. Two beats (docker-compose.multinode.yml) send every periodic task twice as often; each is a
sweep that finds nothing new most of the time. This times each task's body in-process against a database
with a realistic backlog (10,000 pending deadlines hours away, 2,000 unanswered notifications not yet due
for a repeat, their deliveries sent), then adds up the time per minute at the shipped intervals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_h8 CELERY_BROKER_URL=filesystem:// \\
    FENGHUO_VAR_DIR=/tmp/beats-bench .venv/bin/python bench/beats_bench.py

It creates (and drops) its own database ``<DATABASE NAME>_bench``.
"""

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


def seed():
    from django.utils import timezone

    from incidents.services import log_faults
    from notifications.models import Delivery, DeliveryStatus
    from people.models import Person, RoleAssignment
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN
    from tests.support.processes import make_incidents_with_deadlines

    version = load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    for role in version.roles.all():
        for n in range(4):
            person = Person.objects.create_user(username=f"bench-{role.key}-{n}", password="x",
                                                email=f"{role.key}{n}@example.test")
            RoleAssignment.objects.create(person=person, role_key=role.key)
    now = timezone.now()
    make_incidents_with_deadlines(version=version, due_times=[now + timedelta(hours=2, seconds=i)
                                                              for i in range(10_000)], schedule_eta=False)
    # Open incidents whose notifications wait for an answer (the follow-up pass reads them every time).
    log_faults([dict(reporter=None, category="system", level="yellow", title=f"bench {i}") for i in range(60)])
    Delivery.objects.update(status=DeliveryStatus.SENT, sent_at=now)


def main():
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from alerts.tasks import sweep_pending
    from escalation.tasks import arm_near_deadlines, heartbeat, sweep_due_deadlines
    from notifications.models import Notification
    from notifications.tasks import deliver_pending, follow_up

    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        seed()
        print(f"backlog: {connection.cursor().execute('SELECT count(*) FROM escalation_deadline').fetchone()[0]} "
              f"deadlines, {Notification.objects.count()} notifications")
        schedule = {entry["task"]: float(entry["schedule"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        tasks = {"escalation.sweep_due_deadlines": sweep_due_deadlines, "escalation.arm_near_deadlines":
                 arm_near_deadlines, "notifications.deliver_pending": deliver_pending,
                 "alerts.sweep_pending": sweep_pending, "notifications.follow_up": follow_up,
                 "escalation.heartbeat": heartbeat}
        per_minute = 0.0
        print(f"{'task':34} {'every s':>8} {'p50 ms':>8} {'max ms':>8} {'ms/min, 1 beat':>15}")
        for task_name, task in tasks.items():
            task()  # warm
            times = []
            for _ in range(30):
                started = time.perf_counter()
                task()
                times.append((time.perf_counter() - started) * 1000)
            cost = statistics.median(times) * 60 / schedule[task_name]
            per_minute += cost
            print(f"{task_name:34} {schedule[task_name]:8.1f} {statistics.median(times):8.2f} {max(times):8.2f} "
                  f"{cost:15.1f}")
        print(f"periodic work per minute: one beat {per_minute:.0f} ms ({per_minute / 600:.2f} % of one core), "
              f"two beats {2 * per_minute:.0f} ms ({2 * per_minute / 600:.2f} %)")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
