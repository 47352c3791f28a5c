"""The words the timeline is read in: the plan's names, durations, conditions, and the system's own sentences.

``timeline_text`` renders each entry with these; they work in the *active*
language. ``system_text`` recognises the few sentences older rows stored in
one language and says them again in the reader's.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from plan.text import current_language_is_chinese

from .models import AffectedSystem

if TYPE_CHECKING:
    from .models import Incident

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
                "field": FIELD_NAMES.get(name, name), "op": sign, "value": number(condition[op])}
    return ""


def system_text(value: Any) -> str:
    """A sentence the system wrote (in either language), said in the reader's; anything else as it is."""
    if not isinstance(value, str) or not value:
        return value_text(value) if not isinstance(value, str) else value
    found = system_sentence(value)
    if found is None:
        return value
    msgid, said = found
    params = {k: system_text(v) if k != "field" else str(FIELD_NAMES.get(v, v)) for k, v in said.items()}
    return _(msgid) % params if params else _(msgid)


def system_sentence(value: str) -> tuple[str, dict[str, str]] | None:
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


# --- small formatters ------------------------------------------------------------------------


def colon() -> str:
    return "：" if current_language_is_chinese() else ": "


def bracketed(text: str, aside: str) -> str:
    return f"{text}（{aside}）" if current_language_is_chinese() else f"{text} ({aside})"


def humanise(key: Any) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def when(value: Any) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return ""
    return date_format(timezone.localtime(value), "Y-m-d H:i:s")


def seconds(value: Any) -> str:
    try:
        return human_duration(timedelta(seconds=abs(float(value))))
    except (TypeError, ValueError, OverflowError):
        return ""


def value_text(value: Any) -> str:
    if value is None or value == "":
        return _("(empty)")
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


def system_name(value: Any) -> Any:
    return AffectedSystem(value).label if value in AffectedSystem.values else value


def deadline_kind(kind: Any) -> str:
    from escalation.models import Kind

    return str(Kind(kind).label) if kind in Kind.values else humanise(kind or "")
