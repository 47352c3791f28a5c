"""A timeline entry in the reader's language, rendered from the facts it stores.

The timeline stores facts (keys, numbers, times, what people typed), not
sentences: ``entry_lines`` and ``entry_text`` turn them into words in the
*active* language (wrap a call in ``translation.override`` for another), with
the plan's own names for levels, roles and categories. The page and the API
both read entries through here, so a Chinese reader never sees a raw key and
an English reader never sees Chinese the system wrote.

Rows written before the facts were structured hold a few sentences the system
wrote in one language ("not resolved within the plan's time limit", "… reports
every alert resolved"): ``system_text`` recognises them in either language and
says them again in the reader's. Anything else unknown is shown as readable
"name: value" lines, never a traceback.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from plan.text import current_language_is_chinese

from .models import AffectedSystem, PlanStatus, Source, TimelineKind
from .notes import human_size

if TYPE_CHECKING:
    from .models import Incident, TimelineEntry

Line = tuple[str, str]

# The actor label rows carry when Fenghuo itself acted (incidents.timeline.FENGHUO, kept for old rows).
SYSTEM_LABELS = frozenset({"", "Fenghuo"})

FIELD_NAMES = {
    "title": gettext_lazy("title"),
    "description": gettext_lazy("description"),
    "affected_branches": gettext_lazy("affected branches"),
    "total_branches": gettext_lazy("the area's branches"),
    "affected_system": gettext_lazy("affected system"),
    "host_fault": gettext_lazy("host fault"),
    "affected_branch_ratio": gettext_lazy("affected branch ratio"),
}
OPERATORS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
# The label that names an alert (Alertmanager's alertname): shown as the alert's name, not as a label.
ALERT_NAME_LABELS = ("alertname",)
ALERT_STATUSES = {"firing": gettext_lazy("Firing"), "resolved": gettext_lazy("Resolved"),
                  "acknowledged": gettext_lazy("Acknowledged")}
# How a level changed (``cause`` in a level_changed entry).
CAUSES = {
    "person": gettext_lazy("by a person"),
    "plan": gettext_lazy("by the plan's time limit"),
    "alert": gettext_lazy("by a monitoring alert"),
    "condition": gettext_lazy("by the plan's escalation condition, now met"),
}
# Words for detail keys no kind below reads: the readable fallback, never the raw key.
KEY_NAMES = {
    "level": gettext_lazy("Level"),
    "role": gettext_lazy("Role"),
    "reason": gettext_lazy("Reason"),
    "note": gettext_lazy("Note"),
    "text": gettext_lazy("Text"),
    "comment": gettext_lazy("Comment"),
    "summary": gettext_lazy("Summary"),
    "due_at": gettext_lazy("Due"),
    "kind": gettext_lazy("Kind"),
    "deadline_kind": gettext_lazy("Deadline"),
    "integration": gettext_lazy("Monitoring integration"),
    "count": gettext_lazy("Alerts"),
    "people": gettext_lazy("People told"),
    "lateness_seconds": gettext_lazy("Acted late by"),
    "watched_seconds": gettext_lazy("Watched for"),
    "observed": gettext_lazy("Observed"),
    "stability": gettext_lazy("Observed"),
    "by": gettext_lazy("By"),
}
# Ids that only tie a row to another row: the page shows what that row says instead.
HIDDEN_KEYS = frozenset({"plan", "announcement", "id", "fingerprint", "attachment_id", "storm"})

# Sentences the system once wrote into the timeline in the writer's language. Each is a msgid.
BY_THE_TIME_LIMIT = gettext_noop("not resolved within the plan's time limit")
CONDITION_NOW_MET = gettext_noop("escalation condition now met (%(field)s)")
BY_AN_ALERT = gettext_noop("monitoring alert from %(name)s: %(summary)s")
BY_A_STORM = gettext_noop("alert storm from %(name)s: %(summary)s")
ALL_RESOLVED = gettext_noop("%(name)s reports every alert resolved")
APPROVAL_REASKED = gettext_noop("approval re-asked at the new level")
SYSTEM_TEXTS = (BY_THE_TIME_LIMIT, CONDITION_NOW_MET, BY_AN_ALERT, BY_A_STORM, ALL_RESOLVED, APPROVAL_REASKED)
SYSTEM_LANGUAGES = ("en", "zh-hans")


class Names:
    """The plan version's names for levels, roles and categories, each read once and only if needed.

    The incident page passes what it has already loaded; the API lets this read
    the version's roles and levels (one query each, whatever the entry count).
    """

    def __init__(self, *, version_id: int | None = None, roles: Mapping[str, Any] | None = None,
                 levels: Mapping[str, Any] | None = None, categories: Mapping[str, Any] | None = None):
        self.version_id = version_id
        self._roles = roles
        self._levels = levels
        self._categories = categories

    @classmethod
    def for_incident(cls, incident: "Incident") -> "Names":
        categories = None
        if "category" in getattr(incident, "_state").fields_cache:
            categories = {incident.category.key: incident.category}
        return cls(version_id=incident.plan_version_id, categories=categories)

    def _load(self, attribute: str, model_name: str) -> Mapping[str, Any]:
        loaded = getattr(self, attribute)
        if loaded is None:
            from plan import models as plan_models

            model = getattr(plan_models, model_name)
            loaded = {obj.key: obj for obj in model.objects.filter(version_id=self.version_id)} \
                if self.version_id else {}
            setattr(self, attribute, loaded)
        return loaded

    def role(self, key: Any) -> str:
        role = self._load("_roles", "Role").get(key)
        return role.name if role else str(key or "")

    def roles(self, keys: Iterable[Any] | None) -> str:
        return join_list(self.role(k) for k in keys or []) or _("nobody")

    def level(self, key: Any) -> str:
        level = self._load("_levels", "Level").get(key)
        return level.name if level else str(key or "")

    def category(self, key: Any) -> str:
        category = self._load("_categories", "Category").get(key)
        return category.name if category else str(key or "")


def join_list(items: Iterable[Any]) -> str:
    """A list as the reader writes one: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if current_language_is_chinese() else ", ").join(str(item) for item in items if item != "")


