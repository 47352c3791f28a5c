"""What the reports app keeps: which monthly reports beat has sent, so each month goes out once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MonthlyReport(models.Model):
    """One row per month sent; the unique month is what makes a retried or doubled beat send nothing twice."""

    month = models.CharField(_("month"), max_length=7, unique=True)  # YYYY-MM
    sent_at = models.DateTimeField(_("sent at"))
    recipients = models.JSONField(_("recipients"), default=list)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")

    def __str__(self):
        return self.month
