"""Thin task adapters for alert processing, on the intake queue."""

import time

from celery import shared_task

from config.celery import INTAKE_QUEUE

from . import services


@shared_task(name="alerts.process_pending", queue=INTAKE_QUEUE, acks_late=True)
def process_pending():
    """Nudged after an alert is committed. Idempotent: it only processes rows still pending."""
    # Clear the flag before looking, so an alert committed from now on nudges again (services._nudge).
    services.clear_nudge()
    started = time.monotonic()
    services.alerts_process_pending()
    if time.monotonic() - started >= services.RUN_SECONDS:
        # Stopped at its time budget with work left: carry on in a fresh task.
        process_pending.delay()


@shared_task(name="alerts.sweep_pending", queue=INTAKE_QUEUE, acks_late=True)
def sweep_pending():
    """The safety net (celery beat): alerts whose nudge was lost are processed here."""
    services.alerts_process_pending()