def human_duration(delta: timedelta | None) -> str:
    """2 h 30 min, 45 min, 2 d: how long a plan's time limit is, in words a person reads at a glance."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    if seconds or not parts:
        parts.append(ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds})
    return " ".join(parts)


def condition_text(condition: Mapping[str, Any] | None) -> str:
    """{"field": "affected_branch_ratio", "gt": 0.5} → "only if affected branch ratio > 0.5"."""
    if not condition:
        return ""
    name = condition.get("field", "")
    for op, sign in OPERATORS.items():
        if op in condition and condition[op] is not None:
            return _("only if %(field)s %(op)s %(value)s") % {
                "field": FIELD_NAMES.get(name, name), "op": sign, "value": _number(condition[op])}
    return ""


def actor_text(entry: "TimelineEntry") -> str:
    """Who acted: the person, the integration by its own name, or "System" when Fenghuo acted itself."""
    if entry.actor is not None:
        return entry.actor.display_name
    if (entry.actor_label or "") in SYSTEM_LABELS:
        return _("System")
    return entry.actor_label


def entry_text(entry: "TimelineEntry", names: Names | None = None) -> str:
    """The whole entry as one line in the active language: what happened, then its details."""
    kind = TimelineKind(entry.kind).label if entry.kind in TimelineKind.values else _humanise(entry.kind)
    lines = entry_lines(entry, names)
    if not lines:
        return str(kind)
    colon, semicolon = _colon(), "；" if current_language_is_chinese() else "; "
    details = semicolon.join(f"{label}{colon}{value}" if label else value for label, value in lines)
    return f"{kind}{colon}{details}"


def entry_lines(entry: "TimelineEntry", names: Names | None = None) -> list[Line]:
    """The entry's detail as short (label, value) lines in the active language; empty values left out."""
    names = names or Names.for_incident(entry.incident)
    detail = entry.detail if isinstance(entry.detail, dict) else {"detail": entry.detail}
    render = KINDS.get(entry.kind)
    try:
        lines = render(detail, names) if render else _fallback(detail, names)
    except (AttributeError, KeyError, TypeError, ValueError):
        # A row of an older or newer shape than this code knows: still readable, never a 500.
        lines = _fallback(detail, names)
    return [(str(label), str(value)) for label, value in lines if value not in ("", None)]


