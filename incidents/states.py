"""The incident state machine: the one place that lists allowed transitions.

    reported ──acknowledge──▶ acknowledged ──check_in──▶ on_site
        │                          │                        │
        └──────────────(propose_plan)──────────────────────┘
                                   ▼
                             plan_proposed ──approve──▶ plan_approved ──start──▶ implementing
                                   │                                                │
                                   └──reject──▶ plan_rejected ──propose_plan──┐      │
                                                                              ▼      ▼
    acknowledged/on_site/implementing/plan_approved ──mark_recovered──▶ recovered (awaiting stability, plan 4.2.2)
    acknowledged/on_site/implementing/plan_approved/recovered ──resolve──▶ resolved ──review──▶ reviewed ──archive──▶ archived

Drawn in docs/incident-states.md. Level changes (escalate, de-escalate) are not
status transitions: they are allowed in every open status.
"""

from collections.abc import Collection

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ON_SITE = "on_site", _("Responders on site")
    PLAN_PROPOSED = "plan_proposed", _("Response plan awaiting approval")
    PLAN_APPROVED = "plan_approved", _("Response plan approved")
    PLAN_REJECTED = "plan_rejected", _("Response plan rejected")
    IMPLEMENTING = "implementing", _("Implementing the response plan")
    RECOVERED = "recovered", _("Recovered, awaiting stability confirmation")
    RESOLVED = "resolved", _("Resolved")
    REVIEWED = "reviewed", _("Reviewed")
    ARCHIVED = "archived", _("Archived")


OPEN_STATUSES = frozenset(
    {
        Status.REPORTED,
        Status.ACKNOWLEDGED,
        Status.ON_SITE,
        Status.PLAN_PROPOSED,
        Status.PLAN_APPROVED,
        Status.PLAN_REJECTED,
        Status.IMPLEMENTING,
        Status.RECOVERED,
    }
)
_WORKING = {Status.ACKNOWLEDGED, Status.ON_SITE}

# action → (statuses it may start from, status it leads to: None keeps the status, a mapping
# gives the target per starting status and keeps any status it does not list)
TRANSITIONS: dict[str, tuple[Collection[str], str | dict[str, str] | None]] = {
    "acknowledge": ({Status.REPORTED}, Status.ACKNOWLEDGED),
    # Arriving is recorded whenever it happens; it moves the status only before work has begun.
    "check_in": (set(OPEN_STATUSES) - {Status.RECOVERED}, {Status.REPORTED: Status.ON_SITE,
                                                            Status.ACKNOWLEDGED: Status.ON_SITE}),
    # Where the plan cell needs no approval, a proposed plan is recorded and goes straight to
    # IMPLEMENTING (incidents.services.propose_plan); PLAN_PROPOSED means "awaiting approval".
    "propose_plan": (_WORKING | {Status.REPORTED, Status.PLAN_REJECTED, Status.IMPLEMENTING}, Status.PLAN_PROPOSED),
    "approve_plan": ({Status.PLAN_PROPOSED}, Status.PLAN_APPROVED),
    "reject_plan": ({Status.PLAN_PROPOSED}, Status.PLAN_REJECTED),
    "start_implementing": (_WORKING | {Status.PLAN_APPROVED}, Status.IMPLEMENTING),
    "mark_recovered": (_WORKING | {Status.PLAN_APPROVED, Status.IMPLEMENTING}, Status.RECOVERED),
    "resolve": (_WORKING | {Status.PLAN_APPROVED, Status.IMPLEMENTING, Status.RECOVERED}, Status.RESOLVED),
    "review": ({Status.RESOLVED}, Status.REVIEWED),
    "archive": ({Status.REVIEWED}, Status.ARCHIVED),
    "escalate": (set(OPEN_STATUSES), None),
    "deescalate": (set(OPEN_STATUSES), None),
    "update": (set(OPEN_STATUSES), None),
    # The office's own announcement of the level to the business departments (plan 4.1.3).
    "announce": (set(OPEN_STATUSES), None),
    # Notes serve the review too, so they go on after resolving; an archived record is closed for good.
    "add_note": (set(OPEN_STATUSES) | {Status.RESOLVED, Status.REVIEWED}, None),
    # The office ends a drill whenever it chooses, whatever the exercise reached (drills app).
    "end_drill": (set(OPEN_STATUSES), Status.RESOLVED),
}

ACTION_NAMES = {
    "acknowledge": _("acknowledge"),
    "check_in": _("check in on site"),
    "propose_plan": _("propose a response plan"),
    "approve_plan": _("approve the response plan"),
    "reject_plan": _("reject the response plan"),
    "start_implementing": _("start implementing"),
    "mark_recovered": _("mark recovered"),
    "resolve": _("resolve"),
    "review": _("record the review"),
    "archive": _("archive"),
    "escalate": _("escalate"),
    "deescalate": _("lower the level"),
    "update": _("update"),
    "announce": _("announce the level"),
    "add_note": _("add a note"),
    "end_drill": _("end the drill"),
}


def allowed(action: str, *, status: str) -> bool:
    sources, _target = TRANSITIONS[action]
    return status in sources


def target_status(action: str, *, status: str) -> str:
    _sources, target = TRANSITIONS[action]
    if isinstance(target, dict):
        return target.get(status, status)
    return target or status
