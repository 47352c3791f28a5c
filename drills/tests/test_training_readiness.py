"""Training records and readiness coverage: who attended, who took part in drills, who is overdue."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from drills import selectors, services
from drills.models import Attendance, Drill, TrainingSession

pytestmark = pytest.mark.django_db


def test_the_office_records_a_session_with_its_attendance_and_materials(office, responders, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    person, client = office
    answer = client.post("/api/v1/trainings/", {
        "title": "Network failover", "kind": "training", "held_at": timezone.now().isoformat(),
        "attendees": ["network-maintainer", "leadership"],
        "material": SimpleUploadedFile("slides.pdf", b"%PDF-1.4 slides", content_type="application/pdf"),
    }, format="multipart")
    assert answer.status_code == 201, answer.json()
    assert sorted(answer.json()["attendees"]) == ["leadership", "network-maintainer"]
    session = TrainingSession.objects.get()
    assert session.material.read() == b"%PDF-1.4 slides"
    assert not Attendance.objects.filter(confirmed_by_self=True).exists()


def test_recording_attendance_for_someone_who_does_not_exist_is_refused_naming_them(office, responders):
    person, client = office
    answer = client.post("/api/v1/trainings/", {"title": "Awareness", "kind": "awareness",
                                                "held_at": timezone.now().isoformat(),
                                                "attendees": ["leadership", "ghost-zhang"]}, format="json")
    assert answer.status_code == 400
    assert "ghost-zhang" in answer.json()["attendees"][0]
    assert not TrainingSession.objects.exists()  # nothing half-written

    session = services.training_create(actor=person, title="Debrief", kind="debrief", held_at=timezone.now())
    later = client.post(f"/api/v1/trainings/{session.pk}/attendance/", {"attendees": ["ghost-li"]}, format="json")
    assert later.status_code == 400 and "ghost-li" in later.json()["attendees"][0]
    assert not session.attendances.exists()


def test_a_person_confirms_their_own_attendance(office, responders, api_client_for):
    person, _client = office
    session = services.training_create(actor=person, title="Awareness", kind="awareness", held_at=timezone.now())
    maintainer = responders["network_maintainer"]
    answer = api_client_for(maintainer).post(f"/api/v1/trainings/{session.pk}/attend/")
    assert answer.status_code == 200 and answer.json()["attendees"] == [maintainer.username]
    assert Attendance.objects.get(session=session, person=maintainer).confirmed_by_self


def test_only_the_office_records_training(plan, responders, api_client_for):
    client = api_client_for(responders["leadership"])
    answer = client.post("/api/v1/trainings/", {"title": "x", "kind": "training",
                                                "held_at": timezone.now().isoformat()}, format="json")
    assert answer.status_code == 403


def test_readiness_shows_last_drill_last_training_and_overdue_flags(office, responders, settings):
    settings.READINESS_DRILL_EVERY_DAYS, settings.READINESS_TRAINING_EVERY_DAYS = 182, 365
    person, client = office
    services.training_create(actor=person, title="Old", held_at=timezone.now() - timedelta(days=400),
                             attendees=["leadership"])
    recent = services.training_create(actor=person, title="Failover", held_at=timezone.now() - timedelta(days=3),
                                      attendees=["network-maintainer"])
    drill = services.drill_schedule(actor=person, title="Backbone", category="network", level="red",
                                    starts_at=timezone.now() + timedelta(minutes=1),
                                    participants=["network-maintainer"], participant_roles=["leadership"])
    services.drill_start(drill, actor=person)
    rows = {r["username"]: r for r in client.get("/api/v1/readiness/").json()}
    maintainer = rows["network-maintainer"]
    assert parse_datetime(maintainer["last_training_at"]) == recent.held_at
    assert maintainer["last_drill_at"] is not None and maintainer["overdue"] is False
    leader = rows["leadership"]
    assert leader["last_drill_at"] is not None and leader["overdue_for"] == ["training"]  # 400 days ago
    head = rows["maintenance-dept-head"]
    assert head["last_drill_at"] is None and head["overdue_for"] == ["drill", "training"]
    # Never drilled on a red network fault: filtered by the drill's category and level.
    on_equipment = {r["username"]: r for r in client.get("/api/v1/readiness/?category=equipment").json()}
    assert on_equipment["network-maintainer"]["last_drill_at"] is None
    roles = {r.key: r for r in selectors.role_readiness()}
    assert roles["leadership"].drills_last_year == 1 and roles["leadership"].overdue  # twice a year wanted


def test_readiness_csv_lists_every_person_with_their_flags(office, responders, client):
    person, _api = office
    client.force_login(person)
    answer = client.get("/readiness.csv", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Username"
    names = {row[0] for row in rows[1:]}
    assert {"office-wu", "network-maintainer", "leadership"} <= names


def test_readiness_reads_a_fixed_number_of_queries(office, responders, make_person, django_assert_max_num_queries):
    for n in range(20):
        make_person("tech_group")
    with django_assert_max_num_queries(5):
        rows = selectors.readiness()
    assert len(rows) >= 26


def test_a_drill_debrief_session_names_its_drill(office, responders):
    person, client = office
    drill = services.drill_schedule(actor=person, title="Backbone", category="network", level="red",
                                    starts_at=timezone.now() + timedelta(minutes=1))
    answer = client.post("/api/v1/trainings/", {"title": "Debrief", "kind": "debrief", "drill": drill.pk,
                                                "held_at": timezone.now().isoformat()}, format="json")
    assert answer.status_code == 201 and answer.json()["drill"] == drill.pk
    assert Drill.objects.get().debriefs.count() == 1
