"""The plan diff as the pages show it: field names and values in the reader's language, plan texts in both.

``plan.diff`` says what differs in plan data (keys, ``{en, zh}`` texts, ``30m``);
this turns each change into rows a person reads: role keys become the plan's
role names, durations words ("30 min"), and a bilingual text is shown in
English and in Chinese, each marked with its ``lang``.
"""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.wording import human_duration
from plan.diff import Change, PlanDiff, is_text
from plan.durations import parse_duration
from plan.models import PlanVersion
from plan.text import current_language_is_chinese

FIELD_NAMES = {
    "name": gettext_lazy("Name"),
    "criteria": gettext_lazy("Criteria"),
    "notify": gettext_lazy("Notified at once"),
    "report": gettext_lazy("Reporting duties"),
    "on_site": gettext_lazy("On site"),
    "approval.by": gettext_lazy("Response plan approved by"),
    "approval.within": gettext_lazy("Approval decided within"),
    "escalate.to": gettext_lazy("Escalates to"),
    "escalate.after": gettext_lazy("Escalates after"),
    "escalate.when": gettext_lazy("Escalates when"),
    "stability.by": gettext_lazy("Stability confirmed by"),
    "stability.watch": gettext_lazy("Stability watched for"),
    "steps": gettext_lazy("Step %(n)s"),
    "reports_to": gettext_lazy("Reports to"),
    "duties": gettext_lazy("Duties"),
    "authority": gettext_lazy("Authority"),
    "color": gettext_lazy("Colour"),
    "announce": gettext_lazy("Announced to the business departments"),
    "urgent": gettext_lazy("Urgent"),
    "repeat.every": gettext_lazy("Repeated every"),
    "repeat.times": gettext_lazy("Repeated times"),
    "external": gettext_lazy("Outside reporting duties"),
    "parties": gettext_lazy("Outside parties"),
}
DURATION_FIELDS = {"approval.within", "escalate.after", "stability.watch", "repeat.every"}
ROLE_FIELDS = {"approval.by", "stability.by", "reports_to"}
STATES = {"added": gettext_lazy("added"), "removed": gettext_lazy("removed"), "changed": gettext_lazy("changed")}


@dataclass
class Shown:
    """One side of a change: plain words, or a plan text in both languages."""

    plain: str = ""
    texts: list[tuple[str, str]] = field(default_factory=list)  # (lang, text)
    empty: bool = False


@dataclass
class Row:
    label: str
    state: str
    state_label: str
    old: Shown
    new: Shown


@dataclass
class Section:
    title: str
    key: str
    state: str
    rows: list[Row]
    color: str = ""


class Names:
    """The plan's names for role, level and category keys, from the draft first, else the version compared."""

    def __init__(self, *versions: PlanVersion | None) -> None:
        self.roles: dict[str, str] = {}
        self.levels: dict[str, str] = {}
        self.colors: dict[str, str] = {}
        self.categories: dict[str, str] = {}
        for version in reversed([v for v in versions if v is not None]):
            self.roles.update({r.key: r.name for r in version.roles.all()})
            self.levels.update({lv.key: lv.name for lv in version.levels.all()})
            self.colors.update({lv.key: lv.color for lv in version.levels.all()})
            self.categories.update({c.key: c.name for c in version.categories.all()})

    def role(self, key: Any) -> str:
        return self.roles.get(key, str(key))


def shown(path: str, value: Any, names: Names) -> Shown:
    if value is None:
        return Shown(plain="—", empty=True)
    if is_text(value):
        return Shown(texts=[("en", value["en"]), ("zh-hans", value["zh"])])
    top = path.split(".")[0]
    if path in DURATION_FIELDS or (top == "on_site" and "." in path):
        return Shown(plain=_duration(value))
    if path in ROLE_FIELDS:
        return Shown(plain=names.role(value))
    if path == "escalate.to":
        return Shown(plain=names.levels.get(value, str(value)))
    if path == "notify":
        return Shown(plain=_join(names.role(k) for k in value) or "—")
    if path == "report":
        return Shown(plain=_join(f"{names.role(d.get('from'))} → {names.role(d.get('to'))}" for d in value) or "—")
    if path == "escalate.when" and isinstance(value, dict):
        return Shown(plain=_join(f"{k} {v}" for k, v in value.items()))
    if isinstance(value, bool):
        return Shown(plain=_("yes") if value else _("no"))
    if isinstance(value, list):
        return Shown(plain=_join(_compact(v) for v in value) or "—")
    return Shown(plain=_compact(value))


def _duration(value: Any) -> str:
    try:
        return human_duration(parse_duration(value))
    except ValueError:
        return str(value)


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_compact(v)}" for k, v in value.items())
    return str(value)


def _join(parts: Any) -> str:
    return ("、" if current_language_is_chinese() else ", ").join(parts)


def label(change: Change, names: Names) -> str:
    if change.field == "steps":
        return str(FIELD_NAMES["steps"]) % {"n": change.index}
    if change.field.startswith("on_site."):
        return f"{FIELD_NAMES['on_site']}: {names.role(change.field.split('.', 1)[1])}"
    return str(FIELD_NAMES.get(change.field, change.field))


def row(change: Change, names: Names) -> Row:
    return Row(label=label(change, names), state=change.state, state_label=str(STATES[change.state]),
               old=shown(change.field, change.old, names), new=shown(change.field, change.new, names))


def sections(diff: PlanDiff, names: Names) -> dict[str, list[Section]]:
    """The diff's parts in the order the page shows them: plan name, roles, levels, categories, cells, the rest."""
    plan: list[Section] = []
    if diff.name:
        plan.append(Section(_("Plan name"), "name", "changed", [row(diff.name, names)]))
    if diff.other:
        plan.append(Section(_("Other parts of the plan"), "other", "changed", [row(c, names) for c in diff.other]))
    roles = [Section(names.role(i.key), i.key, i.state, [row(c, names) for c in i.changes]) for i in diff.roles]
    levels = [Section(names.levels.get(i.key, i.key), i.key, i.state, [row(c, names) for c in i.changes],
                      color=names.colors.get(i.key, "")) for i in diff.levels]
    categories = [Section(names.categories.get(i.key, i.key), i.key, i.state, [row(c, names) for c in i.changes])
                  for i in diff.categories]
    cells = [Section(f"{names.categories.get(c.category, c.category)} × {names.levels.get(c.level, c.level)}",
                     f"{c.category}-{c.level}", "changed", [row(x, names) for x in c.changes],
                     color=names.colors.get(c.level, ""))
             for c in diff.cells]
    return {"plan": plan, "roles": roles, "levels": levels, "categories": categories, "cells": cells}
