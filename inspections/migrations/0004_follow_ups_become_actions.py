"""Follow-up items on assets become remediation actions of the asset (reviews.Action with no incident).

One path for "something to put right on an asset": a finding offers a fault or a remediation action, and an
action's due date is an engine deadline. Each follow-up item becomes an action of its asset: its title (and
detail), an owner (a holder of its owning role, else of the asset's, else whoever raised it, else the first
active staff member), its due date (else seven days after it was raised), open stays open with its deadline
started (past due: the next sweep tells the owner and the office), done becomes done with evidence saying
so. The finding that raised it links the action; a history row says where the action came from.

The reverse leaves the actions: the follow-up items come back empty (0005 and assets 0002 reversed).
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

# Frozen here (FENGHUO_FINDING_ACTION_DUE_AFTER may change later; a migration's outcome must not).
DUE_AFTER = timedelta(days=7)
MAX_TITLE = 300


def owner_of(item, *, holders, staff_id):
    """The action's owner: a holder of the item's owning role, else of its asset's, else its raiser, else staff."""
    for role_key in (item.owner_role, item.asset.owner_role):
        if role_key and holders.get(role_key):
            return holders[role_key]
    return item.created_by_id or staff_id


def action_fields(item, *, owner_id):
    """The remediation action's fields for one follow-up item."""
    title = item.title.strip()
    if item.detail.strip():
        title = f"{title} — {item.detail.strip()}"
    done = item.status == "done"
    return {
        "incident_id": None, "asset_id": item.asset_id, "title": title[:MAX_TITLE] or "Follow-up item",
        "owner_id": owner_id, "due_at": item.due_at or item.created_at + DUE_AFTER,
        "status": "done" if done else "open", "created_at": item.created_at, "created_by_id": item.created_by_id,
        "evidence": (f"Recorded done as a follow-up item on the asset, {item.done_at:%Y-%m-%d %H:%M} UTC."
                     if done else ""),
        "carry_over_reason": "", "closed_at": item.done_at if done else None, "closed_by_id": None,
    }


def forward(apps, schema_editor):
    FollowUp = apps.get_model("assets", "FollowUp")
    Action = apps.get_model("reviews", "Action")
    HistoricalAction = apps.get_model("reviews", "HistoricalAction")
    Deadline = apps.get_model("escalation", "Deadline")
    Result = apps.get_model("inspections", "Result")
    RoleAssignment = apps.get_model("people", "RoleAssignment")
    Person = apps.get_model("people", "Person")
    items = list(FollowUp.objects.select_related("asset").order_by("id"))
    if not items:
        return
    holders: dict[str, int] = {}
    for role_key, person_id in (RoleAssignment.objects.filter(person__is_active=True)
                                .order_by("person__username").values_list("role_key", "person_id")):
        holders.setdefault(role_key, person_id)
    staff_id = Person.objects.filter(is_active=True, is_staff=True).order_by("pk").values_list("pk", flat=True).first()
    now = timezone.now()
    for item in items:
        owner_id = owner_of(item, holders=holders, staff_id=staff_id)
        if owner_id is None:
            raise RuntimeError(f"follow-up item #{item.pk} has nobody to own it as a remediation action: give "
                               f"asset {item.asset.tag} an owning role someone holds (or add a staff member), "
                               "then migrate again")
        fields = action_fields(item, owner_id=owner_id)
        action = Action.objects.create(**fields)
        HistoricalAction.objects.create(id=action.pk, **fields, history_date=now, history_type="+",
                                        history_change_reason=f"follow-up item {item.pk}")
        if action.status == "open":
            Deadline.objects.create(kind="remediation", subject=f"action:{action.pk}", incident=None, level_key="",
                                    started_at=min(action.created_at, action.due_at), due_at=action.due_at,
                                    note=action.title[:300])
        Result.objects.filter(follow_up_id=item.pk).update(remediation_action_id=action.pk)


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0003_finding_remediation_action"),
        ("assets", "0001_register"),
        ("escalation", "0005_deadlines_beyond_the_response"),
        ("people", "0002_person_audit_permission"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
