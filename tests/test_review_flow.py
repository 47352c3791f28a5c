"""From resolution to archive with real processes (issue 16): the review drafted with its figures, written,
submitted and approved; a remediation action falls due and a real Celery worker tells its owner and the office
by email through a real SMTP server; archiving waits for the action; afterwards the incident is read-only.

The lead joins this to the alert → resolution flow; it starts where that one ends.
"""

import email
from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Deadline, Kind, State
from incidents import services
from incidents.models import TimelineKind
from notifications.tests.receivers import start_smtp
from tests.support.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

WRITTEN = {"summary": "Credit queries timed out.", "impact": "Two branches, 40 minutes.",
           "root_cause": "Pool exhausted.", "went_wrong": "No pool alert.", "lessons": "Alert at 80 %."}


@pytest.fixture
def mail():
    controller, sink = start_smtp()
    yield controller, sink
    controller.stop()


def test_resolved_to_archived_with_an_overdue_action_told_by_email_through_a_real_worker(
        celery_processes, mail, open_incident, make_person, api_client_for):
    controller, sink = mail
    celery_processes.env["EMAIL_URL"] = f"smtp://127.0.0.1:{controller.port}"
    office = make_person("office", username="office", language="en", email="office@bank.test")
    leader = make_person("leadership", username="leader", language="en")
    tech = make_person("tech_group", username="tech", language="en", email="tech@bank.test")
    celery_processes.start_worker()
    celery_processes.start_beat()

    incident = open_incident(level="yellow", category="system")
    services.acknowledge(incident, actor=tech)
    services.check_in(incident, actor=tech)
    services.resolve(incident, actor=tech, summary="Restarted the query service.")
    as_office, as_leader, as_tech = api_client_for(office), api_client_for(leader), api_client_for(tech)
    base = f"/api/v1/incidents/{incident.pk}"

    drafted = as_office.get(f"{base}/review/").json()
    assert drafted["status"] == "draft" and drafted["figures"]["deadlines_met"] == 1
    assert drafted["figures"]["time_to_acknowledge_s"] is not None
    assert as_office.put(f"{base}/review/", WRITTEN, format="json").status_code == 200
    assert as_office.post(f"{base}/review/submit/").json()["status"] == "submitted"
    assert as_leader.post(f"{base}/review/approve/").json()["status"] == "approved"

    due = timezone.now() + timedelta(seconds=3)
    action = as_office.post(f"{base}/actions/", {"title": "Alert on pool usage", "owner": "tech",
                                                 "due_at": due.isoformat()}, format="json").json()

    def emailed():
        return {address for envelope in sink.messages for address in envelope.rcpt_tos} >= {"tech@bank.test",
                                                                                             "office@bank.test"}

    assert wait_until(emailed, timeout=60), celery_processes.log_text("w1").decode()[-3000:]
    first = Deadline.objects.get(kind=Kind.REMEDIATION, subject=f"action:{action['id']}", state=State.MISSED)
    assert first.acted_at >= first.due_at
    bodies = [email.message_from_bytes(e.content).get_payload(decode=True).decode() for e in sink.messages]
    assert any(f"Remediation action #{action['id']} is overdue" in body for body in bodies)
    assert incident.timeline.filter(kind=TimelineKind.ACTION_OVERDUE).count() == 1
    assert as_office.get("/api/v1/actions/?overdue=true").json()["results"][0]["id"] == action["id"]

    blocked = as_office.post(f"{base}/archive/")
    assert blocked.status_code == 409 and "still open" in blocked.json()["detail"]
    assert as_tech.post(f"/api/v1/actions/{action['id']}/done/", {"evidence": "CR-1024"},
                        format="json").status_code == 200
    assert not Deadline.objects.filter(subject=f"action:{action['id']}", state=State.PENDING).exists()

    archived = as_office.post(f"{base}/archive/")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    late = as_office.post(f"{base}/notes/", {"text": "one more thing"}, format="json")
    assert late.status_code == 409 and "archived" in late.json()["detail"]

    # The archived record, exported (issue 16, item 6): PDF and DOCX, the Chinese text read back out of the
    # files, and the pack's final hash the chain the API verifies.
    import io

    import docx
    import pypdf
    from django.utils import translation

    from evidence import pack

    chain = as_office.get(f"{base}/").json()["chain"]
    assert chain["verified"] is True
    with translation.override("zh-hans"):
        pdf = pack.export(incident, file_format="pdf")
        word = pack.export(incident, file_format="docx")
    pdf_text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    word_text = "".join(p.text for p in docx.Document(io.BytesIO(word.data)).paragraphs)
    for text in (pdf_text, word_text):
        assert "证据包" in text and "整改措施" in text and "CR-1024" in text
    assert chain["last_hash"] in "".join(pdf_text.split())
    assert pdf.content_digest == word.content_digest
    exported = as_office.get(f"/api/v1/incidents/{incident.pk}/export", {"format": "pdf"})
    assert exported.status_code == 200 and exported.content.startswith(b"%PDF")
