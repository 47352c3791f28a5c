"""A drill's scripted injections: what happens to the drill incident, and when (plan time from the start).

An injection is ``{"after": "10m", "action": "escalate", "level": "orange"}``
(the level worsens) or ``{"after": "20m", "action": "recover"}`` (the alert
recovers). Stored with ``after`` in plan seconds; each runs as an engine
deadline of kind ``drill_step``, due ``after / clock`` real seconds after the start.
"""

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _

from plan.durations import parse_duration

ESCALATE = "escalate"
RECOVER = "recover"
ACTIONS = (ESCALATE, RECOVER)
# Longer than any response the plan times (its longest, network yellow, is 24 h): a typing error.
LONGEST = timedelta(days=30)


def checked_injections(raw: Any, *, level_keys: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The injections normalised (``after`` in plan seconds, sorted), and the problems, each naming the item."""
    if raw in (None, ""):
        return [], []
    if not isinstance(raw, list):
        return [], [_("a list of injections, each with after and action")]
    known = set(level_keys)
    done: list[dict[str, Any]] = []
    problems: list[str] = []
    for n, item in enumerate(raw, 1):
        if not isinstance(item, Mapping):
            problems.append(_("injection %(n)d: an object with after and action") % {"n": n})
            continue
        try:
            after = parse_duration(item.get("after"))
        except (ValueError, TypeError, OverflowError):
            problems.append(_("injection %(n)d: after is a duration such as 10m or 1h") % {"n": n})
            continue
        if after.total_seconds() <= 0:
            problems.append(_("injection %(n)d: after must be later than the start") % {"n": n})
            continue
        if after > LONGEST:
            problems.append(_("injection %(n)d: a drill's script spans at most 30 days of plan time") % {"n": n})
            continue
        action = item.get("action")
        if action not in ACTIONS:
            problems.append(_("injection %(n)d: action is escalate or recover") % {"n": n})
            continue
        step: dict[str, Any] = {"after": int(after.total_seconds()), "action": action}
        if action == ESCALATE:
            if item.get("level") not in known:
                problems.append(_("injection %(n)d: level is one of %(keys)s") % {"n": n, "keys": ", ".join(sorted(known))})
                continue
            step["level"] = item["level"]
        done.append(step)
    return sorted(done, key=lambda s: s["after"]), problems


def subject(drill_id: int, step: int | str) -> str:
    """The engine deadline's subject: ``drill:<id>:step:<n>``, or ``drill:<id>:start`` for a scheduled start."""
    return f"drill:{drill_id}:start" if step == "start" else f"drill:{drill_id}:step:{step}"


def parse_subject(text: str) -> tuple[int, str] | None:
    """(drill id, "start" or the step number as text) of a subject, or None when it is not a drill's."""
    parts = text.split(":")
    if len(parts) == 3 and parts[0] == "drill" and parts[2] == "start" and parts[1].isdigit():
        return int(parts[1]), "start"
    if len(parts) == 4 and parts[0] == "drill" and parts[2] == "step" and parts[1].isdigit() and parts[3].isdigit():
        return int(parts[1]), parts[3]
    return None
