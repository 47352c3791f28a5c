"""Small pieces of the incident pages: level badges, durations, readable timeline details."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from incidents import notes
from incidents.states import ACTION_NAMES
from incidents.timeline_text import Names, actor_text, condition_text, entry_lines, human_duration

register = template.Library()

register.filter("human_duration", human_duration)
register.filter("condition_text", condition_text)


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


@register.simple_tag(takes_context=True)
def timeline_detail(context, entry):
    """One timeline entry's detail as short labelled lines, in the viewer's language (incidents.timeline_text)."""
    names = context.get("timeline_names")
    if names is None:  # the page has loaded the version's roles and levels already: no query per entry
        incident = context.get("incident") or entry.incident
        names = context["timeline_names"] = Names(
            roles=context.get("roles"), levels=context.get("levels_by_key"),
            categories={incident.category.key: incident.category}, version_id=incident.plan_version_id)
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    if entry.kind == "note" and ("text" in detail or "attachment" in detail):
        return _note(entry, detail)  # a person's note: its attachment is a link, not text
    lines = entry_lines(entry, names)
    if not lines:
        return ""
    return format_html('<dl class="detail">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", lines))


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


@register.simple_tag
def timeline_actor(entry):
    """Who acted, in the viewer's language: a person, an integration by its name, or "System"."""
    return actor_text(entry)


@register.filter
def deadline_condition(deadline):
    """The escalation condition a deadline copied from its plan cell, in the plan's shape."""
    if not deadline.condition_field:
        return None
    return {"field": deadline.condition_field, deadline.condition_op or "gt": deadline.condition_value}
