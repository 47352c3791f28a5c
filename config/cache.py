"""The shared Redis cache, made forgiving: with Redis unreachable a read is a miss and a write is skipped.

What lives in it can be lost: the API throttles' request counts and the
dashboard's fragments of a few seconds. With Django's own RedisCache a stopped
Redis raised ConnectionError out of every throttled API request, so the staff API
answered 500 for as long as Redis was down although PostgreSQL, which holds the
data, was fine (tests/test_faults.py). The monitoring hooks' own rate limit
already lets requests through when Redis is unreachable (alerts/integrations.py);
the throttles now do the same, for the same reason: during an outage people
must reach the incidents more than a caller must be slowed down.
"""

import logging

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from core.broker import sentinel_pool

log = logging.getLogger(__name__)

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _warn(operation, error):
    log.warning("cache %s skipped, Redis unreachable: %s", operation, error)


class SentinelAwareClient(RedisCacheClient):
    """Django's Redis cache client, which also takes ``sentinel://`` locations (REDIS_SENTINEL_MASTER).

    Django splits a LOCATION on ``;`` and ``,`` into servers to shard over; for a sentinel:// one they are the
    Sentinels of one master instead, and every read and write goes to that master (replicas may lag).
    """

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._sentinels = ";".join(servers) if servers and servers[0].startswith("sentinel://") else None

    def _get_connection_pool(self, write):
        if self._sentinels is None:
            return super()._get_connection_pool(write)
        if "sentinel" not in self._pools:
            self._pools["sentinel"] = sentinel_pool(self._sentinels, **self._pool_options)
        return self._pools["sentinel"]


class ForgivingRedisCache(RedisCache):
    """RedisCache whose reads and writes degrade to a miss when Redis cannot be reached.

    ``incr``, ``decr`` and ``clear`` still raise: their callers must know the
    operation did not happen.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SentinelAwareClient

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE as error:
            _warn("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as error:
            _warn("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNREACHABLE as error:
            _warn("has_key", error)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as error:
            _warn("set", error)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as error:
            _warn("add", error)
            return False

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as error:
            _warn("set_many", error)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as error:
            _warn("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNREACHABLE as error:
            _warn("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as error:
            _warn("delete_many", error)
