"""Accepting a delivery: the parsed alerts become rows in one INSERT, committed before the 202.

Nothing else happens in the request, so an alert storm costs one statement per
request and a 202 always means the alerts are in PostgreSQL. A repeated
delivery (the same ``delivery_key``) stores nothing new. After the commit a
worker of each lane concerned is nudged (``lanes.nudge``); the rows wait with
``processed_at IS NULL`` until ``processing`` turns them into incidents.
"""

import dataclasses
import functools
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Field, Q
from django.utils import timezone

from plan.models import Category

from .lanes import lane_of, nudge
from .models import Alert, Integration

if TYPE_CHECKING:
    from .payloads import AlertData


# Plan versions are immutable once loaded, so their category keys never change:
# cache them per process by version id (the active id is read on every request).
_category_keys_by_version: dict[int, tuple[str, ...]] = {}


def plan_category_keys(version_id: int | None) -> tuple[str, ...]:
    """The category keys of a plan version (alerts naming another fall back or are refused)."""
    if version_id is None:
        return ()
    keys = _category_keys_by_version.get(version_id)
    if keys is None:
        keys = tuple(Category.objects.filter(version_id=version_id).order_by("position").values_list("key", flat=True))
        _category_keys_by_version[version_id] = keys
    return keys



def grouped(integration: Integration, alerts: Sequence["AlertData"]) -> Sequence["AlertData"]:
    """The alerts with the integration's own grouping: the values of its ``group_by`` labels make the group.

    Without ``group_by`` the source's grouping stands (Alertmanager's groupKey,
    the events API's dedup_key). With it, alerts that Alertmanager split into
    several groups still share one incident when those labels agree.
    """
    if not integration.group_by:
        return alerts
    return [dataclasses.replace(a, group_key=group_key_of(integration.group_by, a.labels)) for a in alerts]


def group_key_of(names: Sequence[str], labels: dict[str, Any]) -> str:
    key = "by:" + json.dumps([[name, str(labels.get(name, ""))] for name in names], ensure_ascii=False,
                             separators=(",", ":"))
    # The column holds 500 characters: a longer key is its digest, still one group per set of values.
    return key if len(key) <= 500 else "by-sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def alerts_receive(*, integration: Integration, alerts: Sequence["AlertData"]) -> int:
    """Store the delivered alerts (a repeated delivery stores nothing new) and nudge a worker."""
    alerts = grouped(integration, alerts)
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
    lanes = {lane_of(integration.pk, group_key=key) for key in {a.group_key for a in alerts}}
    transaction.on_commit(lambda: nudge(lanes))  # at once in autocommit: the INSERT is already committed
    _touch_last_received(integration, now)
    return len(rows)


def _insert_ignoring_repeats(rows: Sequence[dict[str, Any]]) -> None:
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


def _isoformat(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()  # to the microsecond (DjangoJSONEncoder would cut it to milliseconds)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@functools.cache
def _insert_sql(names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    fields: list[Field[Any, Any]] = []
    for name in names:
        field = Alert._meta.get_field(name)
        # Every key alerts_receive builds is a concrete column, never a reverse relation.
        assert isinstance(field, Field) and field.column is not None
        fields.append(field)
    columns = ", ".join(quote(f.column) for f in fields if f.column is not None)
    types = ", ".join(f"{quote(name)} {f.db_type(connection)}" for name, f in zip(names, fields, strict=True))
    selected = ", ".join(quote(name) for name in names)
    return (f"INSERT INTO {quote(Alert._meta.db_table)} ({columns}) SELECT {selected} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS r({types}) ON CONFLICT DO NOTHING")


_last_touched: dict[int, float] = {}  # integration id -> monotonic time this process last wrote last_received_at


def _touch_last_received(integration: Integration, now: datetime) -> None:
    """Bookkeeping only: outside the alert's transaction and at most once a second per process,
    so a storm neither queues behind one hot row lock nor pays a round trip per request."""
    tick = time.monotonic()
    if tick - _last_touched.get(integration.pk, float("-inf")) < 1:
        return
    _last_touched[integration.pk] = tick
    Integration.objects.filter(Q(last_received_at__isnull=True) | Q(last_received_at__lt=now - timedelta(seconds=1)),
                               pk=integration.pk).update(last_received_at=now)