def system_text(value: Any) -> str:
    """A sentence the system wrote (in either language), said in the reader's; anything else as it is."""
    if not isinstance(value, str) or not value:
        return _value(value) if not isinstance(value, str) else value
    found = _system_sentence(value)
    if found is None:
        return value
    msgid, said = found
    params = {k: system_text(v) if k != "field" else str(FIELD_NAMES.get(v, v)) for k, v in said.items()}
    return _(msgid) % params if params else _(msgid)


def _system_sentence(value: str) -> tuple[str, dict[str, str]] | None:
    """(msgid, its parameters) when ``value`` is one of SYSTEM_TEXTS as said in one of the languages."""
    for msgid in SYSTEM_TEXTS:
        for language in SYSTEM_LANGUAGES:
            match = _pattern(msgid, language).fullmatch(value.strip())
            if match:
                return msgid, match.groupdict()
    return None


@lru_cache(maxsize=64)
def _pattern(msgid: str, language: str) -> re.Pattern[str]:
    with translation.override(language):
        said = _(msgid)
    parts = re.split(r"%\((\w+)\)s", said)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


# --- one renderer per kind: (detail, names) → lines ------------------------------------------


def _opened(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Level"), names.level(d.get("level")))]
    if d.get("category"):
        lines.append((_("Category"), names.category(d["category"])))
    if d.get("plan_version"):
        lines.append((_("Plan version"), str(d["plan_version"])))
    if d.get("drill"):
        lines.append((_("Drill"), _("yes")))
    if d.get("source") and d["source"] != Source.MANUAL:
        lines.append((_("Source"), str(Source(d["source"]).label) if d["source"] in Source.values else d["source"]))
    return lines


def _level_changed(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Level"), f"{names.level(d.get('from'))} → {names.level(d.get('to'))}")]
    cause = d.get("cause") or _cause_of_old_row(d)
    lines.append((_("How"), str(CAUSES.get(cause, _humanise(cause)))))
    alert = d.get("alert")
    if isinstance(alert, dict):
        lines.append((_("Reason"), _(BY_AN_ALERT) % {
            "name": alert.get("integration", ""), "summary": alert.get("summary", "")}))
    elif d.get("condition_field"):
        lines.append((_("Reason"), _(CONDITION_NOW_MET) % {
            "field": FIELD_NAMES.get(d["condition_field"], d["condition_field"])}))
    elif d.get("reason"):
        lines.append((_("Reason"), system_text(d["reason"])))
    if d.get("lateness_seconds"):
        lines.append((_("Acted late by"), _seconds(d["lateness_seconds"])))
    return lines


def _cause_of_old_row(d: Mapping[str, Any]) -> str:
    """Rows written before ``cause`` was stored: said by ``manual`` and, for the system's, its reason."""
    if d.get("manual"):
        return "person"
    if d.get("alert"):
        return "alert"
    if d.get("condition_field"):
        return "condition"
    found = _system_sentence(d["reason"]) if isinstance(d.get("reason"), str) else None
    if found and found[0] in (BY_AN_ALERT, BY_A_STORM):
        return "alert"
    if found and found[0] == CONDITION_NOW_MET:
        return "condition"
    return "plan"


def _notified(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines: list[Line] = []
    if d.get("decision"):  # the proposer and the office told of a decision on a response plan
        decision = d["decision"]
        lines.append((_("Decision"), str(PlanStatus(decision).label) if decision in PlanStatus.values
                      else _humanise(decision)))
    if d.get("proposer"):
        lines.append((_("Proposed by"), str(d["proposer"])))
    return lines + [(_("Roles told"), names.roles(d.get("roles"))),
                    (_("People told"), join_list(d.get("people") or []) or _("nobody holds these roles"))]


def _checked_in(d: Mapping[str, Any], names: Names) -> list[Line]:
    met = d.get("deadlines_met") or []
    if not met:
        return [(_("On-site deadline met"), _("none pending for this person's roles"))]
    return [(_("On-site deadline met"), _("%(role)s, %(early)s before the limit") % {
        "role": names.role(m.get("role")), "early": _seconds(m.get("early_seconds"))}) for m in met]


def _deadline_missed(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Deadline"), _("%(kind)s of %(role)s, due %(due)s") % {
        "kind": _deadline_kind(d.get("deadline_kind")), "role": names.role(d.get("role")),
        "due": _when(d.get("due_at"))})]
    if "reported_to" in d:
        lines.append((_("Reported to"), names.roles(d.get("reported_to"))))
    if d.get("people"):
        lines.append((_("People told"), join_list(d["people"])))
    return lines


def _deadline_ended(d: Mapping[str, Any], names: Names) -> list[Line]:
    kind = d.get("deadline_kind") or d.get("kind")
    lines = [(_("Deadline"), _("%(kind)s of %(role)s, due %(due)s") % {
        "kind": _deadline_kind(kind), "role": names.role(d.get("role")) or "—", "due": _when(d.get("due_at"))})]
    why = d.get("why") or d.get("reason")
    if why:
        lines.append((_("Why"), system_text(why)))
    return lines + _rest(d, names, {"deadline_kind", "kind", "role", "due_at", "why", "reason"})


def _condition_not_met(d: Mapping[str, Any], names: Names) -> list[Line]:
    condition = {"field": d.get("field"), d.get("op") or "gt": d.get("value")}
    return [(_("Escalation to"), names.level(d.get("target"))),
            (_("Condition"), condition_text(condition)),
            (_("Actual value"), _value(d.get("actual")))]


def _plan_proposed(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Response plan"), d.get("text", "")),
            (_("Approval by"), names.role(d["approver_role"]) if d.get("approver_role") else _("no approval needed"))]


def _plan_decided(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Comment"), d.get("comment") or "")]


def _recovered(d: Mapping[str, Any], names: Names) -> list[Line]:
    if d.get("integration"):
        lines = [(_("Note"), _(ALL_RESOLVED) % {"name": d["integration"]})]
    else:
        lines = [(_("Note"), system_text(d.get("note") or ""))]
    if d.get("stability_by"):  # the plan's stability watch (4.2.2) starts here
        lines.append((_("Stability watch"), _("%(role)s watches for %(watch)s, until %(until)s") % {
            "role": names.role(d["stability_by"]), "watch": _seconds(d.get("watch_seconds")),
            "until": _when(d.get("watch_ends_at"))}))
    return lines


def _resolved(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Summary"), d.get("summary", ""))]
    if d.get("stability_confirmed"):
        lines.append((_("Stability"), _("confirmed after recovery")))
    if d.get("deadlines_cancelled"):
        lines.append((_("Deadlines cancelled"), str(d["deadlines_cancelled"])))
    return lines


def _reviewed(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Review"), d.get("notes", ""))]


def _updated(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = []
    for name, change in d.items():
        if isinstance(change, dict):
            old, new = change.get("from"), change.get("to")
            if name == "affected_system":
                old, new = _system(old), _system(new)
            lines.append((str(FIELD_NAMES.get(name, _humanise(name))), f"{_value(old)} → {_value(new)}"))
    return lines


def _announced(d: Mapping[str, Any], names: Names) -> list[Line]:
    text = d.get("text_zh") if current_language_is_chinese() else d.get("text_en")
    return [(_("Level"), names.level(d.get("level"))),
            (_("How"), _("by the plan, when the level started") if d.get("automatic") else _("by a person")),
            (_("Announcement"), text or d.get("text") or d.get("text_zh") or d.get("text_en") or "")]


def _reported_to(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Report"), f"{names.role(d.get('from'))} → {names.role(d.get('to'))}")]


def _alert(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines: list[Line] = [(_("Monitoring integration"), d.get("integration", ""))]
    if d.get("opened_incident"):
        lines.append((_("Opened the incident"), _("yes")))
    alerts = [a for a in d.get("alerts") or [] if isinstance(a, dict)]
    for alert in alerts:
        status = str(alert.get("status") or "")
        facts = [str(ALERT_STATUSES.get(status, _humanise(status)))]
        if alert.get("level"):
            facts.append(names.level(alert["level"]))
        if alert.get("starts_at"):
            facts.append(_("since %(when)s") % {"when": _when(alert["starts_at"])})
        labels: dict[str, Any] = alert["labels"] if isinstance(alert.get("labels"), dict) else {}
        shown = [f"{k}={v}" for k, v in sorted(labels.items()) if k not in ALERT_NAME_LABELS][:6]
        if shown:
            facts.append(join_list(shown))
        summary = alert.get("summary") or _("(no summary)")
        name = next((str(labels[k]) for k in ALERT_NAME_LABELS if labels.get(k)), "")
        said = summary if not name or name in summary else f"{name}{_colon()}{summary}"
        lines.append((_("Alert"), _bracketed(said, join_list(facts))))
    count = d.get("count")
    if isinstance(count, int) and alerts and count > len(alerts):
        lines.append((_("Alerts"), _("%(shown)d of %(count)d shown") % {"shown": len(alerts), "count": count}))
    elif isinstance(count, int) and not alerts:
        lines.append((_("Alerts"), str(count)))
    if d.get("resolved_at_source"):
        lines.append((_("At the source"), _("every alert resolved")))
    if d.get("not_marked_recovered_status"):
        status = d["not_marked_recovered_status"]
        from .states import Status

        lines.append((_("Not marked recovered"), _("the incident is %(status)s") % {
            "status": Status(status).label if status in Status.values else status}))
    elif d.get("not_marked_recovered"):
        lines.append((_("Not marked recovered"), system_text(d["not_marked_recovered"])))
    return lines + _storm(d, names)


def _storm(d: Mapping[str, Any], names: Names) -> list[Line]:
    """What an alert storm did (alerts/storms.py, alerts/splitting.py): started, took groups in, split, ended."""
    lines: list[Line] = []
    if d.get("storm_started"):
        lines.append((_("Alert storm"), _("started: more than %(threshold)s new incidents within %(window)s") % {
            "threshold": d.get("threshold", ""), "window": _seconds(d.get("window_seconds"))}))
    if d.get("storm_ended"):
        quiet = _seconds(d.get("quiet_seconds"))
        lines.append((_("Alert storm"), _("over: no new alert for %(quiet)s") % {"quiet": quiet}
                      if d["storm_ended"] == "quiet" else _("over")))
    if d.get("groups_joined") is not None:
        lines.append((_("Alert groups joined"), str(d["groups_joined"])))
    if isinstance(d.get("groups"), list) and d["groups"]:
        lines.append((_("Group"), join_list(str(g) for g in d["groups"][:10])))
    if d.get("group"):
        lines.append((_("Group"), str(d["group"])))
    if d.get("split_out_to"):
        lines.append((_("Split out"), _("into incident #%(id)s") % {"id": d["split_out_to"]}))
    if d.get("split_out_of"):
        lines.append((_("Split out"), _("of the alert storm's incident #%(id)s") % {"id": d["split_out_of"]}))
    return lines


def _note(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines: list[Line] = []
    if "approver_role" in d or "approver_role_from" in d:
        lines.append((_("Approval"), _(APPROVAL_REASKED)))
        old, new = names.role(d.get("approver_role_from")), names.role(d.get("approver_role"))
        lines.append((_("Approval by"), f"{old} → {new}" if d.get("approver_role_from") != d.get("approver_role")
                      else new))
        if d.get("approval_due_at"):
            lines.append((_("Due"), _when(d["approval_due_at"])))
        if d.get("level"):
            lines.append((_("Level"), names.level(d["level"])))
        return lines
    if d.get("text"):
        lines.append((_("Note"), d["text"]))
    elif d.get("note"):
        lines.append((_("Note"), system_text(d["note"])))
    attachment = d.get("attachment")
    if isinstance(attachment, dict) and attachment.get("name"):
        size = attachment.get("size")
        lines.append((_("Attachment"), _("%(name)s (%(size)s)") % {"name": attachment["name"], "size": human_size(size)}
                      if isinstance(size, int) else attachment["name"]))
    return lines + _rest(d, names, {"text", "note", "attachment"})


def _stability_confirmed(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines: list[Line] = []
    if d.get("by_role"):
        lines.append((_("Confirmed as"), names.role(d["by_role"])))
    if d.get("watched_seconds") is not None:
        lines.append((_("Watched after recovery"), _seconds(d["watched_seconds"])))
    lines.append((_("Observed"), d.get("observed") or d.get("stability") or ""))
    if d.get("recovered_at"):
        lines.append((_("recovered at"), _when(d["recovered_at"])))
    if d.get("watch_seconds") is not None:
        lines.append((_("Stability watch"), _seconds(d["watch_seconds"])))
    return lines + _rest(d, names, {"by_role", "watched_seconds", "observed", "stability", "recovered_at",
                                    "watch_seconds"})


def _deadline_cancelled(d: Mapping[str, Any], names: Names) -> list[Line]:
    kind = d.get("deadline_kind")
    if kind == "escalation":
        who = _("to %(level)s") % {"level": names.level(d.get("target"))}
    elif d.get("to_role"):
        who = f"{names.role(d.get('role'))} → {names.role(d['to_role'])}"
    else:
        who = names.role(d.get("role"))
    why = str(d.get("why") or "")
    if why == "level_changed":
        why_text = _("the level changed to %(level)s") % {"level": names.level(d.get("to_level"))}
    else:
        why_text = str({"incident_resolved": _("the incident was resolved"),
                        "incident_archived": _("the incident was archived"),
                        "incident_closed": _("the incident was closed")}.get(why, _humanise(why)))
    return [(_("Deadline"), _("%(kind)s: %(who)s, due %(due)s") % {
                "kind": _deadline_kind(kind), "who": who, "due": _when(d.get("due_at"))}),
            (_("Why"), why_text)]


def _nothing(d: Mapping[str, Any], names: Names) -> list[Line]:
    return _fallback(d, names)


KINDS: dict[str, Callable[[Mapping[str, Any], Names], list[Line]]] = {
    "opened": _opened,
    "level_changed": _level_changed,
    "notified": _notified,
    "acknowledged": _nothing,
    "checked_in": _checked_in,
    "deadline_met": _deadline_ended,
    "deadline_missed": _deadline_missed,
    "deadline_cancelled": _deadline_cancelled,
    "condition_not_met": _condition_not_met,
    "plan_proposed": _plan_proposed,
    "plan_approved": _plan_decided,
    "plan_rejected": _plan_decided,
    "implementing": _nothing,
    "recovered": _recovered,
    "stability_confirmed": _stability_confirmed,
    "resolved": _resolved,
    "reviewed": _reviewed,
    "archived": _nothing,
    "updated": _updated,
    "reported_to": _reported_to,
    "alert": _alert,
    "note": _note,
    "announced": _announced,
}


def _fallback(d: Mapping[str, Any], names: Names) -> list[Line]:
    return _rest(d, names, set())


def _rest(d: Mapping[str, Any], names: Names, read: set[str]) -> list[Line]:
    """The keys a renderer did not read, as "name: value" lines a person can read."""
    lines: list[Line] = []
    for key, value in d.items():
        if key in read or key in HIDDEN_KEYS or isinstance(value, (dict, list)):
            continue
        label = str(KEY_NAMES.get(key) or _humanise(key))
        if key.endswith("_at"):
            shown = _when(value) or _value(value)
        elif key.endswith("_seconds"):
            shown = _seconds(value) or _value(value)
        elif key == "level" or key.endswith("_level"):
            shown = names.level(value)
        elif key == "role" or key.endswith("_role"):
            shown = names.role(value)
        else:
            shown = system_text(value) if isinstance(value, str) else _value(value)
        lines.append((label, shown))
    return lines


def _colon() -> str:
    return "：" if current_language_is_chinese() else ": "


def _bracketed(text: str, aside: str) -> str:
    return f"{text}（{aside}）" if current_language_is_chinese() else f"{text} ({aside})"


def _humanise(key: Any) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _when(value: Any) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return ""
    return date_format(timezone.localtime(value), "Y-m-d H:i:s")


def _seconds(value: Any) -> str:
    try:
        return human_duration(timedelta(seconds=abs(float(value))))
    except (TypeError, ValueError, OverflowError):
        return ""


def _value(value: Any) -> str:
    if value is None or value == "":
        return _("(empty)")
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


def _system(value: Any) -> Any:
    return AffectedSystem(value).label if value in AffectedSystem.values else value


def _deadline_kind(kind: Any) -> str:
    from escalation.models import Kind

    return str(Kind(kind).label) if kind in Kind.values else _humanise(kind or "")
