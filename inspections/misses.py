"""A round not submitted within its grace: what its engine deadline does when it comes due.

Registered in ``InspectionsConfig.ready`` for deadlines of kind ``inspection``
(subject ``round:<id>``, no incident). One transaction: lock the round (it
plays the incident's part in the engine's lock order: submitting locks the
round, then meets the deadline), then the deadline, both SKIP LOCKED;
re-check both; mark the round missed and the deadline missed; tell the office
(the plan's ``coordinate`` roles) and the round role's superior. A round
submitted meanwhile has met its deadline, so the re-check finds nothing due.
"""

from django.db import transaction
from django.utils import timezone

from escalation.models import Deadline, State
from escalation.services import Outcome

from .models import Round, RoundStatus
from .telling import tell_round_missed


def act_on_missed_round(deadline_id: int, *, incident_id: int | None = None) -> str:
    subject = Deadline.objects.filter(pk=deadline_id).values_list("subject", flat=True).first()
    if not subject or not subject.startswith("round:"):
        return Outcome.NOT_DUE
    round_id = int(subject.split(":", 1)[1])
    with transaction.atomic():
        round_ = (Round.objects.select_for_update(of=("self",), skip_locked=True).select_related("schedule")
                  .filter(pk=round_id).first())
        if round_ is None:
            # Held by someone submitting it (or gone): they meet the deadline, or the next sweep finds it.
            return Outcome.BUSY if Round.objects.filter(pk=round_id).exists() else _cancel_orphan(deadline_id)
        deadline = (Deadline.objects.select_for_update(skip_locked=True)
                    .filter(pk=deadline_id, state=State.PENDING, due_at__lte=timezone.now()).first())
        if deadline is None:
            return Outcome.NOT_DUE
        now = timezone.now()
        if round_.status != RoundStatus.DUE:
            # Submitted without meeting it (cannot happen through the services): end it as met, never act twice.
            deadline.state, deadline.acted_at, deadline.note = State.MET, now, "round already submitted"
            deadline.save(update_fields=["state", "acted_at", "note"])
            return Outcome.ACTED
        deadline.state, deadline.acted_at = State.MISSED, now
        deadline.save(update_fields=["state", "acted_at"])
        round_.status, round_.missed_at = RoundStatus.MISSED, now
        round_.save(update_fields=["status", "missed_at"])
        tell_round_missed(round_, deadline=deadline, at=now)
        return Outcome.ACTED


def _cancel_orphan(deadline_id: int) -> str:
    with transaction.atomic():
        deadline = Deadline.objects.select_for_update(skip_locked=True).filter(pk=deadline_id,
                                                                               state=State.PENDING).first()
        if deadline is None:
            return Outcome.NOT_DUE
        deadline.state, deadline.acted_at, deadline.note = State.CANCELLED, timezone.now(), "round withdrawn"
        deadline.save(update_fields=["state", "acted_at", "note"])
        return Outcome.ACTED
