"""Monitoring integrations: create one, rotate its token, disable it; find it by token; its per-minute rate.

The token lookup and the rate limit run on every alert request before its body
is read, so each costs one round trip (PostgreSQL, then Redis).
"""

import functools
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import redis
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Field
from django.utils.translation import gettext as _

from core.broker import broker_redis
from plan.models import PlanVersion

from .lanes import redis_key
from .models import Integration, LEVEL_KEYS

if TYPE_CHECKING:
    from people.models import Person

log = logging.getLogger(__name__)

# In the model's field order, as Model.from_db expects. ``group_by`` too: intake reads it on every request,
# and a deferred field costs a query of its own.
_INTEGRATION_FIELDS = ("id", "name", "kind", "default_category", "default_level", "enabled",
                       "rate_limit_per_minute", "group_by")


def integration_for_token(raw: str | None) -> Integration | None:
    """The integration holding this token, or None; one query, the hottest line of every alert request.

    The integration comes back with only the fields intake needs (others load
    on access) and with ``active_plan_version_id`` read in the same round trip.

    This query is also the request's connection health check. With
    ``CONN_HEALTH_CHECKS`` Django would first send ``SELECT 1`` on a reused
    connection, a round trip of its own on every alert request; instead a
    connection that died while idle (PostgreSQL restarted) fails this read-only
    SELECT, is closed and the SELECT retried once on a new connection, which is
    what the health check would have done. A database still down fails the
    retry too: the hook answers 503.
    """
    from people.models import hash_token

    if not raw:
        return None
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _INTEGRATION_FIELDS)
    sql = (f"SELECT {columns}, (SELECT {quote('id')} FROM {quote(PlanVersion._meta.db_table)}"
           f" WHERE {quote('is_active')}) FROM {quote(Integration._meta.db_table)} WHERE {quote('token_hash')} = %s")
    params = [hash_token(raw)]
    reused = connection.connection is not None and not connection.in_atomic_block
    if reused:
        connection.health_check_done = True  # type: ignore[attr-defined]  # this SELECT checks it, below
    try:
        row = _fetch_one(sql, params)
    except (OperationalError, InterfaceError):
        if not reused:
            raise
        connection.close()  # as a failed health check does; the next cursor connects afresh
        row = _fetch_one(sql, params)
    if row is None:
        return None
    # A raw cursor skips the fields' converters (the JSON of group_by arrives as text): apply them as a queryset would.
    values = [_from_db(name, value) for name, value in zip(_INTEGRATION_FIELDS, row[:-1], strict=True)]
    integration = Integration.from_db(connection.alias, _INTEGRATION_FIELDS, values)
    # Read with the row for this request only: no model field declares it.
    integration.active_plan_version_id = row[-1]  # type: ignore[attr-defined]
    return integration


