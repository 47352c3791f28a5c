"""Celery entry points. Each only calls a service; the services hold the logic and the locks."""

from celery import shared_task

from . import services


# expires: a sweep that waited 10 s in the queue is stale; beat has sent fresher ones since.
@shared_task(name="escalation.sweep_due_deadlines", acks_late=True, expires=10)
def sweep_due_deadlines():
    return services.sweep()


@shared_task(name="escalation.act_on_deadline", acks_late=True)
def act_on_deadline(deadline_id, incident_id=None):
    # Coming early (clock skew, an early ETA) or twice is harmless: act_on re-checks the row under its lock.
    return services.nudge(deadline_id, incident_id=incident_id)


@shared_task(name="escalation.arm_near_deadlines", acks_late=True, expires=30)
def arm_near_deadlines():
    return services.arm_near_deadlines()


@shared_task(name="escalation.heartbeat", acks_late=True, expires=30)
def heartbeat():
    # Run by a worker: proves a worker is consuming the escalation queue (config/health.py reads it).
    services.beat_heart("worker")


def _beat_sent_heartbeat(sender=None, **_kwargs):
    # Fires in the process that publishes the task, which for this task is beat alone.
    if sender == "escalation.heartbeat":
        services.beat_heart("beat")


from celery.signals import before_task_publish  # noqa: E402

before_task_publish.connect(_beat_sent_heartbeat, weak=False)
