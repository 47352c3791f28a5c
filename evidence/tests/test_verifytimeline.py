"""manage.py verifytimeline: exit 0 when every chain is intact, else non-zero naming the first entry that does not match."""

import pytest
from django.core.management import CommandError, call_command

from incidents import timeline
from incidents.models import TimelineEntry, TimelineKind
from incidents.tests.tampering import rewrite_detail, tamper

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("verifytimeline", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_intact_chains_verify(open_incident):
    for _ in range(3):
        incident = open_incident()
        timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "ok"})
    out, err = run()
    assert "3 timeline chains verified" in out and err == ""


def test_a_row_changed_in_the_database_past_the_trigger_is_caught_and_named(open_incident):
    intact, incident = open_incident(), open_incident()
    note = timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "restarted the core switch at 10:02"})
    timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "service back"})
    run()  # intact before
    rewrite_detail(note.pk, {"text": "restarted the core switch at 09:02"})
    with pytest.raises(CommandError) as refused:
        run()
    message = str(refused.value)
    assert f"incident {incident.pk}: entry {note.pk} (note, " in message
    assert note.at.strftime("%Y-%m-%dT%H:%M:%S") in message
    assert "1 of 2 timeline chains do not verify" in message
    run("--incident", str(intact.pk))  # the other incident's chain still verifies on its own


def test_a_changed_actor_is_caught(open_incident):
    incident = open_incident()
    first = TimelineEntry.objects.filter(incident=incident).order_by("id").first()
    tamper("UPDATE incidents_timelineentry SET actor_label = %s WHERE id = %s", ["someone else", first.pk])
    with pytest.raises(CommandError, match=f"entry {first.pk} \\(opened"):
        run("--incident", str(incident.pk))


def test_the_command_exits_non_zero_from_the_shell(open_incident):
    incident = open_incident()
    first = TimelineEntry.objects.filter(incident=incident).order_by("id").first()
    rewrite_detail(first.pk, {"level": "red"})
    with pytest.raises(SystemExit) as exited:
        from django.core.management import ManagementUtility

        ManagementUtility(["manage.py", "verifytimeline", "--incident", str(incident.pk)]).execute()
    assert exited.value.code != 0


def test_an_unknown_incident_is_named(db):
    with pytest.raises(CommandError, match="no incident 424242"):
        run("--incident", "424242")
