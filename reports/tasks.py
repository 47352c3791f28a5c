"""Beat asks every hour; last month's report goes out once, on the 1st (config/settings.py CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.utils import timezone

from .figures import figures_refresh
from .filters import parse_filter
from .models import MonthlyReport
from .selectors import FRESH_SECONDS, cached_summary
from .services import monthly_report_send, previous_month

# The office's working day starts: the leadership read it that morning (TIME_ZONE).
SEND_HOUR = 8


def monthly_report_due(now=None) -> str | None:
    """The month whose report should go out now: last month, from SEND_HOUR on the 1st (office time),
    or later that month if beat was down then; None once it was sent, and before the 1st's hour."""
    local = timezone.localtime(now or timezone.now())
    month = previous_month(local.date())
    if local.day == 1 and local.hour < SEND_HOUR:
        return None
    if MonthlyReport.objects.filter(month=month).exists():
        return None
    return month


# No automatic retry: the row and the mail are one transaction, so the next hourly run sends a month whose
# sending failed; a retry loop would only hammer a mail server that is down.
@shared_task(name="reports.send_monthly_report", time_limit=600, soft_time_limit=540)
def send_monthly_report(month: str | None = None) -> str | None:
    month = month or monthly_report_due()
    if month is None:
        return None
    record = monthly_report_send(month=month)
    return record.month if record else None


# Beat runs this every WARM_EVERY seconds (config/settings.py); what it computes is never older than
# WARM_EVERY + WARM_FRESH < FRESH_SECONDS, so a person opening the reports page's default view (the last
# twelve months, every category and level) always finds its figures computed.
WARM_EVERY, WARM_FRESH = 20, 30
assert WARM_EVERY + WARM_FRESH < FRESH_SECONDS


@shared_task(name="reports.warm_default_report", time_limit=120, soft_time_limit=100, ignore_result=True)
def warm_default_report() -> None:
    cached_summary(parse_filter({}), fresh_seconds=WARM_FRESH)


# The sweep over the figures rows (reports/figures.py): the ones missing, and the recent ones something changed
# since. Idempotent, so no retry: the next run does what this one did not (beat: every 5 minutes, config/settings.py).
@shared_task(name="reports.refresh_figures", time_limit=600, soft_time_limit=540, ignore_result=True)
def refresh_figures() -> int:
    return figures_refresh()
