"""Monitoring alerts in, incidents out.

Two steps, each one transaction:

1. ``alerts_receive`` (the web request): store the raw alert rows and answer
   202. Nothing else happens here, so an alert storm costs one INSERT per
   request and a 202 always means the alert is in PostgreSQL.
2. ``alerts_process_pending`` (a Celery task on the intake queue, one runner
   per lane, nudged after commit and swept periodically): under the groups' row
   locks, open the incidents of new groups (in batches), join alerts to open
   incidents (all groups at once), raise levels and mark incidents recovered
   (group by group), stamping the alerts processed in the same transaction. A
   crash between the two steps leaves rows with ``processed_at IS NULL`` that
   the sweep picks up.
"""

import functools
import json
import logging
import secrets
import time
import zlib
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Count, F, Min, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.broker import broker_redis
from core.errors import Refused
from escalation.services import cell_of
from incidents import services as incident_services
from incidents.models import TimelineEntry, TimelineKind
from incidents.states import OPEN_STATUSES
from notifications.models import Ask
from notifications.recipients import notify_roles
from plan.models import Category, Level, PlanVersion

from .models import Alert, AlertGroup, AlertStatus, Integration, LEVEL_KEYS

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Keep one task run well inside Celery's 50 s soft time limit; it re-nudges itself.
RUN_SECONDS = 30
_NUDGE_TTL_MS = 10_000
# New groups whose incidents open in one transaction: big enough to share the work, small enough that the
# first of them is visible soon.
OPEN_CHUNK = 20


# --- helpers shared by the API ---------------------------------------------------------


# Plan versions are immutable once loaded, so their category keys never change:
# cache them per process by version id (the active id is read on every request).
_category_keys_by_version = {}
# In the model's field order, as Model.from_db expects.
_INTEGRATION_FIELDS = ("id", "name", "kind", "default_category", "default_level", "enabled",
                       "rate_limit_per_minute")


def plan_category_keys(version_id):
    """The category keys of a plan version (alerts naming another fall back or are refused)."""
    if version_id is None:
        return ()
    keys = _category_keys_by_version.get(version_id)
    if keys is None:
        keys = tuple(Category.objects.filter(version_id=version_id).order_by("position").values_list("key", flat=True))
        _category_keys_by_version[version_id] = keys
    return keys


def integration_for_token(raw):
    """The integration holding this token, or None; one query, the hottest line of every alert request.

    The integration comes back with only the fields intake needs (others load
    on access) and with ``active_plan_version_id`` read in the same round trip.
    """
    from people.models import hash_token

    if not raw:
        return None
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _INTEGRATION_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, (SELECT {quote('id')} FROM {quote(PlanVersion._meta.db_table)}"
            f" WHERE {quote('is_active')}) FROM {quote(Integration._meta.db_table)} WHERE {quote('token_hash')} = %s",
            [hash_token(raw)])
        row = cursor.fetchone()
    if row is None:
        return None
    integration = Integration.from_db(connection.alias, _INTEGRATION_FIELDS, row[:-1])
    integration.active_plan_version_id = row[-1]
    return integration


def _key(*parts):
    return ":".join([settings.FENGHUO_QUEUE_PREFIX, "alerts", *map(str, parts)])


