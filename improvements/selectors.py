"""Reading proposals with what their pages and the API show, in a fixed number of queries."""

from django.db.models import QuerySet

from .models import Proposal


def proposals() -> QuerySet[Proposal]:
    return Proposal.objects.select_related("incident", "proposed_by", "decided_by", "draft", "draft__based_on")


def for_incident(incident_id: int) -> QuerySet[Proposal]:
    return proposals().filter(incident_id=incident_id)
