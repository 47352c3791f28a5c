"""The monthly leadership report: one month's figures, its charts drawn on the server, every orange and red
incident with its timeline summary, and the drills held; a ``core.documents.Document`` in the reader's
language, rendered to PDF or DOCX.

Drills and training sessions come from the drills app; open remediation items from the after-incident
reviews (reviews app), as they stand when the report is made (docs/reports.md).
"""

from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.documents import Document, Facts, Figure, Heading, PageBreak, Paragraph, Table, render_docx, render_pdf
from drills.models import Drill, TrainingSession
from incidents.models import Incident, TimelineKind
from incidents.timeline_text import Names, actor_text, entry_text
from plan.document import LEVEL_RANKS
from plan.models import PlanVersion
from reviews.selectors import open_actions

from .chart_image import render_png, render_svg
from .filters import ReportFilter, add_months, month_filter
from .selectors import incident_counts, summary
from .tables import Chart, Labels, charts, minutes, percent

FORMATS = ("pdf", "docx")
# The leadership reads these levels one by one (plan 3.1.2: orange and above go to the leadership group).
SEVERE_RANK = LEVEL_RANKS["orange"]
# What a leader needs from a timeline; notifications and cancelled deadlines are there in the evidence pack.
SUMMARY_KINDS = [k for k in TimelineKind.values if k not in (TimelineKind.NOTIFIED, TimelineKind.DEADLINE_CANCELLED,
                                                              TimelineKind.ALERT, TimelineKind.UPDATED)]
CHARTS_IN_REPORT = ("by_category_level", "response_times", "on_site", "compliance_kind", "compliance_cell",
                    "escalations", "channels", "reviews")


