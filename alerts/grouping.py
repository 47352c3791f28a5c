"""An alert group's pending alerts → its incident: open it, join it, raise its level, mark it recovered.

Alerts with the same group key share one incident (docs/integrations/README.md,
"How alerts become incidents"). Three transactions, each under the groups' row
locks and stamping the alerts processed in the same transaction:
``alerts_open_incidents`` (new groups, many at once), ``alerts_join_open_incidents``
(firing alerts of groups with an open incident, many at once) and
``alert_group_process`` (one group, whatever it holds). ``processing`` decides
which groups go where.
"""

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import services as incident_services
from incidents.models import Incident
from incidents.states import OPEN_STATUSES
from plan.models import Level, PlanVersion

from .intake import plan_category_keys
from .models import Alert, AlertGroup, AlertStatus, Integration
from .storms import storm_admit, storm_join

log = logging.getLogger(__name__)

# An alert that failed this often is left alone (and shown in the admin with its error).
MAX_ATTEMPTS = 5
# Alerts per join transaction: a storm's backlog is joined in short steps, between which new groups are opened.
JOIN_LIMIT = 1000
# What a join reads of each alert: not its annotations, whose JSON would be decoded for nothing (a few labels
# go on the timeline).
_JOIN_FIELDS = ("id", "integration_id", "group_key", "fingerprint", "status", "starts_at", "level_key", "summary",
                "labels")
_Opening = tuple[tuple[int, str], list[Alert], list[Alert]]  # (group key, its alerts, the alerts that open it)


def joinable_incident(now: datetime) -> Q:
    """An ``AlertGroup`` filter: its incident still takes its alerts in (open, and inside the grouping window)."""
    since = ExpressionWrapper(Value(now) - F("integration__group_window"), output_field=DateTimeField())
    return Q(incident__status__in=OPEN_STATUSES) & (Q(integration__group_window=timedelta(0))
                                                    | Q(incident__opened_at__gte=since))


def _takes_alerts(group: AlertGroup, now: datetime) -> bool:
    """``joinable_incident`` for a group already read (with its integration and incident)."""
    incident, window = group.incident, group.integration.group_window
    return incident is not None and incident.is_open and (not window or incident.opened_at >= now - window)


@transaction.atomic
def alerts_join_open_incidents(groups: Iterable[tuple[int, str]]) -> tuple[int, set[tuple[int, str]], set[tuple[int, str]]]:
    """The common case, many groups in one transaction: firing alerts joining their group's open incident.

    In a storm or from a chattering source most pending alerts repeat or extend
    a problem that already has an incident. Doing that group by group cost a
    transaction of eight queries each; here it is a handful for all of them.
    Returns (alerts processed, the groups done, the groups left for
    ``alert_group_process``): those with anything more (no open incident, a
    resolved or acknowledged alert, a more severe level). At most
    ``JOIN_LIMIT`` alerts per call, oldest first: a group whose alerts lie
    beyond it is neither done nor left, and waits for the next pass.
    """
    wanted = set(groups)
    locked = (AlertGroup.objects.select_for_update(of=("self",), skip_locked=True)
              .select_related("integration", "incident__level")
              .filter(joinable_incident(timezone.now()), integration_id__in={i for i, _key in wanted},
                      key__in={key for _i, key in wanted}))
    by_group = {(g.integration_id, g.key): g for g in locked if (g.integration_id, g.key) in wanted}
    left = wanted - set(by_group)  # no open incident any more, or held by another runner (it then skips it too)
    if not by_group:
        return 0, set(), left
    batches = _pending_alerts_by_group(by_group, fields=_JOIN_FIELDS, limit=JOIN_LIMIT)
    known = _latest_states([g.incident_id for g in by_group.values() if g.incident_id is not None],
                           fingerprints={a.fingerprint for batch in batches.values() for a in batch})
    now = timezone.now()
    entries: list[tuple[Incident, str, dict[str, Any]]] = []
    done: list[int] = []
    joined: set[tuple[int, str]] = set()
    counts: dict[int, int] = {}
    for key, batch in batches.items():
        group = by_group[key]
        incident = group.incident
        assert incident is not None  # locked with an open incident (the filter above)
        if (any(a.status != AlertStatus.FIRING for a in batch)
                or min(_rank(incident, a.level_key) for a in batch) < incident.level.rank):
            left.add(key)
            continue
        changed: list[Alert] = []
        latest: dict[str, Any] = {}
        for alert in batch:
            previous = latest.get(alert.fingerprint) or known.get((incident.pk, alert.fingerprint))
            if previous is None or alert_state(alert) > alert_state(previous):
                if previous is None or previous.status != alert.status or previous.starts_at != alert.starts_at:
                    changed.append(alert)
                latest[alert.fingerprint] = alert
        if changed:
            entries.append((incident, group.integration.name, alert_detail(group.integration, changed, opened=False)))
        done += [a.pk for a in batch]
        joined.add(key)
        counts[group.integration_id] = counts.get(group.integration_id, 0) + len(batch)
    incident_services.record_alerts(entries, at=now)
    _mark_processed(done, {key: by_group[key].incident_id for key in joined}, now)
    for integration_id, count in counts.items():
        Integration.objects.filter(pk=integration_id).update(alerts_received=F("alerts_received") + count)
    return len(done), joined, left


