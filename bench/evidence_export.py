"""Evidence pack benchmark: the export of an incident with 1,000 timeline entries (target: under 5 s each).

Not a test. It creates (and drops) its own database ``<DATABASE NAME>_bench``,
loads the shipped plan, opens one incident through the real services (its
deadlines, notifications and deliveries), proposes and approves a response
plan, then appends notes through the timeline writer (so every entry is
chained) until the timeline holds 1,000 entries, half of them in Chinese.
Then, in-process, it times ``evidence.pack.export`` (reading, building,
rendering, hashing) for PDF and DOCX, in Chinese and in English, and the
API's GET /api/v1/incidents/{id}/export through Django's WSGI handler.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_h3 CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
    FENGHUO_QUEUE_PREFIX=fenghuo-h3 .venv/bin/python bench/evidence_export.py [--entries 1000] [--runs 3]
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def setup_database():
    from django.conf import settings
    from django.db import connection

    name = f"{settings.DATABASES['default']['NAME']}_bench"
    connection.settings_dict["TEST"].update({"NAME": name})
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return connection


def seed(entries):
    from people.models import Person, RoleAssignment
    from plan.services import load_plan_text

    from incidents import services, timeline
    from incidents.models import TimelineEntry, TimelineKind

    load_plan_text((ROOT / "plan" / "plans" / "credit-system.yaml").read_text(encoding="utf-8"), source="bench")
    people = {}
    for role in ("duty_staff", "office", "leadership", "main_leaders", "tech_group", "ops_supervisor"):
        person = Person.objects.create_user(username=f"bench-{role}", password="x", email=f"{role}@example.test",
                                            full_name=f"值班 {role}", language="en")
        RoleAssignment.objects.create(person=person, role_key=role)
        people[role] = person
    incident = services.log_fault(reporter=people["duty_staff"], category="network", level="orange",
                                  title="核心交换机故障 core switch down", description="全辖网点交易中断")
    services.acknowledge(incident, actor=people["office"])
    services.check_in(incident, actor=people["office"])
    plan = services.propose_plan(incident, actor=people["office"], text="切换至备用链路；switch to the standby line")
    services.approve_plan(plan, actor=people["leadership"], comment="同意")
    missing = entries - TimelineEntry.objects.filter(incident=incident).count()
    batch = []
    for n in range(missing):
        text = f"第 {n} 次处置记录：检查光模块与链路状态" if n % 2 else f"progress note {n}: checked optics and links"
        batch.append(timeline.row(incident, kind=TimelineKind.NOTE, actor=people["office"], detail={"text": text}))
        if len(batch) == 100:
            timeline.record_rows(batch)
            batch = []
    timeline.record_rows(batch)
    return incident, people


def time_export(incident, file_format, language, runs):
    """Wall-clock and CPU seconds of whole exports, and of building the pack alone (reading and wording)."""
    from django.utils import translation

    from evidence import pack

    seconds, cpu, build, size = [], [], [], 0
    for _ in range(runs):
        with translation.override(language):
            started, started_cpu = time.perf_counter(), time.process_time()
            exported = pack.export(incident, file_format=file_format, generated_by="bench")
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            started = time.perf_counter()
            pack.build(incident, generated_by="bench")
            build.append(time.perf_counter() - started)
        size = len(exported.data)
    return seconds, cpu, build, size


def time_api(incident, person, file_format, runs):
    from django.test import Client

    client = Client()
    client.force_login(person)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(f"/api/v1/incidents/{incident.pk}/export", {"format": file_format},
                              HTTP_ACCEPT_LANGUAGE="zh-hans")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.test.utils import setup_test_environment

    from incidents.models import TimelineEntry

    setup_test_environment()
    connection = setup_database()
    try:
        started = time.perf_counter()
        incident, people = seed(args.entries)
        count = TimelineEntry.objects.filter(incident=incident).count()
        print(f"seeded incident #{incident.pk} with {count} timeline entries in {time.perf_counter() - started:.1f} s")
        # The first export pays for importing WeasyPrint and loading the fonts: shown apart.
        first, *_rest = time_export(incident, "pdf", "zh-hans", 1)
        print(f"first PDF export (imports, fonts): {first[0]:.2f} s; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        print("| export | language | runs | median wall s | max wall s | median CPU s | of which building s | size |")
        print("|---|---|---|---|---|---|---|---|")
        for file_format in ("pdf", "docx"):
            for language in ("zh-hans", "en"):
                seconds, cpu, build, size = time_export(incident, file_format, language, args.runs)
                print(f"| {file_format} | {language} | {args.runs} | {statistics.median(seconds):.2f} | "
                      f"{max(seconds):.2f} | {statistics.median(cpu):.2f} | {statistics.median(build):.2f} | "
                      f"{size / 1024:.0f} KiB |")
        for file_format in ("pdf", "docx"):
            seconds = time_api(incident, people["office"], file_format, args.runs)
            print(f"| API GET {file_format} | zh-hans | {args.runs} | {statistics.median(seconds):.2f} | "
                  f"{max(seconds):.2f} | | | |")
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
