"""Taking a group out of an alert storm (alerts/storms.py): the office gives it an incident of its own."""

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Refused
from incidents import permissions
from incidents import services as incident_services
from incidents.models import Incident

from .grouping import alert_detail, alert_state, open_incident_for
from .models import Alert, AlertGroup, AlertStatus

if TYPE_CHECKING:
    from people.models import Person


@transaction.atomic
def alert_group_split_out(*, group: AlertGroup, actor: "Person") -> Incident:
    """The office takes a group out of an alert storm: it opens an incident of its own from its firing alerts.

    The group's earlier alerts stay on the storm incident (that is what
    happened); from now on its alerts go to the new incident. Both timelines say
    who split it.
    """
    group = (AlertGroup.objects.select_for_update(of=("self",)).select_related("integration", "storm__incident")
             .get(pk=group.pk))
    storm = group.storm
    if storm is None or group.incident_id != storm.incident_id:
        raise Refused(_("this alert group is not part of an alert storm"), code="not_in_storm", status_code=409)
    reason = permissions.refusal(actor, action="split_storm", incident=storm.incident)
    if reason:
        raise Refused(_("cannot split the group out: %(reason)s") % {"reason": reason}, code="forbidden",
                      status_code=403)
    if not storm.incident.is_open:
        raise Refused(_("the alert storm's incident is closed"), code="invalid_transition", status_code=409)
    latest: dict[str, Alert] = {}
    for alert in (Alert.objects.filter(integration_id=group.integration_id, group_key=group.key,
                                       processed_at__isnull=False).exclude(status=AlertStatus.ACKNOWLEDGED)):
        if alert.fingerprint not in latest or alert_state(alert) > alert_state(latest[alert.fingerprint]):
            latest[alert.fingerprint] = alert
    firing = sorted((a for a in latest.values() if a.status == AlertStatus.FIRING), key=lambda a: a.pk)
    if not firing:
        raise Refused(_("nothing of this alert group is firing: there is nothing to open an incident for"),
                      code="nothing_firing", status_code=409)
    integration = group.integration
    incident = open_incident_for(integration, firing)
    group.incident, group.opened_at = incident, timezone.now()
    group.save(update_fields=["incident", "opened_at"])
    detail = {"integration": integration.name, "storm": storm.pk, "group": group.key[:200]}
    incident_services.record_alerts([
        (storm.incident, integration.name, {**detail, "split_out_to": incident.pk}),
        (incident, integration.name, {**detail, "split_out_of": storm.incident_id, "count": len(firing),
                                      "alerts": alert_detail(integration, firing, opened=True)["alerts"]}),
    ], at=timezone.now(), actor=actor)
    return incident
