"""The timeline is append-only: not the model, not a queryset, not raw SQL can change or delete an entry."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from incidents import services
from incidents.models import TimelineEntry
from plan import services as plan_services
from plan.tests.documents import SHIPPED_PLAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(shipped_plan, make_person):
    incident = services.log_fault(reporter=make_person("duty_staff"), category="network", level="blue", title="Line down")
    return incident.timeline.first()


def test_an_entry_cannot_be_saved_again_or_deleted(entry):
    entry.detail = {"rewritten": True}
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_a_queryset_cannot_update_or_delete_entries(entry):
    with pytest.raises(PermissionError):
        TimelineEntry.objects.filter(pk=entry.pk).update(kind="note")
    with pytest.raises(PermissionError):
        TimelineEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.parametrize("sql", [
    "UPDATE incidents_timelineentry SET kind = 'note' WHERE id = %s",
    "DELETE FROM incidents_timelineentry WHERE id = %s",
])
def test_the_database_refuses_raw_sql_that_changes_an_entry(entry, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert TimelineEntry.objects.get(pk=entry.pk).kind == entry.kind


def test_the_admin_shows_the_timeline_but_offers_no_edit(admin_client, entry):
    assert admin_client.get("/admin/incidents/timelineentry/").status_code == 200
    assert admin_client.get(f"/admin/incidents/timelineentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/incidents/incident/{entry.incident_id}/change/").status_code == 200
    assert admin_client.post(f"/admin/incidents/timelineentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert TimelineEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_test_runners_flush_empties_the_timeline_and_leaves_it_append_only(shipped_plan, make_person):
    """Transactional tests end with a flush; on SQLite the append-only DELETE trigger refused it (conftest.py)."""
    services.log_fault(reporter=make_person("duty_staff"), category="network", level="blue", title="Line down")

    call_command("flush", verbosity=0, interactive=False)

    assert not TimelineEntry.objects.exists()
    plan_services.load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    incident = services.log_fault(reporter=make_person("duty_staff"), category="network", level="blue",
                                  title="Line down again")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM incidents_timelineentry WHERE incident_id = %s", [incident.pk])
    assert incident.timeline.exists()
