"""The periodic tasks are scheduled and routed to the notifications queue."""

import pytest
from django.conf import settings

from celery import current_app as app  # the project's app (config/celery.py), made current at start-up
from core.broker import NOTIFICATION_QUEUE


def test_delivery_and_follow_up_run_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"notifications.deliver_pending", "notifications.follow_up"} <= tasks


# Celery's router peeks at the deprecated per-task ``queue`` attribute; our routes are in task_routes.
@pytest.mark.filterwarnings("ignore::celery.exceptions.CDeprecationWarning")
def test_notification_tasks_go_to_the_notifications_queue():
    app.loader.import_default_modules()
    for name in ("notifications.deliver_pending", "notifications.follow_up"):
        assert name in app.tasks
        assert app.amqp.router.route({}, name)["queue"].name == NOTIFICATION_QUEUE
