"""The plan's stability rule (plan 4.2.2): watch after recovery, and only then resolve.

A plan cell may say ``stability: {by: <role>, watch: <duration>}``: once the
service is back (``services.mark_recovered`` sets ``Incident.recovered_at``),
the ``by`` role watches the system for ``watch`` and confirms it stable, saying
what it watched and saw; only then may the incident be resolved. ``refusal``
is that rule, for the service (which raises it, 409) and the page (which shows
who must confirm and from when).
"""

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from core.errors import Refused

from .templatetags.incident_pages import human_duration

if TYPE_CHECKING:
    from people.models import Person
    from plan.models import Cell

    from .models import Incident

CODE = "stability_not_confirmed"


def required(cell: "Cell") -> bool:
    return cell.stability_by_id is not None


def watch_ends_at(incident: "Incident", cell: "Cell") -> datetime | None:
    """When the watch after recovery is over: None when the cell has no watch or the service is not back yet."""
    if not required(cell) or incident.recovered_at is None or cell.stability_watch is None:
        return None
    return incident.recovered_at + cell.stability_watch / incident.clock  # a drill's compressed clock


def refusal(incident: "Incident", *, cell: "Cell", person: "Person | None", now: datetime) -> str | None:
    """None when ``person`` may confirm stability and resolve now; else why not, naming the role and the time left."""
    if not required(cell):
        return None
    assert cell.stability_by is not None and cell.stability_watch is not None  # stored together (plan/models.py)
    role, watch = cell.stability_by.name, human_duration(cell.stability_watch)
    ends_at = watch_ends_at(incident, cell)
    if ends_at is None:
        return _("cannot resolve yet: the plan asks %(role)s to watch the system for %(watch)s after recovery and "
                 "confirm it stable (plan 4.2.2); mark it recovered first") % {"role": role, "watch": watch}
    if now < ends_at:
        # Rounded up: "1 second left" until the very end, never "0 seconds".
        left = timedelta(seconds=math.ceil((ends_at - now).total_seconds()))
        return _("cannot resolve yet: %(role)s watches the system for %(watch)s after recovery (plan 4.2.2); "
                 "%(left)s left") % {"role": role, "watch": watch, "left": human_duration(left)}
    if person is None or not person.is_authenticated or cell.stability_by.key not in person.role_keys():
        return _("only %(role)s may confirm the system stable and resolve this incident (plan 4.2.2)") % {
            "role": role}
    return None


def check(incident: "Incident", *, cell: "Cell", person: "Person | None", now: datetime) -> None:
    """Raise the refusal (409) when the cell's stability rule does not let ``person`` resolve now."""
    reason = refusal(incident, cell=cell, person=person, now=now)
    if reason:
        raise Refused(reason, code=CODE, status_code=409)
