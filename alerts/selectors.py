"""Reads of the alerts side for pages and the API."""

from django.db.models import Count, IntegerField, Max, OuterRef, Subquery

from .models import Alert, AlertGroup, AlertStorm


def storm_with_groups(pk: int) -> tuple[AlertStorm, list[AlertGroup]]:
    """A storm and its groups, each annotated with ``alert_count`` and ``last_received``: two queries.

    Alerts name their group by (integration, key), not by a key to the group
    row: the counts are correlated subqueries on the (integration, group_key) index.
    """
    storm = AlertStorm.objects.select_related("integration", "incident__level").get(pk=pk)
    of_group = Alert.objects.filter(integration_id=OuterRef("integration_id"), group_key=OuterRef("key"))
    groups = (AlertGroup.objects.filter(storm=storm).select_related("incident")
              .annotate(alert_count=Subquery(of_group.values("group_key").annotate(n=Count("id")).values("n"),
                                             output_field=IntegerField()),
                        last_received=Subquery(of_group.values("group_key").annotate(at=Max("received_at"))
                                               .values("at")),
                        last_summary=Subquery(of_group.order_by("-id").values("summary")[:1]))
              .order_by("key"))
    return storm, list(groups)


def storm_of_incident(incident_id: int) -> AlertStorm | None:
    """The storm whose incident this is, if any (the latest, should one incident have served two)."""
    return AlertStorm.objects.filter(incident_id=incident_id).order_by("-started_at").first()