def _when(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else "—"


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


def _minutes_text(seconds: float | None) -> str:
    value = minutes(seconds)
    return "—" if value is None else _("%(n)s min") % {"n": value}


def _figure(chart: Chart) -> list[Any]:
    return [Heading(chart.title, 3), Figure(svg=render_svg(chart), png=render_png(chart)),
            Table([str(h) for h in chart.headers], [[_cell(v) for v in row] for row in chart.rows]
                  or [[chart.empty_text or _("No incidents")] + [""] * (len(chart.headers) - 1)])]


def _summary_facts(figures: dict[str, Any], labels: Labels) -> Facts:
    by_level: dict[str, int] = {}
    for row in figures["by_category_level"]:
        by_level[row["level"]] = by_level.get(row["level"], 0) + row["count"]
    compliance = figures["deadline_compliance"]
    escalations = sum(figures["escalations_by_cause"].values())
    items = [(_("Incidents"), str(figures["incidents"]))]
    items += [(labels.level(key), str(by_level.get(key, 0))) for key in sorted(LEVEL_RANKS, key=lambda k: LEVEL_RANKS[k])]
    items += [
        (_("Time to acknowledge (median / p90)"),
         f"{_minutes_text(figures['mtta_s']['median'])} / {_minutes_text(figures['mtta_s']['p90'])}"),
        (_("Time to recover (median / p90)"),
         f"{_minutes_text(figures['mttr_s']['median'])} / {_minutes_text(figures['mttr_s']['p90'])}"),
        (_("Time to resolve (median / p90)"),
         f"{_minutes_text(figures['mttr_resolved_s']['median'])} / "
         f"{_minutes_text(figures['mttr_resolved_s']['p90'])}"),
        (_("Deadlines kept"), "—" if compliance["share"] is None else
         _("%(share)s%% (%(met)d of %(total)d)") % {"share": percent(compliance["share"]), "met": compliance["met"],
                                                    "total": compliance["total"]}),
        (_("Escalations"), str(escalations)),
        (_("Reviews approved / remediation actions done"),
         f"{figures['reviews']['approved']} / {figures['remediation']['done']}"),
        (_("Remediation actions overdue now"), str(figures["remediation"]["overdue"])),
    ]
    return Facts(items)


def _severe_incidents(f: ReportFilter, labels: Labels) -> list[Any]:
    severe = [key for key, rank in LEVEL_RANKS.items() if rank <= SEVERE_RANK]
    incidents = list(Incident.objects.filter(f.incident_q(), level__key__in=severe).with_plan()
                     .prefetch_related("timeline__actor").order_by("opened_at"))
    blocks: list[Any] = [Heading(_("Orange and red incidents"))]
    if not incidents:
        return [*blocks, Paragraph(_("No orange or red incident this month."), muted=True)]
    for incident in incidents:
        names = Names.for_incident(incident)
        blocks.append(Heading(f"#{incident.pk} {incident.title}", 3))
        blocks.append(Facts([
            (_("Category"), labels.category(incident.category.key)), (_("Level"), labels.level(incident.level.key)),
            (_("Status"), str(incident.get_status_display())), (_("Opened"), _when(incident.opened_at)),
            (_("Taken on"), _when(incident.acknowledged_at)), (_("Recovered"), _when(incident.recovered_at)),
            (_("Resolved"), _when(incident.resolved_at)),
        ]))
        rows = [[_when(entry.at), entry_text(entry, names), actor_text(entry) or "—"]
                for entry in incident.timeline.all() if entry.kind in SUMMARY_KINDS]
        blocks.append(Table([_("When"), _("Timeline entry"), _("By whom")], rows, widths=[1.2, 4, 1.2]))
    return blocks


def _drills(f: ReportFilter, labels: Labels) -> list[Any]:
    """The drills started this month, with their scores, and the training sessions held (drills app)."""
    drills = list(Drill.objects.filter(started_at__gte=f.start, started_at__lt=f.end).order_by("started_at"))
    sessions = list(TrainingSession.objects.filter(held_at__gte=f.start, held_at__lt=f.end)
                    .annotate(attendees=Count("attendances")).order_by("held_at"))
    blocks: list[Any] = [Heading(_("Drills held"))]
    if drills:
        rows = [[_when(d.started_at), d.title, labels.category(d.category_key), labels.level(d.level_key),
                 str(d.get_status_display()), _cell((d.scorecard or {}).get("score"))] for d in drills]
        blocks.append(Table([_("When"), _("Drill"), _("Category"), _("Level"), _("Status"), _("Score")], rows))
    else:
        blocks.append(Paragraph(_("No drill this month."), muted=True))
    blocks.append(Heading(_("Training held")))
    if sessions:
        rows = [[_when(t.held_at), t.title, str(t.get_kind_display()), str(t.attendees)] for t in sessions]
        blocks.append(Table([_("When"), _("Title"), _("Kind"), _("Attendees")], rows))
    else:
        blocks.append(Paragraph(_("No training this month."), muted=True))
    return blocks


def _open_actions() -> list[Any]:
    """Every remediation action still open when the report is made, oldest due first: those of real incidents
    and those of an asset alone (an inspection finding's), never a drill's."""
    now = timezone.now()
    rows = [[f"#{a.incident_id}" if a.incident_id else (a.asset.tag if a.asset else ""), a.title,
             a.owner.get_full_name() or a.owner.get_username(),
             date_format(timezone.localtime(a.due_at), "Y-m-d H:i"), _("overdue") if a.due_at < now else ""]
            for a in open_actions().filter(Q(incident__isnull=True) | Q(incident__is_drill=False))]
    blocks: list[Any] = [Heading(_("Open remediation items"))]
    if rows:
        blocks.append(Table([_("Incident or asset"), _("Action"), _("Owner"), _("Due"), _("Overdue")], rows,
                            widths=[0.8, 4, 1.2, 1.4, 0.8]))
    else:
        blocks.append(Paragraph(_("No remediation item is open."), muted=True))
    return blocks


def monthly_document(month: str, *, language: str = "zh-hans") -> Document:
    """The report for ``month`` (YYYY-MM) in ``language``; ValidationError naming ``month`` for a bad one."""
    f = month_filter(month)
    with translation.override(language):
        labels = Labels.from_plan()
        figures = summary(f)
        by_key = {chart.key: chart for chart in charts(figures, labels)}
        first = f.first_day
        trend = charts({**figures, **incident_counts(ReportFilter(
            start=timezone.make_aware(datetime.combine(add_months(first, -11), datetime.min.time())), end=f.end))},
            labels)[0]
        trend.title = _("Incidents by month, the last twelve months")
        version = PlanVersion.objects.filter(is_active=True).first()
        period = date_format(first, "F Y") if not language.startswith("zh") else f"{first.year}年{first.month}月"
        blocks: list[Any] = [
            Heading(_("Summary")), _summary_facts(figures, labels),
            Paragraph(_("Drills are left out of every figure. Durations are in minutes; medians and p90 are over "
                        "the incidents opened this month."), muted=True),
        ]
        if figures["incidents"] == 0:
            blocks.append(Paragraph(_("No incidents this month.")))
        blocks.append(Heading(_("Charts")))
        blocks += _figure(trend)
        for key in CHARTS_IN_REPORT:
            blocks += _figure(by_key[key])
        blocks.append(PageBreak())
        blocks += _severe_incidents(f, labels)
        blocks += _drills(f, labels)
        blocks += _open_actions()
        return Document(
            title=_("Monthly emergency response report"),
            subtitle=f"{period} · {version.name if version else ''}".strip(" ·"),
            blocks=blocks, language=language,
            footer=_("Fenghuo monthly report · %(month)s") % {"month": month},
            author=_("Emergency office"),
        )


def render(month: str, *, fmt: str, language: str = "zh-hans") -> bytes:
    document = monthly_document(month, language=language)
    return render_pdf(document) if fmt == "pdf" else render_docx(document)
