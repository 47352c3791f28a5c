"""Celery entry points. Each only calls a service; the services hold the logic and the locks."""

from celery import shared_task

from . import services


@shared_task(name="escalation.sweep_due_deadlines", acks_late=True, expires=10)
def sweep_due_deadlines():
    return services.sweep()


@shared_task(name="escalation.act_on_deadline", acks_late=True)
def act_on_deadline(deadline_id):
    # Come early (clock skew, an early ETA) is harmless: act_on re-checks due_at against the database clock.
    return services.act_on(deadline_id)
