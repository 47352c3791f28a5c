"""Past incidents for the reports benchmark: 100,000 by default, with their timelines, deadlines, alerts,
notifications and deliveries, bulk-loaded with PostgreSQL's COPY (about a minute on this machine).

Each incident, opened at a random moment of the last three years (5 % drills, a few still open), gets:
acknowledged, recovered and resolved times drawn from skewed distributions; five timeline rows (opened,
notified, acknowledged, resolved, and a level change by one of the four causes for one in four); an on-site,
a report and an escalation deadline in a mix of met / missed / fired / cancelled; one notification with an
email and an SMS delivery (a few failed); and, for one in three, two alerts from one of five integrations.
Then the figures rows of every resolved one (``reports.figures.figures_backfill``), as production keeps them.

    from bench.reports_data import generate
    generate(version, count=100_000)   # inside a configured Django, on PostgreSQL

Used by ``bench/reports.py``; run alone, it fills the configured database:

    DATABASE_URL=postgres://... .venv/bin/python bench/reports_data.py [--count 100000]
"""

import argparse
import json
import os
import random
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

CAUSES = ("plan", "alert", "person", "condition")
SOURCES = ("zabbix-core", "prometheus-dc1", "prometheus-dc2", "events-branches", "generic-storage")


def _copy(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _next_id(cursor, table):
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def _set_sequence(cursor, table, value):
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [value])


def _chained(timeline):
    """The rows with their hash chain (incidents/chain.py), as the timeline service would seal them."""
    import hashlib

    from incidents.chain import canonical

    last = {}
    for incident_id, at, kind, label, detail in timeline:
        prev = last.get(incident_id, "")
        digest = hashlib.sha256(canonical(incident_id=incident_id, kind=kind, at=at, actor_id=None, actor_label=label,
                                          deadline_id=None, detail=json.loads(detail), prev_hash=prev)).hexdigest()
        last[incident_id] = digest
        yield (incident_id, at, kind, label, detail, prev, digest)


