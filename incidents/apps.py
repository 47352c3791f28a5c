from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incidents")

    def ready(self):
        # The one call up the layers (docs/architecture.md): the escalation engine finds due deadlines,
        # the incident workflow decides what they do.
        from escalation.services import act_on_due_deadlines_with

        from .deadlines import act_on_due, act_on_due_many

        act_on_due_deadlines_with(act_on_due, many=act_on_due_many)
