"""The broker's names and its Redis for short-lived flags, shared by the Celery app and the apps' services.

Queue names carry FENGHUO_QUEUE_PREFIX so tests and several installations on one Redis never take each
other's work; config/celery.py routes each app's tasks to its queue.
"""

import redis
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
    if not url.startswith(("redis://", "rediss://")):
        return None
    if _flags_client is None:
        _flags_client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _flags_client
