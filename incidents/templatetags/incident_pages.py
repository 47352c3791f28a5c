"""Small pieces of the incident pages: level badges, durations, readable timeline details."""

from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from incidents import notes
from incidents.models import AffectedSystem, Source
from incidents.states import ACTION_NAMES

register = template.Library()

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


@register.filter
def human_duration(delta):
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


@register.filter
def clock_time(value):
    """10:02 today, 2025-03-01 10:02 on another day (in the page's time zone): a time a person reads at a glance."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    same_day = local.date() == timezone.localtime().date()
    return local.strftime("%H:%M") if same_day else local.strftime("%Y-%m-%d %H:%M")


@register.simple_tag
def level_badge(level, extra_class=""):
    """The level's colour with its name written in it: the colour is never the only signal."""
    if level is None:
        return ""
    return format_html('<span class="level-badge level-{} {}" style="background:{}">{}</span>',
                       level.key, extra_class, level.color, level.name)


@register.filter
def action_name(action):
    return ACTION_NAMES.get(action, action)


@register.filter
def condition_text(condition):
    """{"field": "affected_branch_ratio", "gt": 0.5} → "only if affected branch ratio > 0.5"."""
    if not condition:
        return ""
    name = condition.get("field", "")
    for op, sign in OPERATORS.items():
        if op in condition and condition[op] is not None:
            return _("only if %(field)s %(op)s %(value)s") % {
                "field": FIELD_NAMES.get(name, name), "op": sign, "value": _number(condition[op])}
    return ""


