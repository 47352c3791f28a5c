"""Issue 19's "Done when": an orange system fault and the People's Bank, a vendor late on site.

The shipped plan (orange: initial 1 h, written 24 h, final 5 d after resolution, awaiting confirmation),
the engine's own sweep on a frozen clock, the office's real email through a real SMTP server, and the
DOCX read back with python-docx.
"""

import email
import email.header
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import docx
import pytest
import time_machine

from escalation import services as engine
from escalation.models import Deadline, Kind, State
from external import services as external
from external.models import Contact, ExternalReport, Party
from external.report_text import prefilled, report_document
from incidents import services as incidents
from incidents.models import TimelineEntry, TimelineKind
from notifications.delivery import deliver_due
from notifications.models import Ask, Notification

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def office_and_parties(settings, shipped_plan, make_person):
    settings.ESCALATION_ETA_TASKS = False
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    settings.EXTERNAL_REMINDER_BEFORE_SECONDS = 600
    office = make_person("office", username="office-li", full_name="李明", phone="0591-8888", language="zh-hans",
                         email="office@bank.test")
    pboc = Party.objects.create(key="pboc", kind="regulator", name_en="People's Bank branch", name_zh="人民银行福州中心支行")
    Contact.objects.create(party=pboc, name="王科长", phone="0591-1111")
    vendor = Party.objects.create(key="sysvendor", kind="vendor", name_en="Core system vendor", name_zh="核心系统厂商",
                                  categories=["system"], arrival_within=timedelta(hours=2))
    Contact.objects.create(party=vendor, name="Engineer Zhao", mobile="13800000000")
    return office, vendor


def at(delta):
    return time_machine.travel(T0 + delta, tick=False)


def told_office(office, deadline):
    return Notification.objects.filter(person=office, event=f"deadline:{deadline.pk}")


