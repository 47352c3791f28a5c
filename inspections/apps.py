from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self):
        # A missed round is an engine deadline (kind inspection): this app decides what its miss does.
        from escalation.models import Kind
        from escalation.services import act_on_due_deadlines_with

        from .misses import act_on_missed_round

        act_on_due_deadlines_with(act_on_missed_round, kinds=(Kind.INSPECTION,))