def _number(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _when(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return ""
    return date_format(timezone.localtime(value), "Y-m-d H:i:s")


def _seconds(value):
    try:
        return human_duration(timedelta(seconds=abs(float(value))))
    except (TypeError, ValueError):
        return ""


def _value(value):
    if value is None or value == "":
        return _("(empty)")
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


class _Names:
    def __init__(self, context):
        self.roles = context.get("roles") or {}
        self.levels = context.get("levels_by_key") or {}

    def role(self, key):
        role = self.roles.get(key)
        return role.name if role else key

    def roles_text(self, keys):
        return "、".join(self.role(k) for k in keys or []) or _("nobody")

    def level(self, key):
        level = self.levels.get(key)
        return level.name if level else key


@register.simple_tag(takes_context=True)
def timeline_detail(context, entry):
    """One timeline entry's detail as short labelled lines, in the viewer's language."""
    names = _Names(context)
    d = entry.detail or {}
    kind = entry.kind
    lines = []
    if kind == "note" and ("text" in d or "attachment" in d):
        return _note(entry, d)
    if kind == "opened":
        lines.append((_("Level"), names.level(d.get("level"))))
        if d.get("plan_version"):
            lines.append((_("Plan version"), str(d["plan_version"])))
        if d.get("drill"):
            lines.append((_("Drill"), _("yes")))
        if d.get("source") and d["source"] != Source.MANUAL:
            lines.append((_("Source"), Source(d["source"]).label if d["source"] in Source.values else d["source"]))
    elif kind == "level_changed":
        lines.append((_("Level"), f"{names.level(d.get('from'))} → {names.level(d.get('to'))}"))
        lines.append((_("How"), _level_change_cause(d)))
        if d.get("reason"):
            lines.append((_("Reason"), d["reason"]))
        if d.get("lateness_seconds"):
            lines.append((_("Acted late by"), _seconds(d["lateness_seconds"])))
    elif kind == "notified":
        lines.append((_("Roles told"), names.roles_text(d.get("roles"))))
        lines.append((_("People told"), ", ".join(d.get("people") or []) or _("nobody holds these roles")))
    elif kind == "checked_in":
        for met in d.get("deadlines_met") or []:
            lines.append((_("On-site deadline met"), _("%(role)s, %(early)s before the limit") % {
                "role": names.role(met.get("role")), "early": _seconds(met.get("early_seconds"))}))
        if not d.get("deadlines_met"):
            lines.append((_("On-site deadline met"), _("none pending for this person's roles")))
    elif kind == "deadline_missed":
        lines.append((_("Deadline"), _("%(kind)s of %(role)s, due %(due)s") % {
            "kind": _deadline_kind(d.get("deadline_kind")), "role": names.role(d.get("role")),
            "due": _when(d.get("due_at"))}))
        lines.append((_("Reported to"), names.roles_text(d.get("reported_to"))))
    elif kind == "condition_not_met":
        lines.append((_("Escalation to"), names.level(d.get("target"))))
        condition = {"field": d.get("field"), d.get("op") or "gt": d.get("value")}
        lines.append((_("Condition"), condition_text(condition)))
        lines.append((_("Actual value"), _value(d.get("actual"))))
    elif kind == "plan_proposed":
        lines.append((_("Response plan"), d.get("text", "")))
        lines.append((_("Approval by"), names.role(d["approver_role"]) if d.get("approver_role")
                      else _("no approval needed")))
    elif kind in {"plan_approved", "plan_rejected"}:
        if d.get("comment"):
            lines.append((_("Comment"), d["comment"]))
    elif kind == "recovered":
        if d.get("note"):
            lines.append((_("Note"), d["note"]))
        if d.get("stability_by"):
            lines.append((_("Stability watch"), _("%(role)s watches for %(watch)s, until %(until)s") % {
                "role": names.role(d["stability_by"]), "watch": _seconds(d.get("watch_seconds")),
                "until": _when(d.get("watch_ends_at"))}))
    elif kind == "stability_confirmed":
        if d.get("by_role"):
            lines.append((_("Confirmed as"), names.role(d["by_role"])))
        if d.get("watched_seconds") is not None:
            lines.append((_("Watched after recovery"), _seconds(d["watched_seconds"])))
        lines.append((_("Observed"), d.get("observed", "")))
    elif kind == "deadline_cancelled":
        lines.append((_("Deadline"), _deadline_text(d, names)))
        lines.append((_("Why"), _cancelled_why(d, names)))
    elif kind == "resolved":
        lines.append((_("Summary"), d.get("summary", "")))
        if d.get("stability_confirmed"):
            lines.append((_("Stability"), _("confirmed after recovery")))
        if d.get("deadlines_cancelled"):
            lines.append((_("Deadlines cancelled"), str(d["deadlines_cancelled"])))
    elif kind == "reviewed":
        lines.append((_("Review"), d.get("notes", "")))
    elif kind == "updated":
        for name, change in d.items():
            if isinstance(change, dict):
                old, new = change.get("from"), change.get("to")
                if name == "affected_system":
                    old, new = _system(old), _system(new)
                lines.append((FIELD_NAMES.get(name, name), f"{_value(old)} → {_value(new)}"))
    elif kind == "announced":
        lines.append((_("Level"), names.level(d.get("level"))))
        lines.append((_("How"), _("by the plan, when the level started") if d.get("automatic") else _("by a person")))
        lines.append((_("Announcement"), d.get("text", "")))
    elif kind == "reported_to":
        lines.append((_("Report"), f"{names.role(d.get('from'))} → {names.role(d.get('to'))}"))
    else:
        lines += [(str(key).replace("_", " "), _value(value)) for key, value in d.items()
                  if not isinstance(value, (dict, list))]
    if not lines:
        return ""
    return format_html('<dl class="detail">{}</dl>',
                       format_html_join("", "<dt>{}</dt><dd>{}</dd>", ((k, v) for k, v in lines if v != "")))


def _note(entry, d):
    """A person's note: its text, and its attachment as a link (a thumbnail for a screenshot)."""
    parts = []
    if d.get("text"):
        parts.append(format_html('<dt>{}</dt><dd class="note-text">{}</dd>', _("Note"), d["text"]))
    attachment = d.get("attachment")
    if isinstance(attachment, dict) and attachment.get("id"):
        url = reverse("incident_note_attachment", args=[entry.incident_id, attachment["id"]])
        label = _("%(name)s (%(size)s)") % {"name": attachment.get("name", ""),
                                            "size": notes.human_size(int(attachment.get("size") or 0))}
        if str(attachment.get("content_type", "")).startswith("image/"):
            link = format_html('<a href="{}" class="note-attachment" target="_blank" rel="noopener">{}'
                               '<img src="{}" alt="{}" class="note-thumb" loading="lazy"></a>',
                               url, label, url, attachment.get("name", ""))
        else:
            link = format_html('<a href="{}" class="note-attachment" download>{}</a>', url, label)
        parts.append(format_html("<dt>{}</dt><dd>{}</dd>", _("Attachment"), link))
    if not parts:
        return ""
    return format_html('<dl class="detail">{}</dl>', format_html_join("", "{}", ((p,) for p in parts)))


def _level_change_cause(d):
    """The real cause of a level change, in words (entries from before ``cause`` only had ``manual``)."""
    cause = d.get("cause") or ("person" if d.get("manual") else "plan")
    return {
        "person": _("by a person"),
        "alert": _("by a monitoring alert"),
        "plan": _("by the plan's time limit"),
        "condition": _("by the plan's escalation condition, now met"),
    }.get(cause, str(cause))


def _deadline_text(d, names):
    kind = d.get("deadline_kind")
    if kind == "escalation":
        who = _("to %(level)s") % {"level": names.level(d.get("target"))}
    elif d.get("to_role"):
        who = f"{names.role(d.get('role'))} → {names.role(d['to_role'])}"
    else:
        who = names.role(d.get("role"))
    return _("%(kind)s: %(who)s, due %(due)s") % {"kind": _deadline_kind(kind), "who": who, "due": _when(d.get("due_at"))}


def _cancelled_why(d, names):
    why = d.get("why")
    if why == "level_changed":
        return _("the level changed to %(level)s") % {"level": names.level(d.get("to_level"))}
    return {
        "incident_resolved": _("the incident was resolved"),
        "incident_archived": _("the incident was archived"),
        "incident_closed": _("the incident was closed"),
    }.get(why, str(why or ""))


def _system(value):
    return AffectedSystem(value).label if value in AffectedSystem.values else value


def _deadline_kind(kind):
    from escalation.models import Kind

    return Kind(kind).label if kind in Kind.values else kind or ""


@register.filter
def deadline_condition(deadline):
    """The escalation condition a deadline copied from its plan cell, in the plan's shape."""
    if not deadline.condition_field:
        return None
    return {"field": deadline.condition_field, deadline.condition_op or "gt": deadline.condition_value}