def _pending_alerts_by_group(groups: Collection[tuple[int, str]], *, fields: Sequence[str] | None = None,
                             limit: int | None = None) -> dict[tuple[int, str], list[Alert]]:
    """{(integration id, key): its pending alerts, oldest first} for ``groups``, locked (SKIP LOCKED)."""
    pending = Alert.objects.select_for_update(skip_locked=True).filter(
        integration_id__in={i for i, _key in groups}, group_key__in={key for _i, key in groups},
        processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS).order_by("id")
    if fields:
        pending = pending.only(*fields)
    batches: dict[tuple[int, str], list[Alert]] = {}
    for alert in pending[:limit]:
        if (alert.integration_id, alert.group_key) in groups:  # the filter above matches each half separately
            batches.setdefault((alert.integration_id, alert.group_key), []).append(alert)
    return batches


def _latest_states(incident_ids: Sequence[int], *,
                   fingerprints: Collection[str] | None = None) -> dict[tuple[int, str], Any]:
    """{(incident id, fingerprint): the latest state of that alert}, acknowledgements aside."""
    rows = Alert.objects.filter(incident_id__in=incident_ids).exclude(status=AlertStatus.ACKNOWLEDGED)
    if fingerprints is not None:
        rows = rows.filter(fingerprint__in=fingerprints)
    if connection.features.can_distinct_on_fields:  # PostgreSQL: one row per alert instead of its whole history
        rows = (rows.order_by("incident_id", "fingerprint", "-starts_at", "-status", "-id")
                .distinct("incident_id", "fingerprint"))
    latest: dict[tuple[int, str], Any] = {}
    for row in rows.values_list("incident_id", "id", "fingerprint", "status", "starts_at", named=True):
        key = (row.incident_id, row.fingerprint)
        if key not in latest or alert_state(row) > alert_state(latest[key]):
            latest[key] = row
    return latest


def alert_state(alert: Any) -> tuple[datetime, int, int]:
    """Orders the states of one alert: a later start wins; at the same start, resolved beats firing."""
    return (alert.starts_at, 1 if alert.status == AlertStatus.RESOLVED else 0, alert.id)


