"""The Celery app: ``celery -A config worker`` / ``celery -A config beat``.

Settings favour never losing or doubling work over throughput: late acks,
re-queue when a worker dies, one message prefetched at a time, JSON only, and
named queues so escalation is never stuck behind a notification backlog.
The deadline table in PostgreSQL, not the broker, is the source of truth for
timers (docs/escalation.md); the broker only carries "go and look" nudges.
"""

import gc
import logging
import os

from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fenghuo")
app.config_from_object("django.conf:settings", namespace="CELERY")

from django.conf import settings  # noqa: E402  (needs DJANGO_SETTINGS_MODULE above)

from core.broker import ESCALATION_QUEUE, INTAKE_QUEUE, NOTIFICATION_QUEUE  # noqa: E402

app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_time_limit=60,
    task_soft_time_limit=50,
    broker_connection_retry_on_startup=True,
    worker_eta_task_limit=1000,
    task_default_queue=NOTIFICATION_QUEUE,
    # Order matters: a worker consuming several queues polls them in this order.
    task_queues=[Queue(ESCALATION_QUEUE), Queue(NOTIFICATION_QUEUE), Queue(INTAKE_QUEUE)],
    task_routes={
        "escalation.*": {"queue": ESCALATION_QUEUE},
        "notifications.*": {"queue": NOTIFICATION_QUEUE},
        "incidents.*": {"queue": INTAKE_QUEUE},
        "inspections.*": {"queue": INTAKE_QUEUE},
        "alerts.*": {"queue": INTAKE_QUEUE},
        # The monthly report is mail, like the notifications; it never holds up escalation.
        "reports.*": {"queue": NOTIFICATION_QUEUE},
    },
    timezone="UTC",
    enable_utc=True,
)
app.autodiscover_tasks()


def _detached_channels_raise_connection_errors():
    """Keep the worker alive when Redis goes away while it holds unacknowledged messages.

    With late acks a worker always holds some (the task it runs, the ETA nudges
    it waits on). When Redis drops, Celery 5.7 collects the broken connection,
    which detaches its channels from it, then closes it; closing a channel
    restores its unacknowledged messages, and a task that finishes after the
    reconnect acks its message on the old channel. Both reach kombu 5.7's
    ``_connparams`` on the detached channel, which raises AttributeError, and
    Celery treats that as unrecoverable: the worker exited and stayed down once
    Redis was back (tests/test_faults.py showed both).

    Raised as a connection error instead, kombu and Celery handle it as they
    handle any broker outage: the restore is skipped, the ack is logged as
    failed. Nothing is lost: Redis keeps an unacknowledged message in its
    unacked set and delivers it again after the visibility timeout (the tasks
    are idempotent), and the deadline and outbox tables, not the broker, say
    what is due; the sweeps act on them.
    """
    import redis
    from kombu.transport import redis as redis_transport

    connparams = redis_transport.Channel._connparams
    if getattr(connparams, "detached_is_a_connection_error", False):
        return

    def connparams_of_attached_channel(channel, *args, **kwargs):
        if channel.connection is None or channel.connection.client is None:
            raise redis.exceptions.ConnectionError("this broker channel's connection was closed")
        return connparams(channel, *args, **kwargs)

    connparams_of_attached_channel.detached_is_a_connection_error = True
    redis_transport.Channel._connparams = connparams_of_attached_channel


_detached_channels_raise_connection_errors()


@signals.worker_init.connect  # the main process: the one that works with the solo and threads pools
@signals.worker_process_init.connect  # each prefork child, after the fork
def freeze_what_start_up_loaded(**_kwargs):
    """As in config/wsgi.py: load what the first tasks would, then hide it from the collector.

    A worker holds every model, the plan caches and both translation catalogues;
    without gc.freeze() each full collection walks all of it, a pause in the
    middle of a storm's deadlines (issue 21, item 6).
    """
    from django.utils import translation

    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Fenghuo")
    gc.collect()
    gc.freeze()
    logging.getLogger(__name__).info("gc.freeze: %d objects out of the collector's sight", gc.get_freeze_count())
