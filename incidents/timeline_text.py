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

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from plan.text import current_language_is_chinese

from .models import PlanStatus, Source, TimelineKind
from .notes import human_size
from .wording import (ALERT_NAME_LABELS, ALERT_STATUSES, ALL_RESOLVED, APPROVAL_REASKED, BY_A_STORM, BY_AN_ALERT,
                      CAUSES, CONDITION_NOW_MET, FIELD_NAMES, HIDDEN_KEYS, KEY_NAMES, SYSTEM_LABELS, Line, Names,
                      bracketed, colon, condition_text, deadline_kind, human_duration, humanise, join_list, seconds,
                      system_name, system_sentence, system_text, value_text, when)

# What the pages, the API and the tests read from here; the words themselves are in ``wording``.
__all__ = ["Names", "actor_text", "condition_text", "entry_lines", "entry_text", "human_duration", "join_list",
           "system_text"]

if TYPE_CHECKING:
    from .models import TimelineEntry


def actor_text(entry: "TimelineEntry") -> str:
    """Who acted: the person, the integration by its own name, or "System" when Fenghuo acted itself."""
    if entry.actor is not None:
        return entry.actor.display_name
    if (entry.actor_label or "") in SYSTEM_LABELS:
        return _("System")
    return entry.actor_label


def entry_text(entry: "TimelineEntry", names: Names | None = None) -> str:
    """The whole entry as one line in the active language: what happened, then its details."""
    kind = TimelineKind(entry.kind).label if entry.kind in TimelineKind.values else humanise(entry.kind)
    lines = entry_lines(entry, names)
    if not lines:
        return str(kind)
    after, semicolon = colon(), "；" if current_language_is_chinese() else "; "
    details = semicolon.join(f"{label}{after}{value}" if label else value for label, value in lines)
    return f"{kind}{after}{details}"


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
    lines.append((_("How"), str(CAUSES.get(cause, humanise(cause)))))
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
        lines.append((_("Acted late by"), seconds(d["lateness_seconds"])))
    return lines


def _cause_of_old_row(d: Mapping[str, Any]) -> str:
    """Rows written before ``cause`` was stored: said by ``manual`` and, for the system's, its reason."""
    if d.get("manual"):
        return "person"
    if d.get("alert"):
        return "alert"
    if d.get("condition_field"):
        return "condition"
    found = system_sentence(d["reason"]) if isinstance(d.get("reason"), str) else None
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
                      else humanise(decision)))
    if d.get("proposer"):
        lines.append((_("Proposed by"), str(d["proposer"])))
    return lines + [(_("Roles told"), names.roles(d.get("roles"))),
                    (_("People told"), join_list(d.get("people") or []) or _("nobody holds these roles"))]


def _checked_in(d: Mapping[str, Any], names: Names) -> list[Line]:
    met = d.get("deadlines_met") or []
    if not met:
        return [(_("On-site deadline met"), _("none pending for this person's roles"))]
    return [(_("On-site deadline met"), _("%(role)s, %(early)s before the limit") % {
        "role": names.role(m.get("role")), "early": seconds(m.get("early_seconds"))}) for m in met]


def _deadline_missed(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Deadline"), _("%(kind)s of %(role)s, due %(due)s") % {
        "kind": deadline_kind(d.get("deadline_kind")), "role": names.role(d.get("role")),
        "due": when(d.get("due_at"))})]
    if d.get("party_name") or d.get("party"):
        lines.append((_("Party"), _party(d)))
    if d.get("stage"):
        lines.append((_("Stage"), _stage(d["stage"])))
    if d.get("ticket"):
        lines.append((_("Ticket"), str(d["ticket"])))
    if "reported_to" in d:
        lines.append((_("Reported to"), names.roles(d.get("reported_to"))))
    if d.get("people"):
        lines.append((_("People told"), join_list(d["people"])))
    return lines


def _deadline_ended(d: Mapping[str, Any], names: Names) -> list[Line]:
    kind = d.get("deadline_kind") or d.get("kind")
    lines = [(_("Deadline"), _("%(kind)s of %(role)s, due %(due)s") % {
        "kind": deadline_kind(kind), "role": names.role(d.get("role")) or "—", "due": when(d.get("due_at"))})]
    why = d.get("why") or d.get("reason")
    if why:
        lines.append((_("Why"), system_text(why)))
    return lines + _rest(d, names, {"deadline_kind", "kind", "role", "due_at", "why", "reason"})


def _condition_not_met(d: Mapping[str, Any], names: Names) -> list[Line]:
    condition = {"field": d.get("field"), d.get("op") or "gt": d.get("value")}
    return [(_("Escalation to"), names.level(d.get("target"))),
            (_("Condition"), condition_text(condition)),
            (_("Actual value"), value_text(d.get("actual")))]


