"""Escalation conditions: one numeric incident field compared with a number.

The plan names the fields it may test; the incidents app supplies their values
when a deadline comes due. Keeping the vocabulary here keeps ``plan`` free of
imports from the other apps.
"""

import operator
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

CONDITION_FIELDS = {
    "affected_branch_ratio": _("affected branches ÷ the area's branches"),
    "affected_branches": _("affected branches"),
    "total_branches": _("the area's branches"),
}

OPERATORS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def condition_holds(field: str, *, op: str, value: float | None, values: Mapping[str, float | int | None]) -> bool:
    """Whether ``values[field] <op> value``; an unknown value (None) on either side never holds."""
    actual = values.get(field)
    if actual is None or value is None:
        return False
    return OPERATORS[op](actual, value)
