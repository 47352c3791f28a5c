from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from incidents import hooks

        from .figures import on_resolved

        # Each resolved incident's figures are written with its resolution (reports/figures.py).
        hooks.on("resolved", on_resolved)
