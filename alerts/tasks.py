"""Thin task adapters for alert processing, on the intake queue (config/celery.py task_routes)."""

import socket

from celery import shared_task
from django.conf import settings

from .lanes import worker_settings_record
from .processing import alerts_process_pending_in_turn
from .storms import storms_end_quiet


@shared_task(name="alerts.process_pending", acks_late=True)
def process_pending(lane=0):
    """Nudged after an alert is committed. Idempotent: it only processes rows still pending in its lane."""
    _done, again = alerts_process_pending_in_turn(lane)
    if again:
        # Stopped at its time budget with work left, or alerts arrived while another runner had the turn.
        process_pending.delay(lane)


@shared_task(name="alerts.sweep_pending", acks_late=True, bind=True)
def sweep_pending(self):
    """The safety net (celery beat): alerts whose nudge was lost are processed here, lane by lane.

    Every sweep first records the lane count and prefix this worker runs with, which /readyz compares,
    and last ends the alert storms that have gone quiet.
    """
    worker_settings_record(worker=self.request.hostname or socket.gethostname())
    for lane in range(settings.ALERTS_LANES):
        alerts_process_pending_in_turn(lane)
    storms_end_quiet()
