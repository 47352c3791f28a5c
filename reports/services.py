"""Sending the monthly leadership report to the roles the plan names (authority ``monthly_report``)."""

from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.documents import render_docx, render_pdf, sha256_hex
from people.models import Person
from plan.services import roles_with

from .filters import add_months
from .models import MonthlyReport
from .monthly import monthly_document

AUTHORITY = "monthly_report"


def previous_month(today: date | None = None) -> str:
    today = today or timezone.localdate()
    return add_months(today.replace(day=1), -1).strftime("%Y-%m")


def report_recipients() -> list[Person]:
    """Everyone holding a role the active plan grants ``monthly_report`` (the leadership group and the office)."""
    keys = roles_with(AUTHORITY)
    return list(Person.objects.filter(is_active=True, role_assignments__role_key__in=keys).exclude(email="")
                .distinct().order_by("username"))


def monthly_report_send(*, month: str | None = None) -> MonthlyReport | None:
    """Send ``month``'s report (default: last month) once: None when it was already sent.

    The month's row is written in the same transaction as the sending, under its unique constraint: a second
    beat or a retried task either waits for the first and finds the row, or fails on the constraint, and sends
    nothing. A mail server that refuses rolls the row back, so the next run tries again.
    """
    month = month or previous_month()
    with transaction.atomic():
        if MonthlyReport.objects.select_for_update().filter(month=month).exists():
            return None
        recipients = report_recipients()
        record = MonthlyReport.objects.create(month=month, sent_at=timezone.now(),
                                              recipients=[p.username for p in recipients])
        by_language: dict[str, list[Person]] = {}
        for person in recipients:
            by_language.setdefault(person.language or settings.LANGUAGE_CODE, []).append(person)
        for language, people in sorted(by_language.items()):
            document = monthly_document(month, language=language)
            pdf, docx = render_pdf(document), render_docx(document)
            if language == settings.LANGUAGE_CODE or not record.pdf_sha256:
                record.pdf_sha256 = sha256_hex(pdf)
            with translation.override(language):
                subject = _("Fenghuo monthly emergency response report, %(month)s") % {"month": month}
                body = _("The monthly report for %(month)s is attached as PDF and DOCX.") % {"month": month}
            message = EmailMessage(subject=subject, body=body, to=[p.email for p in people])
            message.attach(f"fenghuo-monthly-{month}.pdf", pdf, "application/pdf")
            message.attach(f"fenghuo-monthly-{month}.docx", docx,
                           "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
            message.send()
        record.save(update_fields=["pdf_sha256"])
    return record
