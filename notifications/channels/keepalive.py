"""POST with kept-alive connections: urllib3's connection pools, one set per worker process, shared by the
threads that send.

``urllib.request.urlopen`` opens (and for HTTPS handshakes) a new connection
for every message; in a storm that is most of the cost of a webhook or robot
call. urllib3 keeps the connection to each host open and, before reusing it,
checks that the server has not closed it meanwhile.

Nothing is retried or redirected here: a request that meets a closed
connection fails like any network error and is retried on the delivery's
schedule, so a message the provider did receive is not repeated behind the
outbox's back; a redirected POST would arrive as a GET without the message.

A proxy from the environment (``https_proxy`` and friends) keeps the
``urllib`` path, which honours it as before.
"""

import os
import sys
import threading
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError, ReadTimeoutError, SSLError

# Connections kept per host: one per sending thread (notifications.sending.SEND_THREADS) and some to spare.
MAX_IDLE_PER_HOST = 32
# What urllib sent, so providers see the same client as before.
USER_AGENT = "Python-urllib/%d.%d" % sys.version_info[:2]


@dataclass
class Answer:
    status: int
    body: bytes


class ConnectError(OSError):
    """The request could not be written (connect, TLS): urllib reported these as ``URLError``."""

    def __init__(self, reason: object):
        super().__init__(reason)
        self.reason = reason


_lock = threading.Lock()
_pools: dict[int, urllib3.PoolManager] = {}


def _manager() -> urllib3.PoolManager:
    # A forked worker must not talk on its parent's sockets: each process makes its own pools.
    pid = os.getpid()
    with _lock:
        if pid not in _pools:
            _pools.clear()
            _pools[pid] = urllib3.PoolManager(maxsize=MAX_IDLE_PER_HOST, block=False, retries=False)
        return _pools[pid]


def proxied(url: str) -> bool:
    """True when the environment names a proxy for this URL: such calls keep going through urllib."""
    proxies = _environment_proxies()
    if not proxies:
        return False
    parts = urlsplit(url)
    return parts.scheme in proxies and not urllib.request.proxy_bypass(parts.hostname or "")


_proxies: dict[int, dict[str, str]] = {}


def _environment_proxies() -> dict[str, str]:
    pid = os.getpid()
    if pid not in _proxies:
        _proxies.clear()
        _proxies[pid] = urllib.request.getproxies()
    return _proxies[pid]


def post(url: str, data: bytes, headers: dict[str, str], *, timeout: float, limit: int = 8192) -> Answer:
    """POST ``data`` to ``url`` on a pooled connection; the status and at most ``limit`` bytes of the answer.

    Raises ``ConnectError`` when the connection could not be made, ``TimeoutError`` when the answer did not
    come in time and ``ConnectionError`` when the connection broke, as ``urlopen`` did.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectError(f"unknown url type: {url!r}")
    try:
        answer = _manager().request("POST", url, body=data, headers={"User-Agent": USER_AGENT, **headers},
                                    timeout=urllib3.Timeout(connect=timeout, read=timeout), redirect=False,
                                    preload_content=False)
    except (NewConnectionError, SSLError) as exc:
        raise ConnectError(exc) from exc
    except ReadTimeoutError as exc:
        raise TimeoutError(str(exc)) from exc
    except (ProtocolError, HTTPError) as exc:
        raise ConnectionError(str(exc)) from exc
    try:
        body = answer.read(limit)
    except ReadTimeoutError as exc:
        answer.close()
        raise TimeoutError(str(exc)) from exc
    except HTTPError as exc:
        answer.close()
        raise ConnectionError(str(exc)) from exc
    if answer.read(1):  # longer than we keep: this connection is not worth draining
        answer.close()
    else:
        answer.release_conn()
    return Answer(status=answer.status, body=body)


def close_idle() -> None:
    """Close every kept connection (tests, and a worker shutting down)."""
    with _lock:
        for manager in _pools.values():
            manager.clear()
        _pools.clear()