def _fetch_one(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _from_db(name: str, value: Any) -> Any:
    """``value`` as a queryset would give it: the backend's and the field's converters, as the SQL compiler applies."""
    column, converters = _converters(name)
    for converter in converters:
        value = converter(value, column, connection)
    return value


@functools.cache
def _converters(name: str) -> tuple[Any, list[Any]]:
    field = Integration._meta.get_field(name)
    assert isinstance(field, Field)  # every name of _INTEGRATION_FIELDS is a concrete column
    column = field.get_col(Integration._meta.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)


# One round trip and one command: a pipeline of INCR and EXPIRE in MULTI/EXEC costs the web process several
# times the client-side work for the same effect.
_COUNT_REQUEST = """
local count = redis.call('incr', KEYS[1])
redis.call('expire', KEYS[1], ARGV[1])
return count"""


def rate_limit_retry_after(integration: Integration) -> int | None:
    """Count this request against the integration's per-minute limit.

    Returns None when it may proceed, else the seconds until the window resets.
    A fixed one-minute window in Redis: one round trip per request. If Redis is
    unreachable the request proceeds: dropping alerts is worse than a flood.
    The embedded default has no Redis: there the window is counted in Django's
    cache (this process's memory, and ./scripts/run.sh runs one web process),
    so the limit the integration page shows holds there too.
    """
    now = time.time()
    window = int(now // 60)
    key = redis_key("rate", integration.pk, window)
    client = broker_redis()
    if client is None:
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    else:
        try:
            count = client.eval(_COUNT_REQUEST, 1, key, 120)
        except redis.RedisError:
            log.warning("rate limit not applied to %s: Redis unreachable", integration)
            return None
    if count <= integration.rate_limit_per_minute:
        return None
    return max(1, int((window + 1) * 60 - now + 0.999))


def integration_count_rejected(integration: Integration) -> None:
    Integration.objects.filter(pk=integration.pk).update(requests_rejected=F("requests_rejected") + 1)


def integration_creation_errors(*, name: str, default_category: str, default_level: str) -> dict[str, list[str]]:
    """What is wrong with these settings for a new integration: {field: [messages]}, empty when nothing."""
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("give the integration a name")]
    elif Integration.objects.filter(name=name.strip()).exists():
        errors["name"] = [_("an integration named %(name)r already exists") % {"name": name.strip()}]
    if default_level not in LEVEL_KEYS:
        errors["default_level"] = [_("must be one of %(keys)s") % {"keys": ", ".join(LEVEL_KEYS)}]
    categories = [key for key in PlanVersion.objects.filter(is_active=True).values_list("categories__key", flat=True)
                  if key]
    if categories and default_category not in categories:
        errors["default_category"] = [_("must be one of the plan's categories: %(keys)s")
                                      % {"keys": ", ".join(categories)}]
    return errors


STORM_FIELDS = ("storm_threshold", "storm_window", "storm_quiet")


def integration_create(*, name: str, kind: str, default_category: str = "system", default_level: str = "blue",
                       rate_limit_per_minute: int | None = None, group_by: Sequence[str] = (),
                       group_window: timedelta | None = None,
                       storm: Mapping[str, Any] | None = None) -> tuple[Integration, str]:
    """Create an integration; returns (integration, token). The token is shown once and never stored.

    The one way to create one: the admin, ``createintegration`` and the tests all come here.
    """
    errors = integration_creation_errors(name=name, default_category=default_category, default_level=default_level)
    if errors:
        raise ValidationError(errors)
    integration = Integration(name=name.strip(), kind=kind, default_category=default_category,
                              default_level=default_level)
    if rate_limit_per_minute is not None:
        integration.rate_limit_per_minute = rate_limit_per_minute
    integration.group_by = list(group_by)
    if group_window is not None:
        integration.group_window = group_window
    for field, value in (storm or {}).items():  # storm_threshold, storm_window, storm_quiet (alerts/storms.py)
        if field not in STORM_FIELDS:
            raise ValidationError({field: [_("unknown storm setting")]})
        setattr(integration, field, value)
    token = integration.set_new_token()
    integration.full_clean(exclude=["prefix", "token_hash"])
    integration.save()
    return integration, token


@transaction.atomic
def integration_rotate_token(*, integration: Integration, by: "Person | None") -> tuple[Integration, str]:
    """Give the integration a new token; the old one stops working at once. Returns the new token, shown once.

    The only way to change a token: its hash is never edited, so the history
    says who replaced it and when (``by``, the reason), and no old hash can be
    written back.
    """
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    token = integration.set_new_token()
    # simple-history reads these two off the instance; no stub declares them.
    integration._history_user = by  # type: ignore[attr-defined]
    integration._change_reason = "token rotated"  # type: ignore[attr-defined]
    integration.save(update_fields=["prefix", "token_hash"])
    return integration, token


@transaction.atomic
def integration_disable(*, integration: Integration, by: "Person | None") -> Integration:
    """Refuse the integration's deliveries from now on (403); its alerts and their incidents stay as they were.

    An integration that has sent alerts is disabled rather than deleted: the
    alerts are the record of what the monitoring said. Disabling twice is a
    no-op, so the history shows one change.
    """
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    if integration.enabled:
        integration.enabled = False
        # simple-history reads these two off the instance; no stub declares them.
        integration._history_user = by  # type: ignore[attr-defined]
        integration._change_reason = "disabled"  # type: ignore[attr-defined]
        integration.save(update_fields=["enabled"])
    return integration

