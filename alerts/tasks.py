"""Thin task adapters for alert processing, on the intake queue."""

from celery import shared_task

from config.celery import INTAKE_QUEUE

from . import services


@shared_task(name="alerts.process_pending", queue=INTAKE_QUEUE, acks_late=True)
def process_pending():
    """Nudged after an alert is committed. Idempotent: it only processes rows still pending."""
    _done, again = services.alerts_process_pending_in_turn()
    if again:
        # Stopped at its time budget with work left, or alerts arrived while another runner had the turn.
        process_pending.delay()


@shared_task(name="alerts.sweep_pending", queue=INTAKE_QUEUE, acks_late=True)
def sweep_pending():
    """The safety net (celery beat): alerts whose nudge was lost are processed here."""
    services.alerts_process_pending_in_turn()