@transaction.atomic
def alert_group_process(*, integration_id: int, group_key: str) -> int:
    # SKIP LOCKED: another worker is on this group; its next loop takes what arrived meanwhile.
    locked = (AlertGroup.objects.select_for_update(of=("self",), skip_locked=True)
              .select_related("integration", "incident__level"))
    group = locked.filter(integration_id=integration_id, key=group_key).first()
    if group is None:
        # A new group, or one another worker holds: then the INSERT does nothing and the lock skips it again.
        # ON CONFLICT DO NOTHING rather than get_or_create: no savepoint, and no error when two workers race.
        AlertGroup.objects.bulk_create([AlertGroup(integration_id=integration_id, key=group_key)],
                                       ignore_conflicts=True)
        group = locked.filter(integration_id=integration_id, key=group_key).first()
        if group is None:
            return 0
    integration = group.integration
    batch = list(Alert.objects.select_for_update(skip_locked=True).filter(
        integration_id=integration_id, group_key=group_key, processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS,
    ).order_by("id"))
    if not batch:
        return 0
    now = timezone.now()
    incident = group.incident if _takes_alerts(group, now) else None

    known: dict[str, Any] = {}
    if incident is not None:
        known = {fingerprint: row for (_id, fingerprint), row in _latest_states([incident.pk]).items()}
    changed = _changes(batch, known)
    firing = [a for a in changed if a.status == AlertStatus.FIRING]

    opened = stormed = False
    if incident is None and firing:
        ranks = _ranks(PlanVersion.objects.active().pk)
        _room, storm = storm_admit(integration, levels=[_worst_key(ranks, firing)], now=now)
        if storm is not None:
            incident, stormed = storm_join(storm, [(group, firing)], now=now), True
            group.save(update_fields=["incident", "storm"])
        else:
            incident = open_incident_for(integration, firing)
            group.incident, group.opened_at, opened = incident, now, True
            group.save(update_fields=["incident", "opened_at"])
    elif incident is not None and firing:
        current = incident  # the lambda sees the narrowed type only through a name never reassigned
        worst = min(firing, key=lambda a: _rank(current, a.level_key))
        if _rank(incident, worst.level_key) < incident.level.rank:
            incident = incident_services.raise_level(incident, level_key=worst.level_key, reason=_(
                "monitoring alert from %(name)s: %(summary)s") % {"name": integration.name, "summary": worst.summary})
    target = incident or group.incident  # resolved alerts of a closed incident still belong to it

    if incident is not None and changed and not stormed:  # storm_join wrote the storm's entry
        incident_services.record_alerts([(incident, integration.name, alert_detail(integration, changed, opened=opened))],
                                        at=now)
        resolved_now = any(a.status == AlertStatus.RESOLVED for a in changed)
        still_firing = [fp for fp, a in known.items() if a.status == AlertStatus.FIRING]
        if resolved_now and not still_firing:
            incident_services.recovered_at_source(incident, source=integration.name,
                                                  event=f"alerts-resolved:{batch[-1].pk}")

    Alert.objects.filter(pk__in=[a.pk for a in batch]).update(incident=target, processed_at=now, last_error="")
    Integration.objects.filter(pk=integration.pk).update(
        alerts_received=F("alerts_received") + len(batch), incidents_opened=F("incidents_opened") + int(opened))
    return len(batch)


def _changes(batch: Sequence[Alert], known: dict[str, Any]) -> list[Alert]:
    """The alerts of ``batch`` that change what ``known`` ({fingerprint: latest state}) says; updates ``known``."""
    changed = []
    for alert in batch:
        if alert.status == AlertStatus.ACKNOWLEDGED:
            changed.append(alert)
            continue
        previous = known.get(alert.fingerprint)
        if previous is None or alert_state(alert) > alert_state(previous):
            if previous is None or previous.status != alert.status or previous.starts_at != alert.starts_at:
                changed.append(alert)
            known[alert.fingerprint] = alert
    return changed


