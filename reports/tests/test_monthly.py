"""The monthly leadership report: its PDF's text read back, its DOCX, the command, and beat sending it once to
the roles the plan gives ``monthly_report`` (the leadership group and the office)."""

import io
from datetime import timedelta
from email import message_from_bytes

import docx
import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from drills.models import Attendance, Drill, TrainingSession
from escalation.models import Kind, State
from incidents.models import TimelineEntry, TimelineKind
from people.models import Person
from reports.models import MonthlyReport
from reports.monthly import render
from reports.tasks import monthly_report_due, send_monthly_report

from .build import at, deadline, incident, level_change

pytestmark = pytest.mark.django_db


def pdf_text(data):
    """The PDF's text with every run of white space (a table cell's wrapped line) as one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def squeezed(text):
    return "".join(text.split())


@pytest.fixture
def november(shipped_plan):
    v = shipped_plan
    a = incident(v, level="yellow", opened=at("2026-11-02 10:00"), ack=120, resolved=3600, title="Savings host slow")
    red = incident(v, category="network", level="red", opened=at("2026-11-09 09:00"), ack=300, recovered=5400,
                   resolved=7200, title="Backbone line down")
    TimelineEntry.objects.create(incident=red, at=red.opened_at, kind=TimelineKind.OPENED, detail={})
    level_change(red, frm="orange", to="red", cause="plan", after=600)
    TimelineEntry.objects.create(incident=red, at=red.opened_at + timedelta(hours=2), kind=TimelineKind.RESOLVED,
                                 detail={"summary": "Carrier replaced the backbone line card"})
    deadline(a, kind=Kind.ON_SITE, state=State.MET, role="ops_supervisor", due=3600, acted=1800)
    deadline(red, kind=Kind.ON_SITE, state=State.MISSED, role="network_maintainer", due=1800)
    drill_incident = incident(v, level="orange", opened=at("2026-11-20 15:00"), ack=60, resolved=600, drill=True,
                              title="Quarterly core host drill")
    Drill.objects.create(title="Quarterly core host drill", category_key="system", level_key="orange",
                         starts_at=drill_incident.opened_at, started_at=drill_incident.opened_at,
                         ended_at=drill_incident.resolved_at, status="ended", incident=drill_incident,
                         scorecard={"items": [], "score": 75})
    session = TrainingSession.objects.create(title="Network emergency procedure", held_at=at("2026-11-25 14:00"))
    for n in range(3):
        Attendance.objects.create(session=session, person=Person.objects.create_user(username=f"trainee-{n}"))
    TrainingSession.objects.create(title="October awareness", held_at=at("2026-10-25 14:00"))
    incident(v, level="red", opened=at("2026-10-30 10:00"), title="October outage")  # another month
    return {"a": a, "red": red}


def test_the_pdf_in_chinese_has_the_figures_the_severe_incidents_and_the_drills(november):
    text = squeezed(pdf_text(render("2026-11", fmt="pdf", language="zh-hans")))

    assert "应急处置月度报告" in text and "2026年11月" in text
    assert "事件2" in text  # the summary: two incidents (the drill and October left out)
    assert "#{}Backbonelinedown".format(november["red"].pk) in text
    assert "Savingshostslow" not in text.split("橙色及红色事件")[1].split("演练")[0]  # yellow: figures only
    assert "Octoberoutage" not in text
    assert "Carrierreplacedthebackbonelinecard" in text
    assert "Quarterlycorehostdrill" in text
    assert "时限遵守率" in text
    assert "50.0%（2项中1项）" in text  # one of the two on-site deadlines kept


def test_the_pdf_in_english_reads_in_english(november):
    text = pdf_text(render("2026-11", fmt="pdf", language="en"))

    assert "Monthly emergency response report" in text and "November 2026" in text
    assert "Orange and red incidents" in text and "Backbone line down" in text
    assert "Time to acknowledge (median / p90)" in text
    assert "3.5 min / 4.7 min" in text  # 120 s and 300 s: median 210 s, p90 120 + 0.9 × 180 = 282 s
    assert "Drills held" in text and "Quarterly core host drill" in text and "Ended 75" in text
    assert "Training held" in text and "Network emergency procedure Training 3" in text
    assert "October awareness" not in text
    assert "应急" not in text


def test_the_docx_has_the_same_sections_and_a_picture_per_chart(november):
    document = docx.Document(io.BytesIO(render("2026-11", fmt="docx", language="en")))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)

    assert "Monthly emergency response report" in paragraphs and "Orange and red incidents" in paragraphs
    assert "Backbone line down" in paragraphs and "Carrier replaced the backbone line card" in cells
    assert len(document.inline_shapes) == 9  # the twelve-month trend and eight charts (reviews and remediation too)


def test_an_empty_month_makes_a_report_that_says_no_incidents(shipped_plan):
    text = pdf_text(render("2025-02", fmt="pdf", language="en"))

    assert "No incidents this month." in text
    assert "No orange or red incident this month." in text
    assert "No drill this month." in text and "No training this month." in text


def test_the_command_writes_the_file_and_refuses_a_month_that_does_not_exist(november, tmp_path, capsys):
    out = tmp_path / "report.pdf"
    call_command("monthlyreport", "2026-11", "--format", "pdf", "--output", str(out), "--language", "en")

    assert "Backbone line down" in pdf_text(out.read_bytes())
    call_command("monthlyreport", "2026-11", "--format", "docx", "--output", str(tmp_path / "r.docx"))
    assert docx.Document(str(tmp_path / "r.docx")).paragraphs
    for bad in ("2026-13", "2026-1", "November", "2026-11-01"):
        with pytest.raises(CommandError, match="YYYY-MM"):
            call_command("monthlyreport", bad, "--output", str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()


def test_beat_sends_last_months_report_once_to_the_leadership_group_and_the_office(november, make_person, smtp):
    make_person("leadership", username="chen", email="chen@example.test", language="zh-hans")
    make_person("office", username="li", email="li@example.test", language="en")
    make_person("ops_supervisor", username="wang", email="wang@example.test")  # not a reader of the report

    assert monthly_report_due(at("2026-12-01 07:59")) is None  # before the office's day starts
    assert monthly_report_due(at("2026-12-01 08:00")) == "2026-11"
    assert send_monthly_report("2026-11") == "2026-11"
    assert send_monthly_report("2026-11") is None  # a second beat, a retried task: nothing more
    assert monthly_report_due(at("2026-12-03 10:00")) is None

    assert MonthlyReport.objects.get().recipients == ["chen", "li"]
    by_address = {tuple(m.rcpt_tos): message_from_bytes(m.content) for m in smtp.messages}
    assert set(by_address) == {("chen@example.test",), ("li@example.test",)}
    english = by_address[("li@example.test",)]
    assert "monthly emergency response report, 2026-11" in english["Subject"]
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in english.walk()
                   if part.get_filename()}
    assert set(attachments) == {"fenghuo-monthly-2026-11.pdf", "fenghuo-monthly-2026-11.docx"}
    assert "Backbone line down" in pdf_text(attachments["fenghuo-monthly-2026-11.pdf"])
    chinese = by_address[("chen@example.test",)]
    pdf = next(part.get_payload(decode=True) for part in chinese.walk() if part.get_filename())
    assert "应急处置月度报告" in squeezed(pdf_text(pdf))


def test_a_mail_server_that_refuses_leaves_the_month_to_send_again(november, make_person, settings):
    make_person("office", username="li", email="li@example.test")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1  # nothing listens

    with pytest.raises(OSError):
        send_monthly_report("2026-11")
    assert not MonthlyReport.objects.exists()


def test_the_report_lists_the_remediation_actions_still_open_of_real_incidents_and_of_assets(november):
    from django.utils import timezone

    from assets.models import Asset
    from reviews.models import Action, ActionStatus

    owner = Person.objects.create_user(username="zhang", first_name="三", last_name="张")
    drill = incident(november["red"].plan_version, level="orange", opened=at("2026-11-21 15:00"), drill=True)
    Action.objects.create(incident=november["red"], title="Second carrier for the backbone", owner=owner,
                          due_at=timezone.now() - timedelta(days=1))
    Action.objects.create(incident=november["a"], title="Done already", owner=owner, due_at=timezone.now(),
                          status=ActionStatus.DONE, closed_at=timezone.now(), evidence="CR-1")
    Action.objects.create(incident=drill, title="Drill follow-up", owner=owner, due_at=timezone.now())
    ups = Asset.objects.create(tag="UPS-02", name="UPS B", kind="ups", category="equipment")
    Action.objects.create(asset=ups, title="Replace the battery string", owner=owner, due_at=timezone.now())

    text = pdf_text(render("2026-11", fmt="pdf", language="en")).split("Open remediation items")[1]
    assert f"#{november['red'].pk} Second carrier for the backbone" in text and "overdue" in text
    assert "Done already" not in text and "Drill follow-up" not in text
    assert "UPS-02 Replace the battery string" in text


def test_with_no_open_action_the_report_says_so(shipped_plan):
    assert "没有未完成的整改措施" in squeezed(pdf_text(render("2025-02", fmt="pdf", language="zh-hans")))
