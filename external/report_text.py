"""The report to an outside party: its sections prefilled from the incident, and the document that is sent.

The report is written in Chinese, in the structure such reports to the People's Bank usually have
(发生时间, 影响系统及业务, 预警级别, 原因（初步）, 已采取措施, 预计恢复时间, 联系人及电话), whatever the
language of the person filling it in: it goes to a Chinese regulator. A progress (written) or final report
starts from the previous stage's text, so the office only edits what changed.
"""

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.documents import Document, Facts, Heading, Paragraph
from notifications.announcements import COLOURS_ZH

from .models import REPORT_FIELDS, CallOut, ExternalReport, Party, Stage

if TYPE_CHECKING:
    from incidents.models import Incident
    from people.models import Person

# Section labels: the form's (in the reader's language) and the document's (always Chinese).
LABELS = {
    "occurred_at": _("Time of occurrence"),
    "affected": _("Systems and business affected"),
    "level": _("Warning level"),
    "cause": _("Cause (preliminary)"),
    "measures": _("Measures taken"),
    "expected_recovery": _("Expected recovery"),
    "contact": _("Contact and phone"),
}
LABELS_ZH = {
    "occurred_at": "发生时间",
    "affected": "影响系统及业务",
    "level": "预警级别",
    "cause": "原因（初步）",
    "measures": "已采取措施",
    "expected_recovery": "预计恢复时间",
    "contact": "联系人及电话",
}
STAGE_ZH: dict[str, str] = {Stage.INITIAL: "初次报告", Stage.WRITTEN: "书面报告", Stage.FINAL: "最终报告"}
PREVIOUS_STAGE: dict[str, tuple[str, ...]] = {Stage.WRITTEN: (Stage.INITIAL,), Stage.FINAL: (Stage.WRITTEN, Stage.INITIAL)}


def _time_zh(at: Any) -> str:
    return timezone.localtime(at).strftime("%Y年%m月%d日 %H:%M") if at else ""


def prefilled(incident: "Incident", *, party_key: str, stage: str, person: "Person | None") -> dict[str, str]:
    """The sections to start from: the saved draft of this stage, else the previous stage's text, else the incident."""
    reports = {r.stage: r for r in ExternalReport.objects.filter(incident=incident, party_key=party_key)}
    own = reports.get(stage)
    if own is not None and own.facts:
        return {field: str(own.facts.get(field, "")) for field in REPORT_FIELDS}
    for previous in PREVIOUS_STAGE.get(stage, ()):
        earlier = reports.get(previous)
        if earlier is not None and earlier.facts:
            facts = {field: str(earlier.facts.get(field, "")) for field in REPORT_FIELDS}
            # The level and the recovery may have moved on since: those two are the incident's facts now.
            fresh = from_incident(incident, person=person)
            facts["level"], facts["expected_recovery"] = fresh["level"], fresh["expected_recovery"]
            return facts
    return from_incident(incident, person=person)


def from_incident(incident: "Incident", *, person: "Person | None") -> dict[str, str]:
    level, category = incident.level, incident.category
    affected = f"{category.name_zh}故障：{incident.title}。"
    if incident.description:
        affected += incident.description.strip()
    if incident.affected_branches is not None:
        total = f"（共{incident.total_branches}个）" if incident.total_branches else ""
        affected += f"受影响网点{incident.affected_branches}个{total}。"
    measures = [f"已按《{incident.plan_version.name_zh}》启动{level.name_zh}响应，应急办公室协调处置。"]
    for callout in CallOut.objects.filter(incident=incident).select_related("party"):
        ticket = f"，工单号{callout.ticket}" if callout.ticket else ""
        measures.append(f"已于{_time_zh(callout.called_at)}通知{callout.party.name_zh}{ticket}。")
    if incident.recovered_at:
        recovery = f"已于{_time_zh(incident.recovered_at)}恢复。"
    else:
        recovery = "正在处置中，恢复后续报。"
    if incident.resolution_summary:
        measures.append(incident.resolution_summary.strip())
    contact = ""
    if person is not None and person.is_authenticated:
        contact = " ".join(part for part in (person.display_name, person.phone) if part)
    return {
        "occurred_at": _time_zh(incident.discovered_at or incident.opened_at),
        "affected": affected,
        "level": f"{level.name_zh}（{COLOURS_ZH.get(level.key, level.key)}）",
        "cause": "初步排查中。",
        "measures": "\n".join(measures),
        "expected_recovery": recovery,
        "contact": contact,
    }


def report_text(facts: dict[str, Any]) -> str:
    """The report as plain text (the API's ``text``), section by section."""
    return "\n".join(f"{LABELS_ZH[field]}：{facts.get(field, '')}" for field in REPORT_FIELDS if facts.get(field))


def report_document(incident: "Incident", *, party: Party | None, party_key: str, stage: str,
                    facts: dict[str, Any]) -> Document:
    recipient = party.name_zh if party is not None else party_key
    drill = "【演练】" if incident.is_drill else ""
    return Document(
        title=f"{drill}关于“{incident.title}”的{STAGE_ZH.get(stage, stage)}",
        subtitle=f"报送：{recipient}",
        blocks=[
            Facts([(LABELS_ZH[field], str(facts.get(field, ""))) for field in ("occurred_at", "level")]),
            *[block for field in ("affected", "cause", "measures", "expected_recovery")
              for block in (Heading(LABELS_ZH[field]), Paragraph(str(facts.get(field, ""))))],
            Facts([(LABELS_ZH["contact"], str(facts.get("contact", "")))]),
        ],
        footer=f"事件编号 #{incident.pk} · 报送单位应急办公室",
    )
