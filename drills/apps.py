from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    name = "drills"
    verbose_name = _("Drills and training")

    def ready(self):
        # A drill's scheduled start and its scripted injections are engine deadlines of kind drill_step:
        # this app decides what they do (docs/drills.md).
        from escalation import services as engine
        from escalation.models import Kind

        from .services import act_on_drill_step

        engine.act_on_due_deadlines_with(act_on_drill_step, kinds=(Kind.DRILL_STEP,))
