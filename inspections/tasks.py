"""Beat's inspection task: a thin adapter (style.md habit 4)."""

from celery import shared_task

from . import generation


@shared_task(name="inspections.generate_rounds", soft_time_limit=50, time_limit=60)
def generate_rounds() -> int:
    return generation.generate_rounds()
