"""The report's figures as named tables, in the reader's language: one per chart.

The page draws each as an ECharts chart with the same numbers in a table beside it, the CSV download
writes it, and the monthly report prints it and draws it as SVG. Durations are in minutes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escalation.models import Kind
from notifications.models import ChannelKind
from plan.document import LEVEL_RANKS
from plan.models import Category, Level, PlanVersion, Role

# Drawn with the plan's level colours; the rest take the chart library's palette.
CAUSES = {
    "plan": gettext_lazy("Plan time limit"),
    "alert": gettext_lazy("Monitoring alert"),
    "person": gettext_lazy("Person (worsening)"),
    "condition": gettext_lazy("Plan condition"),
}
DEFAULT_LEVEL_COLOURS = {"blue": "#1f6feb", "yellow": "#9a6700", "orange": "#bc4c00", "red": "#cf222e"}


@dataclass
class Series:
    name: str
    data: list[float | int | None]
    color: str = ""
    stack: str = ""


@dataclass
class Chart:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    x: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    unit: str = ""
    empty: bool = False
    # What an empty chart says: "No incidents" for an empty period, "No data" when only this chart has none.
    empty_text: str = ""

    def spec(self) -> dict[str, Any]:
        """What the page's script draws (reports.js)."""
        return {"key": self.key, "title": self.title, "x": self.x, "unit": self.unit, "empty": self.empty,
                "emptyText": self.empty_text,
                "series": [{"name": s.name, "data": s.data, "color": s.color, "stack": s.stack} for s in self.series]}


@dataclass
class Labels:
    """Names and colours from the active plan (three queries); keys it does not know read as themselves."""

    levels: dict[str, str]
    colours: dict[str, str]
    categories: dict[str, str]
    roles: dict[str, str]

    @classmethod
    def from_plan(cls) -> "Labels":
        version = PlanVersion.objects.filter(is_active=True).first()
        levels = list(Level.objects.filter(version=version)) if version else []
        return cls(
            levels={lv.key: lv.name for lv in levels},
            colours={**DEFAULT_LEVEL_COLOURS, **{lv.key: lv.color for lv in levels}},
            categories={c.key: c.name for c in Category.objects.filter(version=version)} if version else {},
            roles={r.key: r.name for r in Role.objects.filter(version=version)} if version else {},
        )

    def level(self, key: str) -> str:
        return self.levels.get(key, key)

    def category(self, key: str) -> str:
        return self.categories.get(key, key)

    def role(self, key: str) -> str:
        return self.roles.get(key, key) if key else _("(no role)")

    def cell(self, key: str) -> str:
        category, _sep, level = key.partition(":")
        return f"{self.category(category)} · {self.level(level)}"


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _level_series(labels: Labels, counts: list[dict[str, int]]) -> list[Series]:
    return [Series(labels.level(key), [c.get(key, 0) for c in counts], labels.colours.get(key, ""), "levels")
            for key in reversed(LEVEL_RANKS)]  # most severe first, as the plan lists them


def _compliance_chart(key: str, title: str, what: str, rows: dict[str, dict[str, Any]],
                      name: Callable[[str], str]) -> Chart:
    names = [name(k) for k in rows]
    return Chart(key, title, [what, _("Kept"), _("Decided"), _("Kept (%)")],
                 [[n, r["met"], r["total"], percent(r["share"])] for n, r in zip(names, rows.values(), strict=True)],
                 x=names, series=[Series(_("Kept (%)"), [percent(r["share"]) for r in rows.values()])], unit="%",
                 empty=not rows)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _reviews_chart(figures: dict[str, Any]) -> Chart:
    """Reviews and remediation actions by their own dates in the period: a review or an action of an incident
    opened before the period counts too, so this chart is drawn even when no incident opened in it."""
    reviews, actions = figures["reviews"], figures["remediation"]
    rows: list[list[Any]] = [
        [_("Reviews drafted"), reviews["drafted"], None, None],
        [_("Reviews submitted"), reviews["submitted"], None, None],
        [_("Reviews approved (resolution → approval)"), reviews["approved"], hours(reviews["approval_s"]["median"]),
         hours(reviews["approval_s"]["p90"])],
        [_("Remediation actions opened"), actions["opened"], None, None],
        [_("Remediation actions done (opened → done)"), actions["done"], hours(actions["close_s"]["median"]),
         hours(actions["close_s"]["p90"])],
        [_("Remediation actions carried over"), actions["carried_over"], None, None],
        [_("Remediation actions overdue now"), actions["overdue"], None, None],
    ]
    return Chart("reviews", _("Reviews and remediation"), [_("Measure"), _("Count"), _("Median (h)"), _("p90 (h)")],
                 rows, x=[r[0] for r in rows], series=[Series(_("Count"), [r[1] for r in rows])],
                 empty=not any(r[1] for r in rows))


