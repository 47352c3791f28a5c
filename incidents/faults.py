"""What a logged fault must be before an incident is opened: every check, each naming what is wrong.

``checked_fault`` is the first half of ``services.log_faults``: everything is
checked before anything is written, so a refusal leaves the caller's
transaction usable.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Refused
from plan.models import Category, Level, PlanVersion

from . import permissions
from .models import Source

if TYPE_CHECKING:
    from people.models import Person

# log_fault's checked fields, the discovery time and the timeline's actor label.
CheckedFault = tuple[dict[str, Any], datetime | None, str]


def checked_fault(*, reporter: "Person | None", category: str, level: str, title: str, description: str = "",
                   affected_branches: int | None = None, total_branches: int | None = None,
                   affected_system: str = "", host_fault: bool = False, is_drill: bool = False,
                   discovered_at: datetime | None = None, source: str = Source.MANUAL, actor_label: str = "",
                   plan_version: PlanVersion | None = None, clock: float = 1.0) -> CheckedFault:
    """The incident's fields, discovery time and timeline label, or Refused / ValidationError naming what is wrong."""
    if reporter is not None:
        reason = permissions.refusal(reporter, action="log")
        if reason:
            raise Refused(_("cannot log a fault: %(reason)s") % {"reason": reason}, code="forbidden", status_code=403)
    version = plan_version or PlanVersion.objects.active()
    errors: dict[str, list[str]] = {}
    category_obj = _plan_item(Category, version, category)
    level_obj = _plan_item(Level, version, level)
    if category_obj is None:
        keys = ", ".join(version.categories.values_list("key", flat=True))
        errors["category"] = [_("unknown category %(key)r; the plan has: %(keys)s") % {"key": category, "keys": keys}]
    if level_obj is None:
        keys = ", ".join(version.levels.values_list("key", flat=True))
        errors["level"] = [_("unknown level %(key)r; the plan has: %(keys)s") % {"key": level, "keys": keys}]
    if not (title or "").strip():
        errors["title"] = [_("a short title is required")]
    check_branches(affected_branches, total_branches, errors)
    if discovered_at is not None and discovered_at > timezone.now() + CLOCK_SKEW:
        errors["discovered_at"] = [_("cannot be in the future")]
    if clock != 1 and not is_drill:
        errors["clock"] = [_("only a drill may run the plan's clock faster")]
    if errors:
        raise ValidationError(errors)
    fields = dict(
        title=title.strip()[:200], description=description or "", plan_version=version, category=category_obj,
        level=level_obj, affected_branches=affected_branches, total_branches=total_branches,
        affected_system=affected_system or "", host_fault=bool(host_fault), is_drill=bool(is_drill), source=source,
        reporter=reporter, clock=float(clock))
    return fields, discovered_at, actor_label


# A reporter's clock may run a little ahead of ours; beyond this a discovery time is a typing error.
CLOCK_SKEW = timedelta(minutes=5)
# The largest count the database's integer column holds: beyond it the INSERT itself would fail.
MAX_BRANCHES = 2**31 - 1

# A stored plan version never changes (plan/models.py): its categories and levels are read once per process.
_plan_items: dict[tuple[type[Category | Level], int, str], Category | Level] = {}


def _plan_item(model: type[Category | Level], version: PlanVersion, key: str) -> Category | Level | None:
    """The category or level ``key`` of the plan version, or None."""
    found = _plan_items.get((model, version.pk, key))
    if found is None:
        found = model.objects.filter(version=version, key=key).first()
        if found is not None:
            _plan_items[model, version.pk, key] = found
    return found


def check_branches(affected: object, total: object, errors: dict[str, list[str]]) -> None:
    for name, value in (("affected_branches", affected), ("total_branches", total)):
        if value is not None and (not isinstance(value, int) or value < 0):
            errors[name] = [_("must be a whole number of branches, 0 or more")]
        elif value is not None and value > MAX_BRANCHES:
            errors[name] = [_("is larger than any count of branches")]
    if isinstance(affected, int) and isinstance(total, int) and affected > total:
        errors["affected_branches"] = [_("cannot exceed the area's %(total)d branches") % {"total": total}]
