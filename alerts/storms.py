"""The storm guard: when one integration opens too many incidents at once, the new groups join one storm.

A core switch dying makes Alertmanager send hundreds of distinct groups within
seconds. Opened one by one they would page every responder hundreds of times.
Past the integration's ``storm_threshold`` new incidents within its
``storm_window``, the next new groups join one "alert storm" incident instead:
its category the integration's, its level the worst seen, the groups listed on
it. People are told once, when it opens, and once more when it ends, with the
counts. The storm ends by itself after ``storm_quiet`` with no new alert; the
office may split a group out into an incident of its own
(``splitting.alert_group_split_out``). Every step is on the storm incident's
timeline.

``grouping`` calls ``storm_admit`` and ``storm_join`` inside its transactions;
the ``alerts.sweep_pending`` task calls ``storms_end_quiet``. Alerts joining the
storm incident later go the usual way (it is their group's incident), and the
end of a storm is judged from the alerts received for it.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from incidents import services as incident_services
from incidents.models import Incident
from plan.models import Category, Level, PlanVersion

from .models import Alert, AlertGroup, AlertStorm, Integration


def storm_admit(integration: Integration, *, levels: Sequence[str], now: datetime) -> tuple[int, AlertStorm | None]:
    """New groups of ``integration`` want incidents (``levels``: each one's worst level, in order).

    Returns how many of the first may open their own, and the storm the others
    join (started here when needed). Caller holds the transaction: the
    integration row is locked, so runners of other lanes count the same groups.
    """
    if not levels or integration.storm_threshold == 0:
        return len(levels), None
    Integration.objects.select_for_update().filter(pk=integration.pk).values_list("pk", flat=True).get()
    storm = (AlertStorm.objects.select_for_update(of=("self",)).select_related("incident__level", "integration")
             .filter(integration=integration, ended_at__isnull=True).first())
    if storm is not None and storm.incident.is_open:
        return 0, storm
    if storm is not None:  # people closed its incident: that storm is over, and new groups count afresh
        _end(storm, now=now, why="incident_closed")
    recent = AlertGroup.objects.filter(integration=integration, opened_at__gte=now - integration.storm_window).count()
    room = max(0, integration.storm_threshold - recent)
    if len(levels) <= room:
        return len(levels), None
    return room, _start(integration, levels=levels[room:], opened_recently=recent + room, now=now)


def storm_join(storm: AlertStorm, groups: Sequence[tuple[AlertGroup, Sequence[Any]]], *, now: datetime) -> Incident:
    """New ``groups`` (each with its firing alerts) join ``storm``: on its incident, raising its level if worse.

    The caller stamps the alerts processed and saves the groups' ``incident``.
    """
    incident = storm.incident
    alerts = [alert for _group, firing in groups for alert in firing]
    for group, _firing in groups:
        group.incident, group.storm = incident, storm
    AlertStorm.objects.filter(pk=storm.pk).update(
        groups_joined=F("groups_joined") + len(groups), alerts_joined=F("alerts_joined") + len(alerts),
        last_alert_at=now)
    incident_services.record_alerts([(incident, storm.integration.name, {
        "integration": storm.integration.name, "storm": storm.pk, "groups_joined": len(groups),
        "groups": [group.key[:200] for group, _firing in groups[:50]], "count": len(alerts),
        "alerts": [_shown(a) for a in alerts[:50]],
    })], at=now)
    worst = _worst(incident.plan_version_id, [a.level_key for a in alerts])
    if worst is not None and worst.is_more_severe_than(incident.level):
        summary = next(a.summary for a in alerts if a.level_key == worst.key)
        incident = incident_services.raise_level(incident, level_key=worst.key, reason=_(
            "alert storm from %(name)s: %(summary)s") % {"name": storm.integration.name, "summary": summary})
    return incident


def storms_end_quiet(*, now: datetime | None = None) -> int:
    """End every storm whose integration has been quiet for its ``storm_quiet``. Returns how many ended."""
    now = now or timezone.now()
    ended = 0
    for storm in AlertStorm.objects.filter(ended_at__isnull=True).select_related("integration"):
        if storm.last_alert_at + storm.integration.storm_quiet <= now:
            ended += _end_one(storm.pk, now)
    return ended


def _last_heard(storm: AlertStorm) -> datetime:
    """The latest alert of the storm: a new group joining it, or any alert received for its incident.

    Read from the alerts rather than kept on the storm, so the hot path (alerts
    joining an open incident) writes nothing more in a storm.
    """
    received = Alert.objects.filter(incident_id=storm.incident_id).aggregate(last=Max("received_at"))["last"]
    return max(filter(None, [storm.last_alert_at, received]))


@transaction.atomic
def _end_one(pk: int, now: datetime) -> int:
    storm = (AlertStorm.objects.select_for_update(of=("self",), skip_locked=True)
             .select_related("integration", "incident").filter(pk=pk, ended_at__isnull=True).first())
    if storm is None:
        return 0
    last = _last_heard(storm)
    if last + storm.integration.storm_quiet > now:
        if last > storm.last_alert_at:  # not quiet yet: look again when it could be
            AlertStorm.objects.filter(pk=storm.pk).update(last_alert_at=last)
        return 0
    _end(storm, now=now, why="quiet")
    return 1


def _end(storm: AlertStorm, *, now: datetime, why: str) -> None:
    storm.ended_at = now
    storm.save(update_fields=["ended_at"])
    storm.refresh_from_db(fields=["groups_joined", "alerts_joined"])
    name = storm.integration.name
    incident_services.record_alerts([(storm.incident, name, {
        "integration": name, "storm": storm.pk, "storm_ended": why, "groups_joined": storm.groups_joined,
        "count": storm.alerts_joined, "quiet_seconds": int(storm.integration.storm_quiet.total_seconds()),
    })], at=now)
    if why == "quiet" and storm.incident.is_open:
        # Facts, not a sentence: each person reads it in their language (notifications/facts.py).
        incident_services.tell_responders(storm.incident, event=f"storm-ended:{storm.pk}", note={
            "msgid": gettext_noop(
                "The alert storm from %(name)s is over: %(groups)d more alert groups and %(alerts)d alerts joined "
                "this incident, and no new alert came for %(quiet)d minutes."),
            "params": {"name": name, "groups": storm.groups_joined, "alerts": storm.alerts_joined,
                       "quiet": int(storm.integration.storm_quiet.total_seconds() // 60)}})


def _start(integration: Integration, *, levels: Sequence[str], opened_recently: int, now: datetime) -> AlertStorm:
    version = PlanVersion.objects.active()
    worst = _worst(version.pk, levels)
    level = worst.key if worst is not None else integration.default_level
    fault = dict(
        reporter=None, level=level, source=integration.kind, actor_label=integration.name, plan_version=version,
        title=_("Alert storm from %(name)s") % {"name": integration.name},
        description=_("More than %(threshold)d new incidents from %(name)s within %(window)d seconds: further "
                      "new alert groups join this incident until no new alert comes for %(quiet)d minutes. "
                      "The office may split a group out into an incident of its own.") % {
            "threshold": integration.storm_threshold, "name": integration.name,
            "window": integration.storm_window.total_seconds(), "quiet": integration.storm_quiet.total_seconds() // 60},
    )
    try:
        incident = incident_services.log_fault(category=integration.default_category, **fault)
    except ValidationError:  # the plan no longer has the integration's category: its first one, not no incident
        first = Category.objects.filter(version=version).order_by("position").values_list("key", flat=True).first()
        incident = incident_services.log_fault(category=first or integration.default_category, **fault)
    storm = AlertStorm.objects.create(integration=integration, incident=incident, started_at=now, last_alert_at=now)
    incident_services.record_alerts([(incident, integration.name, {
        "integration": integration.name, "storm": storm.pk, "storm_started": True,
        "threshold": integration.storm_threshold, "window_seconds": int(integration.storm_window.total_seconds()),
        "opened_recently": opened_recently,
    })], at=now)
    return storm


def _worst(version_id: int, level_keys: Sequence[str]) -> Level | None:
    return Level.objects.filter(version_id=version_id, key__in=set(level_keys)).order_by("rank").first()


def _shown(alert: Any) -> dict[str, Any]:
    return {"id": alert.pk, "fingerprint": alert.fingerprint, "status": alert.status, "summary": alert.summary,
            "level": alert.level_key, "starts_at": alert.starts_at.isoformat()}