def test_an_orange_system_fault_runs_the_peoples_bank_duties_and_a_late_vendor_is_reported(office_and_parties, smtp):
    office, vendor = office_and_parties
    with at(timedelta(0)):
        incident = incidents.log_fault(reporter=office, category="system", level="orange",
                                       title="储蓄系统交易堵塞", description="全省网点无法办理储蓄业务。")
        incidents.acknowledge(incident, actor=office)
    reports = {r.stage: r for r in ExternalReport.objects.filter(incident=incident, party_key="pboc")}
    assert set(reports) == {"initial", "written", "final"}
    assert reports["initial"].due_at == T0 + timedelta(hours=1)
    assert reports["written"].due_at == T0 + timedelta(hours=24)
    assert reports["final"].due_at is None and not reports["initial"].confirmed

    with at(timedelta(minutes=1)):
        callout = external.callout_create(incident=incident, party=vendor, caller=office, ticket="SR-2026-1203")
    assert callout.promised_by == T0 + timedelta(hours=2, minutes=1)

    # Ten minutes before the initial notice is due, the office is reminded.
    with at(timedelta(minutes=50, seconds=1)):
        engine.sweep()
    reminder = Deadline.objects.get(incident=incident, kind=Kind.EXTERNAL_REMINDER, subject="external:pboc:initial")
    assert reminder.state == State.FIRED
    assert told_office(office, reminder).get().ask == Ask.FYI

    # The initial notice is filed in time: its deadline is met, on the timeline.
    with at(timedelta(minutes=55)):
        external.report_send(incident=incident, party_key="pboc", stage="initial", sent_at=T0 + timedelta(minutes=54),
                             channel="phone", reference="人行-001", author=office,
                             facts=prefilled(incident, party_key="pboc", stage="initial", person=office))
    initial = Deadline.objects.get(pk=reports["initial"].deadline_id)
    assert initial.state == State.MET and initial.acted_at == T0 + timedelta(minutes=54)
    sent = TimelineEntry.objects.get(incident=incident, kind=TimelineKind.EXTERNAL_REPORT_SENT)
    assert (sent.detail["stage"], sent.detail["channel"], sent.detail["late"]) == ("initial", "phone", False)

    # The vendor does not arrive by its promised time: the office is told.
    with at(timedelta(hours=2, minutes=2)):
        engine.sweep()
    arrival = Deadline.objects.get(pk=callout.deadline_id)
    assert arrival.state == State.MISSED
    missed_arrival = TimelineEntry.objects.get(deadline=arrival)
    assert missed_arrival.kind == TimelineKind.DEADLINE_MISSED and missed_arrival.detail["ticket"] == "SR-2026-1203"
    assert told_office(office, arrival).get().ask == Ask.MISSED

    # The written report is missed: the office is told, by email through the real SMTP server too.
    smtp.messages.clear()
    with at(timedelta(hours=24, seconds=1)):
        engine.sweep()
        deliver_due()
    written = Deadline.objects.get(pk=reports["written"].deadline_id)
    assert written.state == State.MISSED
    entry = TimelineEntry.objects.get(deadline=written)
    assert (entry.detail["party"], entry.detail["stage"], entry.detail["reported_to"]) == ("pboc", "written", ["office"])
    notice = told_office(office, written).get()
    assert notice.ask == Ask.MISSED and "人民银行福州中心支行" in notice.body
    mails = [m for m in smtp.messages if m.rcpt_tos == ["office@bank.test"]]
    bodies = [email.message_from_bytes(m.content).get_payload(decode=True).decode() for m in mails]
    assert any("人民银行福州中心支行" in body for body in bodies)

    # Resolution starts the final report's clock; it is filed in time, starting from the previous text.
    with at(timedelta(hours=30)):
        incidents.resolve(incident, actor=office, summary="更换故障存储控制器后恢复。")
    final = ExternalReport.objects.get(incident=incident, party_key="pboc", stage="final")
    assert final.due_at == T0 + timedelta(hours=30) + timedelta(days=5)
    with at(timedelta(days=2)):
        facts = prefilled(incident, party_key="pboc", stage="final", person=office)
        external.report_send(incident=incident, party_key="pboc", stage="final", sent_at=T0 + timedelta(days=2),
                             channel="online", reference="人行-003", author=office, facts=facts)
    assert Deadline.objects.get(pk=final.deadline_id).state == State.MET
    assert facts["affected"].startswith("系统故障：储蓄系统交易堵塞") or "储蓄系统交易堵塞" in facts["affected"]

    # The report opens in python-docx and carries the incident's facts in Chinese.
    document = report_document(incident, party=Party.objects.get(key="pboc"), party_key="pboc", stage="initial",
                               facts=ExternalReport.objects.get(incident=incident, stage="initial").facts)
    from core.documents import render_docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(render_docx(document))).paragraphs)
    tables = "\n".join(cell.text for t in docx.Document(io.BytesIO(render_docx(document))).tables
                       for row in t.rows for cell in row.cells)
    everything = text + "\n" + tables
    for expected in ("储蓄系统交易堵塞", "全省网点无法办理储蓄业务", "严重预警", "发生时间", "影响系统及业务",
                     "已采取措施", "联系人及电话", "李明 0591-8888", "2026年12月03日 09:00", "人民银行福州中心支行",
                     "核心系统厂商"):
        assert expected in everything, expected

    # The evidence pack carries the reports owed and made and the late call-out, in the reader's language.
    from django.utils import translation

    from core.documents import Table
    from evidence.pack import build

    with translation.override("zh-hans"):
        pack = build(incident)
    rows = [row for block in pack.blocks if isinstance(block, Table) for row in block.rows]
    initial_row = next(r for r in rows if "人行-001" in r)
    assert "初次报告" in initial_row and "电话" in " ".join(initial_row)
    written_row = next(r for r in rows if "人民银行福州中心支行" in r[0] and r[1] == "书面报告")
    assert "已超时" in written_row
    assert any("人行-003" in r and "最终报告" in r for r in rows)
    callout_row = next(r for r in rows if "SR-2026-1203" in r)
    assert "已超时" in callout_row  # promised by two hours, never arrived