def rate_limit_retry_after(integration, *, now=None):
    """Count this request against the integration's per-minute limit.

    Returns None when it may proceed, else the seconds until the window resets.
    A fixed one-minute window in Redis: one round trip per request. If Redis is
    unreachable the request proceeds: dropping alerts is worse than a flood.
    The embedded default has no Redis: there the window is counted in Django's
    cache (this process's memory, and ./scripts/run.sh runs one web process),
    so the limit the integration page shows holds there too.
    """
    now = now or time.time()
    window = int(now // 60)
    key = _key("rate", integration.pk, window)
    client = broker_redis()
    if client is None:
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    else:
        try:
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ok = pipe.execute()
        except redis.RedisError:
            log.warning("rate limit not applied to %s: Redis unreachable", integration)
            return None
    if count <= integration.rate_limit_per_minute:
        return None
    return max(1, int((window + 1) * 60 - now + 0.999))


def integration_count_rejected(integration):
    Integration.objects.filter(pk=integration.pk).update(requests_rejected=F("requests_rejected") + 1)


# --- integrations ------------------------------------------------------------------------


def integration_create(*, name, kind, default_category="system", default_level="blue", rate_limit_per_minute=None):
    """Create an integration; returns (integration, token). The token is shown once and never stored."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = [_("give the integration a name")]
    elif Integration.objects.filter(name=name.strip()).exists():
        errors["name"] = [_("an integration named %(name)r already exists") % {"name": name.strip()}]
    if default_level not in LEVEL_KEYS:
        errors["default_level"] = [_("must be one of %(keys)s") % {"keys": ", ".join(LEVEL_KEYS)}]
    categories = PlanVersion.objects.filter(is_active=True).values_list("categories__key", flat=True)
    categories = [key for key in categories if key]
    if categories and default_category not in categories:
        errors["default_category"] = [_("must be one of the plan's categories: %(keys)s")
                                      % {"keys": ", ".join(categories)}]
    if errors:
        raise ValidationError(errors)
    integration = Integration(name=name.strip(), kind=kind, default_category=default_category,
                              default_level=default_level)
    if rate_limit_per_minute is not None:
        integration.rate_limit_per_minute = rate_limit_per_minute
    token = integration.set_new_token()
    integration.full_clean(exclude=["prefix", "token_hash"])
    integration.save()
    return integration, token


@transaction.atomic
def integration_rotate_token(*, integration, by):
    """Give the integration a new token; the old one stops working at once. Returns the new token, shown once.

    The only way to change a token: its hash is never edited, so the history
    says who replaced it and when (``by``, the reason), and no old hash can be
    written back.
    """
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    token = integration.set_new_token()
    integration._history_user = by
    integration._change_reason = "token rotated"
    integration.save(update_fields=["prefix", "token_hash"])
    return integration, token


@transaction.atomic
def integration_disable(*, integration, by):
    """Refuse the integration's deliveries from now on (403); its alerts and their incidents stay as they were.

    An integration that has sent alerts is disabled rather than deleted: the
    alerts are the record of what the monitoring said. Disabling twice is a
    no-op, so the history shows one change.
    """
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    if integration.enabled:
        integration.enabled = False
        integration._history_user = by
        integration._change_reason = "disabled"
        integration.save(update_fields=["enabled"])
    return integration


# --- step 1: intake --------------------------------------------------------------------


def alerts_receive(*, integration, alerts):
    """Store the delivered alerts (a repeated delivery stores nothing new) and nudge a worker."""
    now = timezone.now()
    rows = [
        {"integration_id": integration.pk, "group_key": a.group_key, "fingerprint": a.fingerprint,
         "delivery_key": a.delivery_key, "status": a.status, "starts_at": a.starts_at, "ends_at": a.ends_at,
         "summary": a.summary, "category_key": a.category_key, "level_key": a.level_key, "labels": a.labels,
         "annotations": a.annotations | ({"description": a.description} if a.description else {}),
         "received_at": now, "attempts": 0, "last_error": ""}
        for a in alerts
    ]
    if connection.vendor == "postgresql":
        _insert_ignoring_repeats(rows)
    else:  # the embedded SQLite of ./scripts/run.sh
        Alert.objects.bulk_create([Alert(**row) for row in rows], ignore_conflicts=True)
    lanes = {lane_of(integration.pk, key) for key in {a.group_key for a in alerts}}
    transaction.on_commit(lambda: _nudge(lanes))  # at once in autocommit: the INSERT is already committed
    _touch_last_received(integration, now)
    return len(rows)


def _insert_ignoring_repeats(rows):
    """All rows in one ``INSERT … SELECT FROM jsonb_to_recordset(%s) ON CONFLICT DO NOTHING``.

    The hottest statement of a storm. ``bulk_create`` wraps its INSERT in BEGIN
    … COMMIT (three round trips) and binds 15 parameters per row, which psycopg
    parses and quotes afresh for every request because the statement is too long
    for its cache. Here one statement in autocommit is its own transaction (all
    rows or none, a repeated delivery_key stores nothing) and its one parameter
    is a JSON array. Measured in bench/README.md.
    """
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(tuple(rows[0])), [json.dumps(rows, default=_isoformat)])


def _isoformat(value):
    if isinstance(value, datetime):
        return value.isoformat()  # to the microsecond (DjangoJSONEncoder would cut it to milliseconds)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@functools.cache
def _insert_sql(names):
    quote = connection.ops.quote_name
    fields = [Alert._meta.get_field(name) for name in names]
    columns = ", ".join(quote(f.column) for f in fields)
    types = ", ".join(f"{quote(name)} {f.db_type(connection)}" for name, f in zip(names, fields, strict=True))
    selected = ", ".join(quote(name) for name in names)
    return (f"INSERT INTO {quote(Alert._meta.db_table)} ({columns}) SELECT {selected} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS r({types}) ON CONFLICT DO NOTHING")


_last_touched = {}  # integration id -> monotonic time this process last wrote last_received_at


def _touch_last_received(integration, now):
    """Bookkeeping only: outside the alert's transaction and at most once a second per process,
    so a storm neither queues behind one hot row lock nor pays a round trip per request."""
    tick = time.monotonic()
    if tick - _last_touched.get(integration.pk, float("-inf")) < 1:
        return
    _last_touched[integration.pk] = tick
    Integration.objects.filter(Q(last_received_at__isnull=True) | Q(last_received_at__lt=now - timedelta(seconds=1)),
                               pk=integration.pk).update(last_received_at=now)


def lane_of(integration_id, group_key, lanes=None):
    """The runner lane owning an alert group: a stable hash, the same in every process."""
    lanes = lanes or settings.ALERTS_LANES
    return zlib.crc32(f"{integration_id}:{group_key}".encode()) % lanes


def _nudge(lanes):
    """Ask a worker to process pending alerts in ``lanes``, unless a runner is already asked or at work there.

    Each lane has its flag. It stays set while the lane's runner works, so a
    storm enqueues one task per lane, not one per request. The runner deletes
    it before its last look for pending rows (``alerts_process_pending``), so a
    row committed after that look finds the flag gone and nudges again;
    skipping ours therefore loses nothing. Publishing can fail (broker down,
    process killed): the periodic sweep is the safety net, which is why rows
    carry ``processed_at``.
    """
    from .tasks import process_pending

    lanes = sorted(lanes)
    client = broker_redis()
    try:
        if client is not None:
            pipe = client.pipeline(transaction=False)
            for lane in lanes:
                pipe.set(_key("nudge", lane), "1", nx=True, px=_NUDGE_TTL_MS)
            lanes = [lane for lane, fresh in zip(lanes, pipe.execute(), strict=True) if fresh]
        for lane in lanes:
            process_pending.delay(lane)
    except Exception:  # noqa: BLE001 - the alert is committed; the sweep will process it
        log.warning("could not nudge the alert worker; the periodic sweep will process the alerts")


def clear_nudge(lane):
    client = broker_redis()
    if client is not None:
        try:
            client.delete(_key("nudge", lane))
        except redis.RedisError:
            pass


# --- step 2: processing ------------------------------------------------------------------


def alerts_process_pending_in_turn(lane=0):
    """``alerts_process_pending`` for one lane by one runner at a time; returns (processed, whether to run again).

    Alert groups are spread over ``ALERTS_LANES`` lanes by a hash of their key,
    so that many new groups (a storm) have their incidents opened by as many
    runners at once without ever contending for the same group. Two runners in
    one lane are safe (row locks) but wasteful: each skips the groups the other
    holds, at a few queries per group. The turn is a Redis key with a short
    expiry renewed every pass, so a runner that dies holds it only briefly;
    correctness never depends on it. A runner refused the turn marks a rerun,
    which the holder reads after giving the turn back, so alerts committed
    meanwhile are not left for the periodic sweep.
    """
    client = broker_redis()
    holder = secrets.token_hex(8)
    keys = (_key("turn", lane), _key("rerun", lane))
    try:
        if client is not None and not client.eval(_TAKE_TURN, 2, *keys, holder, _TURN_TTL_MS):
            return 0, False
    except redis.RedisError:
        client = None  # run anyway: without the turn there is only some wasted work
    started = time.monotonic()
    renew = (lambda: client.pexpire(keys[0], _TURN_TTL_MS)) if client is not None else None
    try:
        done = alerts_process_pending(lane=lane, pass_interval=settings.ALERTS_PASS_INTERVAL_SECONDS,
                                      keep_turn=renew, before_exit=lambda: clear_nudge(lane))
    finally:
        rerun = False
        if client is not None:
            try:
                rerun = bool(client.eval(_GIVE_BACK_TURN, 2, *keys, holder))
            except redis.RedisError:
                rerun = True
    return done, rerun or time.monotonic() - started >= RUN_SECONDS


_TURN_TTL_MS = 10_000
# Both scripts run atomically in Redis, so a refused runner's rerun mark is never missed by the holder.
_TAKE_TURN = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
redis.call('set', KEYS[2], '1', 'PX', ARGV[2])
return 0"""
_GIVE_BACK_TURN = """
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
local rerun = redis.call('get', KEYS[2])
redis.call('del', KEYS[2])
return rerun"""


def pending_groups(*, lane=None, limit=1000):
    """The alert groups with pending alerts, oldest first, and how many alerts those hold.

    With ``lane``, only the groups of that lane. Read without locks.
    """
    rows = (Alert.objects.filter(processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .values_list("integration_id", "group_key").annotate(first=Min("id"), count=Count("id"))
            .order_by("first"))
    groups, alerts = [], 0
    for integration_id, group_key, _first, count in rows:
        if lane is not None and lane_of(integration_id, group_key) != lane:
            continue
        groups.append((integration_id, group_key))
        alerts += count
        if len(groups) >= limit:
            break
    return groups, alerts


def alerts_process_pending(*, lane=None, limit=1000, run_seconds=RUN_SECONDS, pass_interval=0.0, keep_turn=None,
                           before_exit=None):
    """Process every pending alert (of ``lane``, or all), group by group, oldest first. Returns how many.

    Each pass first opens the incidents of groups that have none (what the
    office waits for), then joins the alerts of the others. Returns early
    (leaving the rest for the next run) after ``run_seconds``. Safe to run
    concurrently: groups are serialised by their row lock and alerts claimed
    with SKIP LOCKED. ``keep_turn`` is called at the start of every pass and
    every few groups. ``before_exit`` runs when nothing is left, followed by
    one more look, so whatever was committed before it ran is processed here.
    A pass that cleared all it saw is followed by the next at most
    ``pass_interval`` seconds after it started: a chattering source then costs
    one batched join per group per pass, not one per alert. With a backlog the
    next pass starts at once.
    """
    started = time.monotonic()
    done = 0
    failed = set()  # tried once in this run; the next run (sweep) tries again
    while time.monotonic() - started < run_seconds:
        pass_started = time.monotonic()
        if keep_turn is not None:
            keep_turn()
        groups, waiting = pending_groups(lane=lane, limit=limit)
        groups = [group for group in groups if group not in failed]
        if not groups:
            if before_exit is None:
                return done
            before_exit()
            before_exit = None
            continue
        with_incident = _groups_with_open_incident(groups)
        progress = _open_in_chunks([g for g in groups if g not in with_incident], failed, keep_turn)
        try:
            joined_alerts, _joined, left = alerts_join_open_incidents(with_incident)
        except Exception:  # noqa: BLE001 - the one-group path below takes every group, recording failures
            log.exception("the batched join of alerts failed; processing group by group")
            joined_alerts, left = 0, with_incident
        progress += joined_alerts
        progress += _process_one_by_one([g for g in groups if g in left], failed, keep_turn)
        done += progress
        if progress == 0:  # everything pending is held by another worker right now
            if before_exit is not None:
                before_exit()
            return done
        if progress >= waiting:  # it cleared all it saw, no backlog: let the next pass gather more per group
            time.sleep(max(0.0, pass_interval - (time.monotonic() - pass_started)))
    return done


def _groups_with_open_incident(groups):
    """Those of ``groups`` (integration id, key) whose group has an open incident now. Read without locks."""
    if not groups:
        return set()
    wanted = set(groups)
    rows = AlertGroup.objects.filter(
        integration_id__in={i for i, _key in wanted}, key__in={key for _i, key in wanted},
        incident__status__in=OPEN_STATUSES).values_list("integration_id", "key")
    return {row for row in rows if row in wanted}


def _open_in_chunks(groups, failed, keep_turn, chunk=OPEN_CHUNK):
    """Open the incidents of new groups, ``chunk`` per transaction; what a chunk leaves goes one by one."""
    progress = 0
    for start in range(0, len(groups), chunk):
        some = groups[start:start + chunk]
        try:
            opened_alerts, opened = alerts_open_incidents(some)
        except Exception:  # noqa: BLE001 - the one-group path takes every group, recording failures
            log.exception("opening incidents in a batch failed; processing group by group")
            opened_alerts, opened = 0, set()
        progress += opened_alerts + _process_one_by_one([g for g in some if g not in opened], failed, None)
        if keep_turn is not None:
            keep_turn()
    return progress


def _process_one_by_one(groups, failed, keep_turn):
    progress = 0
    for n, (integration_id, group_key) in enumerate(groups, start=1):
        try:
            progress += alert_group_process(integration_id=integration_id, group_key=group_key)
        except Exception as exc:  # noqa: BLE001 - one bad group must not stop the others
            log.exception("alerts of group %r could not be processed", group_key)
            _record_failure(integration_id, group_key, exc)
            failed.add((integration_id, group_key))
        if keep_turn is not None and n % 10 == 0:  # opening incidents can take a while in a storm
            keep_turn()
    return progress


def _record_failure(integration_id, group_key, exc):
    Alert.objects.filter(integration_id=integration_id, group_key=group_key, processed_at__isnull=True).update(
        attempts=F("attempts") + 1, last_error=f"{exc.__class__.__name__}: {exc}"[:2000])


# Alerts per join transaction: a storm's backlog is joined in short steps, between which new groups are opened.
JOIN_LIMIT = 1000
# What a join reads of each alert: not its labels and annotations, whose JSON would be decoded for nothing.
_JOIN_FIELDS = ("id", "integration_id", "group_key", "fingerprint", "status", "starts_at", "level_key", "summary")


@transaction.atomic
def alerts_join_open_incidents(groups):
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
              .filter(integration_id__in={i for i, _key in wanted}, key__in={key for _i, key in wanted},
                      incident__status__in=OPEN_STATUSES))
    by_group = {(g.integration_id, g.key): g for g in locked if (g.integration_id, g.key) in wanted}
    left = wanted - set(by_group)  # no open incident any more, or held by another runner (it then skips it too)
    if not by_group:
        return 0, set(), left
    batches = _pending_alerts_by_group(by_group, fields=_JOIN_FIELDS, limit=JOIN_LIMIT)
    known = _latest_states([g.incident_id for g in by_group.values()],
                           fingerprints={a.fingerprint for batch in batches.values() for a in batch})
    now = timezone.now()
    entries, done, joined, counts = [], [], set(), {}
    for key, batch in batches.items():
        group = by_group[key]
        incident = group.incident
        if (any(a.status != AlertStatus.FIRING for a in batch)
                or min(_rank(incident, a.level_key) for a in batch) < incident.level.rank):
            left.add(key)
            continue
        changed, latest = [], {}
        for alert in batch:
            previous = latest.get(alert.fingerprint) or known.get((incident.pk, alert.fingerprint))
            if previous is None or _state(alert) > _state(previous):
                if previous is None or previous.status != alert.status or previous.starts_at != alert.starts_at:
                    changed.append(alert)
                latest[alert.fingerprint] = alert
        if changed:
            entries.append(TimelineEntry(incident=incident, kind=TimelineKind.ALERT, at=now,
                                         actor_label=group.integration.name,
                                         detail=_alert_detail(group.integration, changed, opened=False)))
        done += [a.pk for a in batch]
        joined.add(key)
        counts[group.integration_id] = counts.get(group.integration_id, 0) + len(batch)
    TimelineEntry.objects.bulk_create(entries)
    _mark_processed(done, {key: by_group[key].incident_id for key in joined}, now)
    for integration_id, count in counts.items():
        Integration.objects.filter(pk=integration_id).update(alerts_received=F("alerts_received") + count)
    return len(done), joined, left


def _pending_alerts_by_group(groups, *, fields=None, limit=None):
    """{(integration id, key): its pending alerts, oldest first} for ``groups``, locked (SKIP LOCKED)."""
    pending = Alert.objects.select_for_update(skip_locked=True).filter(
        integration_id__in={i for i, _key in groups}, group_key__in={key for _i, key in groups},
        processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS).order_by("id")
    if fields:
        pending = pending.only(*fields)
    batches = {}
    for alert in pending[:limit]:
        if (alert.integration_id, alert.group_key) in groups:  # the filter above matches each half separately
            batches.setdefault((alert.integration_id, alert.group_key), []).append(alert)
    return batches


def _latest_states(incident_ids, *, fingerprints=None):
    """{(incident id, fingerprint): the latest state of that alert}, acknowledgements aside."""
    rows = Alert.objects.filter(incident_id__in=incident_ids).exclude(status=AlertStatus.ACKNOWLEDGED)
    if fingerprints is not None:
        rows = rows.filter(fingerprint__in=fingerprints)
    if connection.features.can_distinct_on_fields:  # PostgreSQL: one row per alert instead of its whole history
        rows = (rows.order_by("incident_id", "fingerprint", "-starts_at", "-status", "-id")
                .distinct("incident_id", "fingerprint"))
    latest = {}
    for row in rows.values_list("incident_id", "id", "fingerprint", "status", "starts_at", named=True):
        key = (row.incident_id, row.fingerprint)
        if key not in latest or _state(row) > _state(latest[key]):
            latest[key] = row
    return latest


def _state(alert):
    """Orders the states of one alert: a later start wins; at the same start, resolved beats firing."""
    return (alert.starts_at, 1 if alert.status == AlertStatus.RESOLVED else 0, alert.id)


@transaction.atomic
def alert_group_process(*, integration_id, group_key):
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
    incident = group.incident if group.incident_id and group.incident.is_open else None

    known = {}
    if incident is not None:
        known = {fingerprint: row for (_id, fingerprint), row in _latest_states([incident.pk]).items()}
    changed = _changes(batch, known)
    firing = [a for a in changed if a.status == AlertStatus.FIRING]

    opened = False
    if incident is None and firing:
        incident = _open_incident(integration, firing)
        group.incident, opened = incident, True
        group.save(update_fields=["incident"])
    elif incident is not None and firing:
        worst = min(firing, key=lambda a: _rank(incident, a.level_key))
        if _rank(incident, worst.level_key) < incident.level.rank:
            incident = raise_level_from_alert(incident, level_key=worst.level_key, integration=integration,
                                              summary=worst.summary)
    target = incident or group.incident  # resolved alerts of a closed incident still belong to it

    if incident is not None and changed:
        TimelineEntry.objects.create(incident=incident, kind=TimelineKind.ALERT, at=now, actor_label=integration.name,
                                     detail=_alert_detail(integration, changed, opened=opened))
        resolved_now = any(a.status == AlertStatus.RESOLVED for a in changed)
        still_firing = [fp for fp, a in known.items() if a.status == AlertStatus.FIRING]
        if resolved_now and not still_firing:
            _recovered_at_source(incident, integration, batch[-1])

    Alert.objects.filter(pk__in=[a.pk for a in batch]).update(incident=target, processed_at=now, last_error="")
    Integration.objects.filter(pk=integration.pk).update(
        alerts_received=F("alerts_received") + len(batch), incidents_opened=F("incidents_opened") + int(opened))
    return len(batch)


def _changes(batch, known):
    """The alerts of ``batch`` that change what ``known`` ({fingerprint: latest state}) says; updates ``known``."""
    changed = []
    for alert in batch:
        if alert.status == AlertStatus.ACKNOWLEDGED:
            changed.append(alert)
            continue
        previous = known.get(alert.fingerprint)
        if previous is None or _state(alert) > _state(previous):
            if previous is None or previous.status != alert.status or previous.starts_at != alert.starts_at:
                changed.append(alert)
            known[alert.fingerprint] = alert
    return changed


@transaction.atomic
def alerts_open_incidents(groups):
    """New problems, many groups in one transaction: each group's firing alerts open its incident.

    In a storm, dozens of groups appear within a second; opening their incidents
    one transaction each cost ~25 queries apiece. Here every incident, its
    history, timeline, deadlines and notifications are written together
    (``incidents.services.log_faults``). Returns (alerts processed, the groups
    done). A group with an open incident, or with anything but firing alerts
    pending, is left untouched for ``alert_group_process``.
    """
    wanted = set(groups)
    if not wanted:
        return 0, set()
    AlertGroup.objects.bulk_create([AlertGroup(integration_id=i, key=key) for i, key in wanted], ignore_conflicts=True)
    locked = (AlertGroup.objects.select_for_update(of=("self",), skip_locked=True)
              .select_related("integration", "incident")
              .filter(integration_id__in={i for i, _key in wanted}, key__in={key for _i, key in wanted}))
    by_group = {(g.integration_id, g.key): g for g in locked
                if (g.integration_id, g.key) in wanted and not (g.incident_id and g.incident.is_open)}
    if not by_group:
        return 0, set()
    batches = _pending_alerts_by_group(by_group)
    version = PlanVersion.objects.active()
    opening = []  # (group key, alerts, the alerts that open it)
    for key, batch in batches.items():
        if any(a.status != AlertStatus.FIRING for a in batch):
            continue
        opening.append((key, batch, _changes(batch, {})))
    if not opening:
        return 0, set()
    incidents = incident_services.log_faults([_fault(by_group[key].integration, firing, version, known_keys=True)
                                              for key, _batch, firing in opening])
    now = timezone.now()
    entries, done, counts = [], [], {}
    for (key, batch, firing), incident in zip(opening, incidents, strict=True):
        group = by_group[key]
        group.incident = incident
        entries.append(TimelineEntry(incident=incident, kind=TimelineKind.ALERT, at=now,
                                     actor_label=group.integration.name,
                                     detail=_alert_detail(group.integration, firing, opened=True)))
        done += [a.pk for a in batch]
        opened, received = counts.get(group.integration_id, (0, 0))
        counts[group.integration_id] = (opened + 1, received + len(batch))
    TimelineEntry.objects.bulk_create(entries)
    AlertGroup.objects.bulk_update([by_group[key] for key, _batch, _firing in opening], ["incident"])
    _mark_processed(done, {key: by_group[key].incident_id for key, _batch, _firing in opening}, now)
    for integration_id, (opened, received) in counts.items():
        Integration.objects.filter(pk=integration_id).update(
            alerts_received=F("alerts_received") + received, incidents_opened=F("incidents_opened") + opened)
    return len(done), {key for key, _batch, _firing in opening}


def _mark_processed(alert_ids, incident_of_group, now):
    """Stamp the alerts processed and attach each to its group's incident: a CASE on the group, not a lookup
    per alert row."""
    incident = Case(*[When(integration_id=integration_id, group_key=key, then=Value(incident_id))
                      for (integration_id, key), incident_id in incident_of_group.items()],
                    output_field=Alert._meta.get_field("incident").target_field)
    Alert.objects.filter(pk__in=alert_ids).update(incident_id=incident, processed_at=now, last_error="")


_level_ranks = {}  # plan version id -> {level key: rank}; stored versions never change


def _ranks(version_id):
    ranks = _level_ranks.get(version_id)
    if ranks is None:
        ranks = _level_ranks[version_id] = dict(Level.objects.filter(version_id=version_id).values_list("key", "rank"))
    return ranks


def _rank(incident, level_key):
    return _ranks(incident.plan_version_id).get(level_key, 99)


def _open_incident(integration, firing):
    version = PlanVersion.objects.active()
    try:
        return incident_services.log_fault(**_fault(integration, firing, version))
    except ValidationError:
        # The plan changed under a stored alert (a category it no longer has): the
        # integration's defaults still open an incident rather than dropping the alert.
        log.warning("alert %s: category or level unknown to the plan; using %s's defaults", firing[0].pk, integration)
        return incident_services.log_fault(**_fault(integration, firing, version, use_defaults=True))


def _fault(integration, firing, version, *, use_defaults=False, known_keys=False):
    """``log_fault``'s arguments for the incident these firing alerts open.

    ``known_keys``: take the integration's defaults at once when the plan lacks
    the alerts' category or level (``_open_incident`` learns it from the refusal).
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


def raise_level_from_alert(incident, *, level_key, integration, summary=""):
    """A more severe alert joined the incident: raise it through the same path as a timed escalation."""
    return incident_services.raise_level(
        incident, level_key,
        reason=_("monitoring alert from %(name)s: %(summary)s") % {"name": integration.name, "summary": summary},
    )


def _alert_detail(integration, alerts, *, opened):
    shown = alerts[:50]
    return {
        "integration": integration.name, "opened_incident": opened, "count": len(alerts),
        "alerts": [{"id": a.pk, "fingerprint": a.fingerprint, "status": a.status, "summary": a.summary,
                    "level": a.level_key, "starts_at": a.starts_at.isoformat()} for a in shown],
    }


def _recovered_at_source(incident, integration, last_alert):
    """Every alert of the incident is resolved: mark it recovered and tell its responders.

    Recovery is not closure (plan 4.2.2: responders confirm stability and resolve).
    When the state machine does not allow it (nobody acknowledged yet), the
    refusal is recorded instead, so responders still see the source recovered.
    """
    note = _("%(name)s reports every alert resolved") % {"name": integration.name}
    if incident.status != "recovered":
        try:
            incident = incident_services.mark_recovered(incident, actor=None, note=note)
        except Refused as refused:
            TimelineEntry.objects.create(incident=incident, kind=TimelineKind.ALERT, actor_label=integration.name,
                                         detail={"integration": integration.name, "resolved_at_source": True,
                                                 "not_marked_recovered": str(refused.message)})
    cell = cell_of(incident)
    roles = [duty.role.key for duty in cell.on_site.all()] + [n.role.key for n in cell.notify.all()]
    notify_roles(incident, roles, event=f"alerts-resolved:{last_alert.pk}", ask=Ask.FYI, note=note)
