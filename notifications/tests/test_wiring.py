"""The periodic tasks are scheduled, and every task is routed to its queue by task_routes alone."""

import pytest
from django.conf import settings

from celery import current_app as app  # the project's app (config/celery.py), made current at start-up
from core.broker import ESCALATION_QUEUE, INTAKE_QUEUE, NOTIFICATION_QUEUE


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


@pytest.mark.filterwarnings("ignore::celery.exceptions.CDeprecationWarning")
def test_every_project_task_has_a_route_and_none_sets_a_queue_of_its_own():
    app.loader.import_default_modules()
    queue_of_app = {"escalation": ESCALATION_QUEUE, "notifications": NOTIFICATION_QUEUE, "incidents": INTAKE_QUEUE,
                    "alerts": INTAKE_QUEUE}
    ours = [name for name in app.tasks if name.split(".", 1)[0] in queue_of_app]
    assert {name.split(".", 1)[0] for name in ours} >= {"escalation", "notifications", "alerts"}
    for name in ours:
        assert getattr(app.tasks[name], "queue", None) is None, f"{name} sets the deprecated queue attribute"
        assert app.amqp.router.route({}, name)["queue"].name == queue_of_app[name.split(".", 1)[0]], name