def _plan_proposed(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Response plan"), d.get("text", "")),
            (_("Approval by"), names.role(d["approver_role"]) if d.get("approver_role") else _("no approval needed"))]


def _plan_decided(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Comment"), d.get("comment") or "")]


def _plan_change(d: Mapping[str, Any], names: Names) -> list[Line]:
    """A proposal to change the emergency plan (improvements app): its number, why, what became of it."""
    lines: list[Line] = []
    if d.get("proposal"):
        lines.append((_("Proposal"), f"#{d['proposal']}"))
    if d.get("reason"):
        lines.append((_("Why"), str(d["reason"])))
    if isinstance(d.get("changes"), int):
        lines.append((_("Fields changed"), str(d["changes"])))
    if d.get("plan_version"):
        lines.append((_("Active plan version"), str(d["plan_version"])))
    if d.get("note"):
        lines.append((_("Comment"), str(d["note"])))
    return lines


def _recovered(d: Mapping[str, Any], names: Names) -> list[Line]:
    if d.get("integration"):
        lines = [(_("Note"), _(ALL_RESOLVED) % {"name": d["integration"]})]
    else:
        lines = [(_("Note"), system_text(d.get("note") or ""))]
    if d.get("stability_by"):  # the plan's stability watch (4.2.2) starts here
        lines.append((_("Stability watch"), _("%(role)s watches for %(watch)s, until %(until)s") % {
            "role": names.role(d["stability_by"]), "watch": seconds(d.get("watch_seconds")),
            "until": when(d.get("watch_ends_at"))}))
    return lines


def _resolved(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Summary"), d.get("summary", ""))]
    if d.get("stability_confirmed"):
        lines.append((_("Stability"), _("confirmed after recovery")))
    if d.get("deadlines_cancelled"):
        lines.append((_("Deadlines cancelled"), str(d["deadlines_cancelled"])))
    return lines


def _reviewed(d: Mapping[str, Any], names: Names) -> list[Line]:
    # Rows of the one-box review before the reviews app carry its text; an approval carries only the review's id.
    return [(_("Review"), d.get("notes", ""))]


def _review_step(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Reason"), d.get("reason") or "")]


def _action(d: Mapping[str, Any]) -> Line:
    return (_("Action"), _("#%(id)s %(title)s") % {"id": d.get("action", ""), "title": d.get("title", "")})


def _action_added(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [_action(d), (_("Owner"), str(d.get("owner") or "")), (_("Due"), when(d.get("due_at")))]


def _action_done(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [_action(d), (_("Evidence"), str(d.get("evidence") or ""))]
    if d.get("late_seconds"):
        lines.append((_("Done late by"), seconds(d["late_seconds"])))
    return lines


def _action_carried_over(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [_action(d), (_("Why carried over"), str(d.get("reason") or ""))]


def _action_overdue(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [_action(d), (_("Owner"), str(d.get("owner") or "")), (_("Due"), when(d.get("due_at")))]
    if d.get("reminder"):
        lines.append((_("Reminder"), str(d["reminder"])))
    lines.append((_("Reported to"), names.roles(d.get("reported_to"))))
    if d.get("people"):
        lines.append((_("People told"), join_list(d["people"])))
    if d.get("next_reminder_at"):
        lines.append((_("Next reminder"), when(d["next_reminder_at"])))
    return lines


def _updated(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = []
    for name, change in d.items():
        if isinstance(change, dict):
            old, new = change.get("from"), change.get("to")
            if name == "affected_system":
                old, new = system_name(old), system_name(new)
            lines.append((str(FIELD_NAMES.get(name, humanise(name))), f"{value_text(old)} → {value_text(new)}"))
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
        facts = [str(ALERT_STATUSES.get(status, humanise(status)))]
        if alert.get("level"):
            facts.append(names.level(alert["level"]))
        if alert.get("starts_at"):
            facts.append(_("since %(when)s") % {"when": when(alert["starts_at"])})
        labels: dict[str, Any] = alert["labels"] if isinstance(alert.get("labels"), dict) else {}
        shown = [f"{k}={v}" for k, v in sorted(labels.items()) if k not in ALERT_NAME_LABELS][:6]
        if shown:
            facts.append(join_list(shown))
        summary = alert.get("summary") or _("(no summary)")
        name = next((str(labels[k]) for k in ALERT_NAME_LABELS if labels.get(k)), "")
        said = summary if not name or name in summary else f"{name}{colon()}{summary}"
        lines.append((_("Alert"), bracketed(said, join_list(facts))))
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
            "threshold": d.get("threshold", ""), "window": seconds(d.get("window_seconds"))}))
    if d.get("storm_ended"):
        quiet = seconds(d.get("quiet_seconds"))
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
            lines.append((_("Due"), when(d["approval_due_at"])))
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
        lines.append((_("Watched after recovery"), seconds(d["watched_seconds"])))
    lines.append((_("Observed"), d.get("observed") or d.get("stability") or ""))
    if d.get("recovered_at"):
        lines.append((_("recovered at"), when(d["recovered_at"])))
    if d.get("watch_seconds") is not None:
        lines.append((_("Stability watch"), seconds(d["watch_seconds"])))
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
                        "incident_closed": _("the incident was closed")}.get(why, humanise(why)))
    return [(_("Deadline"), _("%(kind)s: %(who)s, due %(due)s") % {
                "kind": deadline_kind(kind), "who": who, "due": when(d.get("due_at"))}),
            (_("Why"), why_text)]


def _nothing(d: Mapping[str, Any], names: Names) -> list[Line]:
    return _fallback(d, names)


# Outside parties (the external app, a layer up, writes these rows): the words for its stages and channels.
def _stage(key: Any) -> str:
    return str({"initial": _("Initial notice"), "written": _("Written report"),
                "final": _("Final report")}.get(key, humanise(str(key or ""))))


def _channel(key: Any) -> str:
    return str({"phone": _("Phone"), "fax": _("Fax"), "email": _("Email"),
                "online": _("Online reporting system")}.get(key, humanise(str(key or ""))))


def _party(d: Mapping[str, Any]) -> str:
    from notifications.facts import localized

    return localized(d.get("party_name")) or str(d.get("party") or "")


def _external_report_sent(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Party"), _party(d)), (_("Stage"), _stage(d.get("stage"))), (_("Sent at"), when(d.get("sent_at"))),
             (_("Channel"), _channel(d.get("channel"))), (_("Reference"), str(d.get("reference") or ""))]
    if d.get("due_at"):
        lines.append((_("Due"), when(d["due_at"])))
        if d.get("late"):
            lines.append((_("In time"), _("no, sent late")))
    return lines


def _external_report_reminded(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Party"), _party(d)), (_("Stage"), _stage(d.get("stage"))), (_("Due"), when(d.get("due_at"))),
            (_("Reminded"), names.roles(d.get("reminded")))]


def _callout(d: Mapping[str, Any], names: Names) -> list[Line]:
    return [(_("Party"), _party(d)), (_("Contact"), str(d.get("contact") or "")),
            (_("Ticket"), str(d.get("ticket") or "")), (_("Promised arrival"), when(d.get("promised_by")))]


def _callout_moved(d: Mapping[str, Any], names: Names) -> list[Line]:
    lines = [(_("Party"), _party(d)), (_("Ticket"), str(d.get("ticket") or "")),
             (_("At"), when(d.get("arrived_at") or d.get("departed_at")))]
    if d.get("late"):
        lines.append((_("Promised arrival"), _("%(time)s, missed") % {"time": when(d.get("promised_by"))}))
    return lines


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
    "plan_change_proposed": _plan_change,
    "plan_change_approved": _plan_change,
    "plan_change_rejected": _plan_change,
    "implementing": _nothing,
    "recovered": _recovered,
    "stability_confirmed": _stability_confirmed,
    "resolved": _resolved,
    "reviewed": _reviewed,
    "review_drafted": _review_step,
    "review_submitted": _review_step,
    "review_returned": _review_step,
    "action_added": _action_added,
    "action_done": _action_done,
    "action_carried_over": _action_carried_over,
    "action_overdue": _action_overdue,
    "archived": _nothing,
    "updated": _updated,
    "reported_to": _reported_to,
    "alert": _alert,
    "note": _note,
    "announced": _announced,
    "external_report_sent": _external_report_sent,
    "external_report_reminded": _external_report_reminded,
    "callout": _callout,
    "callout_arrived": _callout_moved,
    "callout_departed": _callout_moved,
}


def _fallback(d: Mapping[str, Any], names: Names) -> list[Line]:
    return _rest(d, names, set())


def _rest(d: Mapping[str, Any], names: Names, read: set[str]) -> list[Line]:
    """The keys a renderer did not read, as "name: value" lines a person can read."""
    lines: list[Line] = []
    for key, value in d.items():
        if key in read or key in HIDDEN_KEYS or isinstance(value, (dict, list)):
            continue
        label = str(KEY_NAMES.get(key) or humanise(key))
        if key.endswith("_at"):
            shown = when(value) or value_text(value)
        elif key.endswith("_seconds"):
            shown = seconds(value) or value_text(value)
        elif key == "level" or key.endswith("_level"):
            shown = names.level(value)
        elif key == "role" or key.endswith("_role"):
            shown = names.role(value)
        else:
            shown = system_text(value) if isinstance(value, str) else value_text(value)
        lines.append((label, shown))
    return lines
