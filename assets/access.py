"""Who keeps the register and the inspection schedules: staff, or a role the plan lets coordinate.

No role key here: the plan's ``coordinate`` authority (the emergency office in
the shipped plan, plan 2.2 "safety inspections and follow-up") decides.
"""

from typing import Any

from plan.services import roles_with


def may_manage_assets(user: Any) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return bool(user.is_staff or user.role_keys() & roles_with("coordinate"))