def charts(figures: dict[str, Any], labels: Labels | None = None) -> list[Chart]:
    labels = labels or Labels.from_plan()
    empty = figures["incidents"] == 0
    level_keys = list(reversed(LEVEL_RANKS))
    level_names = [labels.level(k) for k in level_keys]
    result = []

    months = figures["by_month"]
    result.append(Chart(
        "by_month", _("Incidents by month"), [_("Month"), *level_names, _("Total")],
        [[m["month"], *[m["by_level"].get(k, 0) for k in level_keys], m["count"]] for m in months],
        x=[m["month"] for m in months], series=_level_series(labels, [m["by_level"] for m in months]), empty=empty))

    cells: dict[str, dict[str, int]] = {}
    for row in figures["by_category_level"]:
        cells.setdefault(row["category"], {})[row["level"]] = row["count"]
    category_names = [labels.category(k) for k in cells]
    result.append(Chart(
        "by_category_level", _("Incidents by category and level"), [_("Category"), *level_names, _("Total")],
        [[name, *[counts.get(k, 0) for k in level_keys], sum(counts.values())]
         for name, counts in zip(category_names, cells.values(), strict=True)],
        x=category_names, series=_level_series(labels, list(cells.values())), empty=empty))

    times = [(_("Time to acknowledge"), figures["mtta_s"]), (_("Time to recover"), figures["mttr_s"]),
             (_("Time to resolve"), figures["mttr_resolved_s"])]
    result.append(Chart(
        "response_times", _("Response times (minutes)"),
        [_("Measure"), _("Incidents"), _("Median (min)"), _("p90 (min)"), _("Mean (min)")],
        [[name, d["count"], minutes(d["median"]), minutes(d["p90"]), minutes(d["mean"])] for name, d in times],
        x=[name for name, _d in times], unit="min", empty=empty,
        series=[Series(_("Median"), [minutes(d["median"]) for _n, d in times]),
                Series("p90", [minutes(d["p90"]) for _n, d in times])]))

    arrivals = figures["on_site_s"]["by_role"]
    role_names = [labels.role(k) for k in arrivals]
    result.append(Chart(
        "on_site", _("Time to arrive on site, by role (minutes)"),
        [_("Role"), _("Arrivals"), _("Median (min)"), _("p90 (min)")],
        [[name, d["count"], minutes(d["median"]), minutes(d["p90"])]
         for name, d in zip(role_names, arrivals.values(), strict=True)],
        x=role_names, unit="min", empty=not arrivals,
        series=[Series(_("Median"), [minutes(d["median"]) for d in arrivals.values()]),
                Series("p90", [minutes(d["p90"]) for d in arrivals.values()])]))

    compliance = figures["deadline_compliance"]["counts"]
    kinds = dict(Kind.choices)
    result.append(_compliance_chart("compliance_kind", _("Deadlines kept, by kind"), _("Kind"),
                                    compliance["by_kind"], lambda k: str(kinds.get(k, k))))
    result.append(_compliance_chart("compliance_role", _("Deadlines kept, by role"), _("Role"),
                                    compliance["by_role"], labels.role))
    result.append(_compliance_chart("compliance_cell", _("Deadlines kept, by plan cell"), _("Plan cell"),
                                    compliance["by_cell"], labels.cell))

    causes = figures["escalations_by_cause"]
    cause_names = [str(CAUSES.get(k, k)) for k in causes]
    result.append(Chart(
        "escalations", _("Escalations by cause"), [_("Cause"), _("Escalations")],
        [[name, n] for name, n in zip(cause_names, causes.values(), strict=True)],
        x=cause_names, series=[Series(_("Escalations"), list(causes.values()))], empty=empty))

    sources = figures["top_sources"]
    result.append(Chart(
        "sources", _("Top alerting sources"), [_("Source"), _("Alerts"), _("Incidents")],
        [[s["source"], s["alerts"], s["incidents"]] for s in sources],
        x=[s["source"] for s in sources], series=[Series(_("Alerts"), [s["alerts"] for s in sources])],
        empty=not sources))

    channels = figures["notifications"]["by_channel"]
    channel_names = [str(dict(ChannelKind.choices).get(k, k)) for k in channels]
    result.append(Chart(
        "channels", _("Notification delivery by channel"),
        [_("Channel"), _("Delivered"), _("Failed"), _("Delivered (%)"), _("Read confirmed, median (min)"),
         _("Read confirmed, p90 (min)")],
        [[name, c["delivered"], c["failed"], percent(c["success"]), minutes(c["ack_s"]["median"]),
          minutes(c["ack_s"]["p90"])] for name, c in zip(channel_names, channels.values(), strict=True)],
        x=channel_names, unit="%", empty=not channels,
        series=[Series(_("Delivered (%)"), [percent(c["success"]) for c in channels.values()])]))
    result.append(_reviews_chart(figures))
    for chart in result:
        chart.empty = chart.empty or (empty and chart.key != "reviews")
        chart.empty_text = _("No incidents") if empty else _("No data")
    return result


def chart_named(figures: dict[str, Any], key: str) -> Chart | None:
    return next((chart for chart in charts(figures) if chart.key == key), None)


CHART_KEYS = ("by_month", "by_category_level", "response_times", "on_site", "compliance_kind", "compliance_role",
              "compliance_cell", "escalations", "sources", "channels", "reviews")