@transaction.atomic
def alerts_open_incidents(groups: Iterable[tuple[int, str]]) -> tuple[int, set[tuple[int, str]]]:
    """New problems, many groups in one transaction: each group's firing alerts open its incident.

    In a storm, dozens of groups appear within a second; opening their incidents
    one transaction each cost ~25 queries apiece. Here every incident, its
    history, timeline, deadlines and notifications are written together
    (``incidents.services.log_faults``). Returns (alerts processed, the groups
    done). A group with an open incident, or with anything but firing alerts
    pending, is left untouched for ``alert_group_process``.
    """
    in_order = list(dict.fromkeys(groups))  # the caller's order: most severe first (processing.pending_groups)
    wanted = set(in_order)
    if not wanted:
        return 0, set()
    AlertGroup.objects.bulk_create([AlertGroup(integration_id=i, key=key) for i, key in wanted], ignore_conflicts=True)
    locked = (AlertGroup.objects.select_for_update(of=("self",), skip_locked=True)
              .select_related("integration", "incident")
              .filter(integration_id__in={i for i, _key in wanted}, key__in={key for _i, key in wanted}))
    by_group = {(g.integration_id, g.key): g for g in locked
                if (g.integration_id, g.key) in wanted and not _takes_alerts(g, timezone.now())}
    if not by_group:
        return 0, set()
    batches = _pending_alerts_by_group(by_group)
    version = PlanVersion.objects.active()
    opening: list[_Opening] = []
    for key, batch in ((key, batches[key]) for key in in_order if key in batches):
        if any(a.status != AlertStatus.FIRING for a in batch):
            continue
        opening.append((key, batch, _changes(batch, {})))
    if not opening:
        return 0, set()
    opening, stormed = _through_the_storm_guard(opening, by_group, ranks=_ranks(version.pk), now=timezone.now())
    incidents = incident_services.log_faults([_fault(by_group[key].integration, firing, version, known_keys=True)
                                              for key, _batch, firing in opening]) if opening else []
    now = timezone.now()  # after the incidents opened: their alert entries follow "opened" on the timeline
    entries: list[tuple[Incident, str, dict[str, Any]]] = []
    done: list[int] = []
    counts: dict[int, tuple[int, int]] = {}
    for (key, batch, firing), incident in zip(opening, incidents, strict=True):
        group = by_group[key]
        group.incident, group.opened_at = incident, now
        entries.append((incident, group.integration.name, alert_detail(group.integration, firing, opened=True)))
        done += [a.pk for a in batch]
        opened, received = counts.get(group.integration_id, (0, 0))
        counts[group.integration_id] = (opened + 1, received + len(batch))
    for key, batch, _firing in stormed:
        done += [a.pk for a in batch]
        opened, received = counts.get(key[0], (0, 0))
        counts[key[0]] = (opened, received + len(batch))
    incident_services.record_alerts(entries, at=now)
    handled = [*opening, *stormed]
    AlertGroup.objects.bulk_update([by_group[key] for key, _batch, _firing in handled], ["incident", "opened_at", "storm"])
    _mark_processed(done, {key: by_group[key].incident_id for key, _batch, _firing in handled}, now)
    for integration_id, (opened, received) in counts.items():
        Integration.objects.filter(pk=integration_id).update(
            alerts_received=F("alerts_received") + received, incidents_opened=F("incidents_opened") + opened)
    return len(done), {key for key, _batch, _firing in handled}


def _through_the_storm_guard(opening: Sequence[_Opening], by_group: Mapping[tuple[int, str], AlertGroup], *,
                             ranks: Mapping[str, int], now: datetime) -> tuple[list[_Opening], list[_Opening]]:
    """Split new groups into those that open their own incident and those that joined a storm (``storms``)."""
    own: list[_Opening] = []
    stormed: list[_Opening] = []
    by_integration: dict[int, list[_Opening]] = {}
    for item in opening:
        by_integration.setdefault(item[0][0], []).append(item)
    for items in by_integration.values():
        integration = by_group[items[0][0]].integration
        room, storm = storm_admit(integration, levels=[_worst_key(ranks, firing) for _k, _b, firing in items],
                                  now=now)
        own += items[:room]
        if storm is not None and items[room:]:
            storm_join(storm, [(by_group[key], firing) for key, _batch, firing in items[room:]], now=now)
            stormed += items[room:]
    return own, stormed


def _worst_key(ranks: Mapping[str, int], firing: Sequence[Alert]) -> str:
    return min(firing, key=lambda a: ranks.get(a.level_key, 99)).level_key