def generate(version, *, count=100_000, years=3, seed=7):
    """Load ``count`` past incidents of plan ``version``; returns {table: rows written}."""
    from django.db import connection
    from django.utils import timezone

    from alerts.integrations import integration_create
    from alerts.models import Alert, Integration

    from escalation.models import Deadline
    from incidents.models import Incident, TimelineEntry
    from notifications.models import Delivery, Notification
    from reports.figures import figures_backfill

    rng = random.Random(seed)
    now = timezone.now()
    levels = {lv.key: lv.pk for lv in version.levels.all()}
    categories = [c.pk for c in version.categories.all()]
    category_keys = {c.pk: c.key for c in version.categories.all()}
    level_weights = (("blue", 45), ("yellow", 35), ("orange", 15), ("red", 5))
    level_pool = [key for key, weight in level_weights for _ in range(weight)]
    integrations = [Integration.objects.filter(name=name).first()
                    or integration_create(name=name, kind="alertmanager")[0] for name in SOURCES]

    incidents, timeline, deadlines, notifications, deliveries, alerts = [], [], [], [], [], []
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        first_incident = _next_id(cursor, Incident._meta.db_table)
        first_notification = _next_id(cursor, Notification._meta.db_table)
        for i in range(count):
            pk = first_incident + i
            opened = now - timedelta(days=years * 365 * rng.random(), hours=6)
            level = rng.choice(level_pool)
            category = rng.choice(categories)
            drill = rng.random() < 0.05
            still_open = rng.random() < 0.01
            ack = opened + timedelta(seconds=rng.lognormvariate(5, 1))  # median ≈ 2.5 min
            recovered = ack + timedelta(seconds=rng.lognormvariate(8, 0.8))  # median ≈ 50 min
            resolved = recovered + timedelta(seconds=rng.lognormvariate(7, 0.7))
            status = "acknowledged" if still_open else ("archived" if i % 3 else "resolved")
            incidents.append((
                pk, f"past fault {i}", "", version.pk, category, levels[level], status, "", False, drill,
                rng.choice(("manual", "alertmanager", "alertmanager", "events")), opened, opened, opened, ack,
                None if still_open else recovered, None if still_open else resolved, "fixed" if not still_open else ""))
            timeline += [(pk, opened, "opened", "Fenghuo", "{}"), (pk, opened, "notified", "Fenghuo", "{}"),
                         (pk, ack, "acknowledged", "Fenghuo", "{}")]
            if i % 4 == 0:
                ranks = ["blue", "yellow", "orange", "red"]
                frm = ranks[rng.randrange(3)]
                to = ranks[ranks.index(frm) + 1]
                timeline.append((pk, opened + timedelta(minutes=30), "level_changed", "Fenghuo",
                                 json.dumps({"from": frm, "to": to, "cause": rng.choice(CAUSES), "reason": ""})))
            if not still_open:
                timeline.append((pk, resolved, "resolved", "Fenghuo", "{}"))
            arrived = opened + timedelta(seconds=rng.lognormvariate(7.3, 0.5))  # median ≈ 25 min
            on_site_due = opened + timedelta(minutes=30 if level in ("orange", "red") else 60)
            on_site_met = arrived <= on_site_due
            role = rng.choice(("ops_supervisor", "system_technicians", "network_maintainer", "office"))
            escalated = rng.random() < 0.1  # not solved in time: the plan's escalation fired
            deadlines += [
                (pk, "on_site", level, role, "", opened, on_site_due, "met" if on_site_met else "missed",
                 "", arrived if on_site_met else on_site_due, ""),
                (pk, "report", level, "office", "leadership", opened, opened, "met", "", opened, ""),
                (pk, "escalation", level, "", "", opened, opened + timedelta(hours=2),
                 "fired" if escalated else "cancelled", "orange",
                 opened + timedelta(hours=2) if escalated else min(resolved, opened + timedelta(hours=2)), ""),
            ]
            npk = first_notification + i
            told_read = rng.random() < 0.8
            notifications.append((npk, pk, role, f"opened:{pk}", "acknowledge", level, drill, "fault", "",
                                  opened, opened + timedelta(seconds=rng.lognormvariate(4.5, 1)) if told_read else None,
                                  f"bench:{npk}", opened, "00:30:00", 1, False, "{}", 0))
            deliveries += [(npk, "email", f"e{npk}", "failed" if rng.random() < 0.02 else "sent", opened, opened),
                           (npk, "sms", f"s{npk}", "failed" if rng.random() < 0.05 else "sent", opened, opened)]
            if i % 3 == 0:
                source = rng.choice(integrations)
                for n in range(2):
                    alerts.append((source.pk, f"g{pk}", f"f{pk}-{n}", f"d{pk}-{n}", "firing", opened, "down",
                                   category_keys[category], level, "{}", "{}", opened, opened, pk))

        _copy(cursor, Incident._meta.db_table, [
            "id", "title", "description", "plan_version_id", "category_id", "level_id", "status", "affected_system",
            "host_fault", "is_drill", "source", "discovered_at", "opened_at", "level_since", "acknowledged_at",
            "recovered_at", "resolved_at", "resolution_summary", "clock"],
            (row + (1.0,) for row in incidents))
        _set_sequence(cursor, Incident._meta.db_table, first_incident + count)
        _copy(cursor, TimelineEntry._meta.db_table,
              ["incident_id", "at", "kind", "actor_label", "detail", "prev_hash", "hash"], _chained(timeline))
        _copy(cursor, Deadline._meta.db_table, [
            "incident_id", "kind", "level_key", "role_key", "to_role_key", "started_at", "due_at", "state",
            "target_level_key", "acted_at", "note", "condition_field", "condition_op", "subject"],
            (row + ("", "", "") for row in deadlines))
        _copy(cursor, Notification._meta.db_table, [
            "id", "incident_id", "role_key", "event", "ask", "level_key", "is_drill", "title", "body", "created_at",
            "acknowledged_at", "dedup_key", "visible_from", "repeat_every", "repeat_times", "urgent", "facts",
            "repeats"], notifications)
        _set_sequence(cursor, Notification._meta.db_table, first_notification + count)
        _copy(cursor, Delivery._meta.db_table, [
            "notification_id", "kind", "idempotency_key", "status", "next_attempt_at", "created_at", "address",
            "attempts", "last_error"], (row + ("", 1, "") for row in deliveries))
        _copy(cursor, Alert._meta.db_table, [
            "integration_id", "group_key", "fingerprint", "delivery_key", "status", "starts_at", "summary",
            "category_key", "level_key", "labels", "annotations", "received_at", "processed_at", "incident_id",
            "attempts", "last_error"], (row + (1, "") for row in alerts))
        cursor.execute("ANALYZE")
    # What production holds: each resolved incident's figures rows, written by the same function the
    # ``resolved`` hook calls (here through the backfill command's, as after an upgrade).
    started = time.perf_counter()
    figures = figures_backfill()
    with connection.cursor() as wrapper:
        wrapper.execute("ANALYZE")
    return {"incidents": len(incidents), "timeline": len(timeline), "deadlines": len(deadlines),
            "notifications": len(notifications), "deliveries": len(deliveries), "alerts": len(alerts),
            "figures": figures, "figures_s": round(time.perf_counter() - started, 1)}


def main():
    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    django.setup()
    from plan.models import PlanVersion
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN

    version = PlanVersion.objects.filter(is_active=True).first() or load_plan_text(
        SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    started = time.perf_counter()
    written = generate(version, count=args.count)
    print(f"{written} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
