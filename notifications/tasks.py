"""Celery entry points. Each only calls a service; the services hold the logic and the locks."""

from celery import shared_task

from . import answers, delivery


# No retry on the decorator: the outbox rows carry their own retry schedule, and beat runs this every 5 s.
@shared_task(name="notifications.deliver_pending", acks_late=True, expires=30)
def deliver_pending():
    delivery.delivery_run_started()
    return delivery.deliver_due()


@shared_task(name="notifications.follow_up", acks_late=True, expires=60)
def follow_up():
    repeated, escalated = answers.follow_up()
    return {"repeated": repeated, "escalated": escalated}
