"""What a notification says, as facts, and those facts in the reader's language.

A notification stores its facts (``Notification.facts``) when it is created:
the incident's number, title and drill mark, the level and category with the
plan's names in both languages, what is asked, by when, and a note. The page,
the API and the robots render them in their reader's language; the stored
``title`` and ``body`` are the copy written in the recipient's language, which
their own channels (email, SMS) send (docs/notifications.md).

A note is what the event adds, in one of three shapes:

* a string: what a person wrote, shown as written;
* ``{"msgid": ..., "params": {...}}``: a sentence of the system (a msgid marked
  with ``gettext_noop`` where it is written), translated when read; a param is
  a string, a number, a ``{language: text}`` mapping or ``{"list": [...]}``;
* ``{"text": {language: text}}``: a text someone wrote in several languages
  (an announcement), shown in the reader's, else another.

A caller may also pass a function that writes the note in the active
language: it is called once per language and stored as ``{"text": ...}``.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from plan.text import current_language_is_chinese

if TYPE_CHECKING:
    from incidents.models import Incident

Note = str | Mapping[str, Any] | Callable[[], str]


def in_each_language(say: Callable[[], Any]) -> dict[str, str]:
    """``{"zh-hans": ..., "en": ...}``: what ``say`` says in each of the site's languages."""
    said = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            said[code] = str(say())
    return said


def bilingual(obj: Any, field: str = "name") -> dict[str, str]:
    """A plan object's own texts (``name_zh``/``name_en``) under the site's language codes."""
    return {"zh-hans": getattr(obj, f"{field}_zh", "") or "", "en": getattr(obj, f"{field}_en", "") or ""}


def localized(value: Any) -> str:
    """A ``{language: text}`` mapping in the active language (else the site's, else any); a string as it is."""
    if isinstance(value, Mapping):
        if "list" in value and isinstance(value["list"], list):
            return join_list(localized(v) for v in value["list"])
        language = (translation.get_language() or settings.LANGUAGE_CODE).lower()
        for code in (language, language.split("-")[0], "zh-hans" if language.startswith("zh") else "",
                     settings.LANGUAGE_CODE):
            if code and value.get(code):
                return str(value[code])
        return next((str(v) for v in value.values() if v), "")
    return "" if value is None else str(value)


def join_list(items: Any) -> str:
    """A list as the reader writes one: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if current_language_is_chinese() else ", ").join(str(i) for i in items if i)


def note_text(note: Note | None) -> str:
    """A note (see the module's docstring) in the active language."""
    if not note:
        return ""
    if isinstance(note, str):
        return note
    if callable(note):
        return str(note())
    if "msgid" in note:
        params = {key: value if isinstance(value, (int, float)) and not isinstance(value, bool) else localized(value)
                  for key, value in (note.get("params") or {}).items()}
        try:
            return _(str(note["msgid"])) % params if params else _(str(note["msgid"]))
        except (KeyError, TypeError, ValueError):  # a catalogue's placeholders that no longer match
            return str(note["msgid"]) % params if params else str(note["msgid"])
    if "text" in note:
        return localized(note["text"])
    return ""


def notification_facts(incident: "Incident", *, ask: str, due_at: datetime | None, note: Note | None) -> dict[str, Any]:
    """The facts a notification about ``incident`` stores when it is created."""
    return {
        "incident": incident.pk, "title": incident.title, "drill": incident.is_drill,
        "level": {"key": incident.level.key, **bilingual(incident.level)},
        "category": {"key": incident.category.key, **bilingual(incident.category)},
        "ask": ask, "due_at": due_at.isoformat() if due_at else None,
        "note": {"text": in_each_language(note)} if callable(note) else (note or ""),
    }


def render(facts: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) of a notification's facts, in the active language."""
    drill = facts.get("drill")
    title = f"{_('[DRILL] ') if drill else ''}{localized(facts.get('level'))} · {localized(facts.get('category'))} · " \
            f"#{facts.get('incident')} {facts.get('title', '')}"
    ask, due_at = facts.get("ask"), facts.get("due_at")
    due = parse_datetime(due_at) if isinstance(due_at, str) else None
    if ask == "on_site" and due:
        request = _("Be on site by %(time)s.") % {"time": timezone.localtime(due).strftime("%H:%M")}
    elif ask == "approve":
        request = _("Approve or reject the response plan.")
    elif ask == "missed":
        request = _("A deadline was missed.")
    elif ask == "acknowledge":
        request = _("Acknowledge and respond.")
    elif ask == "announce":
        request = _("Announcement of the warning level.")
    else:
        request = _("For your information.")
    drill_note = _("This is a drill.") if drill else ""
    body = " ".join(part for part in (request, note_text(facts.get("note")), drill_note) if part)
    # A drill's every subject and body starts with its mark, in the reader's language: nobody takes it for real.
    return title, f"{_('[DRILL] ')}{body}" if drill else body
