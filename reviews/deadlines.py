"""What a due remediation deadline does: tell the action's owner and the office, then again at each interval.

Registered with the escalation engine for kind ``remediation`` in
``ReviewsConfig.ready``. Like the incident workflow's handler it locks the
incident row, then the deadline row (SKIP LOCKED: whoever holds it acts, or
meets or cancels it), re-checks, acts and marks the row in one transaction, so
two sweepers never remind twice. The reminder is the next deadline of the same
subject, counted from the previous due time (no drift), never from when a
sweeper got here.

An action of an asset alone (no incident) locks its own row in the incident's
place (``action_done`` and ``action_carry_over`` lock it before meeting or
cancelling the deadline too), tells the owner and the active plan's
``coordinate`` roles, and has no timeline to write on: the missed deadline and
the notifications are the record.
"""

from datetime import datetime
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from escalation import services as engine
from escalation.models import Deadline, Kind, State
from escalation.services import Outcome
from incidents import timeline
from incidents.models import Incident, TimelineKind
from incidents.states import Status
from notifications.facts import in_each_language
from notifications.models import Ask
from notifications.recipients import notify_person_and_roles, notify_roles_about
from plan.services import roles_with

from .models import Action, ActionStatus

OVERDUE = gettext_noop("Remediation action #%(id)s is overdue (due %(due)s): %(title)s")


def act_on_due_remediation(deadline_id: int, *, incident_id: int | None) -> str:
    with transaction.atomic():
        incident = None
        if incident_id is not None:
            incident = (Incident.objects.select_for_update(of=("self",), skip_locked=True).with_plan()
                        .filter(pk=incident_id).first())
            if incident is None:
                return Outcome.BUSY
        else:
            subject = Deadline.objects.filter(pk=deadline_id).values_list("subject", flat=True).first() or ""
            action_id = _action_id(subject)
            if action_id is not None and _lock_bare_action(action_id) is None \
                    and Action.objects.filter(pk=action_id).exists():
                return Outcome.BUSY  # its owner is closing it: they meet or cancel the deadline
        now = timezone.now()
        deadline = (Deadline.objects.select_for_update(skip_locked=True)
                    .filter(pk=deadline_id, state=State.PENDING, due_at__lte=now).first())
        if deadline is None:
            return Outcome.NOT_DUE
        action = _action_of(deadline)
        if action is None or action.status != ActionStatus.OPEN or action.incident_id != incident_id \
                or (incident is not None and incident.status == Status.ARCHIVED):
            # Done or carried over in a transaction that missed this row: it ends, it does not remind.
            deadline.state, deadline.acted_at, deadline.note = State.CANCELLED, now, "action no longer open"
            deadline.save(update_fields=["state", "acted_at", "note"])
            return Outcome.ACTED
        deadline.state, deadline.acted_at = State.MISSED, now
        deadline.save(update_fields=["state", "acted_at"])
        remind(incident, action, deadline, now=now)
        return Outcome.ACTED


def _action_id(subject: str) -> int | None:
    prefix, _colon, pk = subject.partition(":")
    return int(pk) if prefix == "action" and pk.isdigit() else None


def _lock_bare_action(action_id: int) -> int | None:
    return (Action.objects.select_for_update(skip_locked=True).filter(pk=action_id)
            .values_list("pk", flat=True).first())


def _action_of(deadline: Deadline) -> Action | None:
    action_id = _action_id(deadline.subject)
    if action_id is None:
        return None
    return (Action.objects.select_for_update(of=("self",)).select_related("owner", "asset")
            .filter(pk=action_id).first())


def remind(incident: Incident | None, action: Action, deadline: Deadline, *, now: datetime) -> Deadline:
    """Tell the owner and the office, record it, and start the next reminder. Caller holds the locks."""
    from .services import remind_every

    told_before = Deadline.objects.filter(kind=Kind.REMEDIATION, subject=action.subject,
                                          state=State.MISSED).exclude(pk=deadline.pk).count()
    version_id = incident.plan_version_id if incident is not None else None  # None: the active version
    coordinators = sorted(roles_with("coordinate", version_id))
    due_text = timezone.localtime(action.due_at).strftime("%Y-%m-%d %H:%M")
    note = {"msgid": OVERDUE, "params": {"id": action.pk, "title": action.title, "due": due_text}}
    if incident is not None:
        told, _nobody = notify_person_and_roles(incident, person=action.owner, role_keys=coordinators,
                                                event=f"deadline:{deadline.pk}", ask=Ask.MISSED, note=note)
    else:
        tag = action.asset.tag if action.asset else ""
        title = in_each_language(lambda: _("Remediation action overdue: %(asset)s %(title)s") % {
            "asset": tag, "title": action.title})
        told, _nobody = notify_roles_about(f"remediation:{action.subject}", person=action.owner,
                                           role_keys=coordinators, event=f"deadline:{deadline.pk}",
                                           ask=Ask.MISSED, title=title, note=note,
                                           link=f"/actions/?asset={quote(tag)}" if tag else "/actions/")
    every = remind_every()
    due = deadline.due_at + every
    while due <= now:  # a sweep that ran late (beat down for a day) reminds once, not once per missed interval
        due += every
    following = engine.start_deadline(kind=Kind.REMEDIATION, due_at=due, incident=incident, subject=action.subject,
                                      level_key=deadline.level_key, started_at=deadline.due_at,
                                      note=f"reminder {told_before + 1}")
    if incident is not None:
        timeline.record(incident, kind=TimelineKind.ACTION_OVERDUE, at=now, deadline=deadline, detail={
            "action": action.pk, "title": action.title, "owner": action.owner.username,
            "due_at": action.due_at.isoformat(), "reminder": told_before, "reported_to": coordinators,
            "people": sorted(p.username for p in told), "next_reminder_at": following.due_at.isoformat()})
    return following
