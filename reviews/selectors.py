"""Reading reviews and remediation actions: the pages, the API and the evidence pack read through here."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from escalation.models import Deadline
from incidents.models import Incident, TimelineEntry

from . import figures as computed
from .models import Action, ActionStatus, Review


@dataclass(frozen=True)
class ReviewReading:
    """A review with everything computed from the record: ``figures`` (with every plan deadline's outcome)
    and the timeline's ``highlights`` in the active language."""

    review: Review
    incident: Incident
    figures: computed.Figures
    highlights: list[computed.Highlight]


def review_of(incident: Incident) -> ReviewReading | None:
    """The review of ``incident`` with its figures; None before the incident is resolved (no review yet)."""
    review = (Review.objects.select_related("submitted_by", "approved_by", "updated_by")
              .filter(incident_id=incident.pk).first())
    if review is None:
        return None
    incident = Incident.objects.with_plan().select_related("acknowledged_by", "resolved_by").get(pk=incident.pk)
    review.incident = incident
    entries = list(TimelineEntry.objects.filter(incident_id=incident.pk).select_related("actor").order_by("at", "id"))
    deadlines = list(Deadline.objects.filter(incident_id=incident.pk).select_related("met_by").order_by("due_at", "id"))
    return ReviewReading(review=review, incident=incident, figures=computed.compute(incident, entries, deadlines),
                         highlights=computed.highlights(incident, entries))


def actions_of(incident: Incident) -> QuerySet[Action]:
    """The remediation actions of ``incident``, by due date."""
    return _actions().filter(incident_id=incident.pk)


def actions_list(*, owner: str | None = None, overdue: bool | None = None, status: str | None = None,
                 asset: str | None = None, now: datetime | None = None) -> QuerySet[Action]:
    """Actions across incidents and assets: by owner's username, overdue (open and past due) or not, status,
    and the asset (its tag) they hang from, directly or through their incident."""
    actions = _actions()
    if owner:
        actions = actions.filter(owner__username=owner)
    if asset:
        actions = actions.filter(Q(asset__tag=asset) | Q(incident__asset__tag=asset))
    if status:
        actions = actions.filter(status=status)
    now = now or timezone.now()
    if overdue is True:
        actions = actions.filter(status=ActionStatus.OPEN, due_at__lt=now)
    elif overdue is False:
        actions = actions.exclude(status=ActionStatus.OPEN, due_at__lt=now)
    return actions


def open_actions(*, owner: str | None = None, overdue: bool | None = None,
                 asset: str | None = None) -> QuerySet[Action]:
    return actions_list(owner=owner, overdue=overdue, status=ActionStatus.OPEN, asset=asset)


def _actions() -> QuerySet[Action]:
    return (Action.objects.select_related("incident", "incident__level", "incident__category", "asset", "owner",
                                          "created_by", "closed_by")
            .order_by("due_at", "id"))