def _mark_processed(alert_ids: Sequence[int], incident_of_group: Mapping[tuple[int, str], int | None],
                    now: datetime) -> None:
    """Stamp the alerts processed and attach each to its group's incident: a CASE on the group, not a lookup
    per alert row."""
    incident = Case(*[When(integration_id=integration_id, group_key=key, then=Value(incident_id))
                      for (integration_id, key), incident_id in incident_of_group.items()],
                    output_field=Alert._meta.get_field("incident").target_field)
    Alert.objects.filter(pk__in=alert_ids).update(incident_id=incident, processed_at=now, last_error="")


_level_ranks: dict[int, dict[str, int]] = {}  # plan version id -> {level key: rank}; stored versions never change


def _ranks(version_id: int) -> dict[str, int]:
    ranks = _level_ranks.get(version_id)
    if ranks is None:
        ranks = _level_ranks[version_id] = dict(Level.objects.filter(version_id=version_id).values_list("key", "rank"))
    return ranks


def _rank(incident: Incident, level_key: str) -> int:
    return _ranks(incident.plan_version_id).get(level_key, 99)


def open_incident_for(integration: Integration, firing: Sequence[Alert]) -> Incident:
    version = PlanVersion.objects.active()
    try:
        return incident_services.log_fault(**_fault(integration, firing, version))
    except ValidationError:
        # The plan changed under a stored alert (a category it no longer has): the
        # integration's defaults still open an incident rather than dropping the alert.
        log.warning("alert %s: category or level unknown to the plan; using %s's defaults", firing[0].pk, integration)
        return incident_services.log_fault(**_fault(integration, firing, version, use_defaults=True))


def _fault(integration: Integration, firing: Sequence[Alert], version: PlanVersion, *, use_defaults: bool = False,
           known_keys: bool = False) -> dict[str, Any]:
    """``log_fault``'s arguments for the incident these firing alerts open.

    ``known_keys``: take the integration's defaults at once when the plan lacks
    the alerts' category or level (``open_incident_for`` learns it from the refusal).
    """
    ranks = _ranks(version.pk)
    worst = min(firing, key=lambda a: ranks.get(a.level_key, 99))
    first = firing[0]
    category, level = first.category_key, worst.level_key
    if known_keys and (category not in plan_category_keys(version.pk) or level not in ranks):
        log.warning("alert %s: category %r or level %r unknown to the plan; using %s's defaults",
                    first.pk, category, level, integration)
        use_defaults = True
    if use_defaults:
        category, level = integration.default_category, integration.default_level
    lines = [f"- {a.summary}" for a in firing[:20]]
    if len(firing) > 20:
        lines.append(_("… and %(n)d more") % {"n": len(firing) - 20})
    description = "\n".join([*([first.annotations.get("description")] if first.annotations.get("description") else []),
                             _("Alerts from %(name)s:") % {"name": integration.name}, *lines])
    title = first.summary if len(firing) == 1 else f"{first.summary} (+{len(firing) - 1})"
    return dict(reporter=None, category=category, level=level, title=title, description=description,
                source=integration.kind, actor_label=integration.name, plan_version=version,
                discovered_at=min(a.starts_at for a in firing))


LABELS_ON_TIMELINE = 8


def alert_detail(integration: Integration, alerts: Sequence[Alert], *, opened: bool) -> dict[str, Any]:
    shown = alerts[:50]
    return {
        "integration": integration.name, "opened_incident": opened, "count": len(alerts),
        "alerts": [{"id": a.pk, "fingerprint": a.fingerprint, "status": a.status, "summary": a.summary,
                    "level": a.level_key, "starts_at": a.starts_at.isoformat(), "labels": _labels(a)} for a in shown],
    }



def _labels(alert: Alert) -> dict[str, str]:
    """A few of the alert's labels for the timeline (what the source said, shown as it said it)."""
    labels = alert.labels if isinstance(alert.labels, dict) else {}
    return {str(k)[:60]: str(v)[:100] for k, v in sorted(labels.items())[:LABELS_ON_TIMELINE]}
