"""The broker's names and its Redis for short-lived flags, shared by the Celery app and the apps' services.

Queue names carry FENGHUO_QUEUE_PREFIX so tests and several installations on one Redis never take each
other's work; config/celery.py routes each app's tasks to its queue.
"""

import re
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.sentinel
from django.conf import settings

ESCALATION_QUEUE = f"{settings.FENGHUO_QUEUE_PREFIX}.escalation"
NOTIFICATION_QUEUE = f"{settings.FENGHUO_QUEUE_PREFIX}.notifications"
INTAKE_QUEUE = f"{settings.FENGHUO_QUEUE_PREFIX}.intake"

_flags_client: redis.Redis | None = None


def broker_redis() -> redis.Redis | None:
    """The broker's Redis server, for short-lived coordination flags; None when the embedded broker is in use.

    Short timeouts: a flag is only an optimisation, and every caller carries on
    without it (the periodic sweeps are the safety nets).
    """
    global _flags_client
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "sentinel://")):
        return None
    if _flags_client is None:
        _flags_client = redis_client(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _flags_client


def sentinel_addresses(url: str) -> tuple[list[tuple[str, int]], int, str | None]:
    """The Sentinels, database number and password of a kombu-style ``sentinel://`` URL.

    ``sentinel://[:password@]host:port[/db];sentinel://host2:port;…`` (kombu's form, also ``,``-separated):
    the Sentinels to ask, the database on the master they name.
    """
    addresses: list[tuple[str, int]] = []
    db, password = 0, None
    for part in re.split("[;,]", url):
        parsed = urlsplit(part.strip())
        if parsed.scheme != "sentinel" or not parsed.hostname:
            raise ValueError(f"not a sentinel:// address: {part!r}")
        addresses.append((parsed.hostname, parsed.port or 26379))
        if parsed.path.strip("/"):
            db = int(parsed.path.strip("/"))
        password = parsed.password or password
    return addresses, db, password


def sentinel_pool(url: str, **options: Any) -> redis.sentinel.SentinelConnectionPool:
    """A connection pool on whichever server the Sentinels name master now (REDIS_SENTINEL_MASTER).

    Each new connection asks the Sentinels, and a connection to a server demoted to replica is dropped
    (its read-only error), so after a failover the next command reaches the new master.
    """
    addresses, db, password = sentinel_addresses(url)
    timeout = options.get("socket_timeout") or 1
    manager = redis.sentinel.Sentinel(addresses, socket_timeout=timeout,
                                      socket_connect_timeout=options.get("socket_connect_timeout") or timeout)
    options = {k: v for k, v in options.items() if k not in {"master_name"}}
    return redis.sentinel.SentinelConnectionPool(settings.REDIS_SENTINEL_MASTER, manager, db=db,
                                                 password=password, **options)


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A client for a ``redis://`` URL, or for the master behind the Sentinels of a ``sentinel://`` one."""
    if url.startswith("sentinel://"):
        return redis.Redis(connection_pool=sentinel_pool(url, **options))
    return redis.Redis.from_url(url, **options)
