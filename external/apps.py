from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExternalConfig(AppConfig):
    name = "external"
    verbose_name = _("External parties")

    def ready(self):
        from escalation.services import act_on_due_deadlines_with
        from incidents import hooks
        from notifications import announcements

        from . import services

        # What a due reminder, report or arrival deadline does (external.services.act_on_due).
        act_on_due_deadlines_with(services.act_on_due, kinds=services.EXTERNAL_KINDS)
        # The plan's reporting duties start when a level does (initial, written) and at resolution (final).
        hooks.on("level_started", services.start_level_duties)
        hooks.on("resolved", services.start_final_duties)
        # Announcements to the business departments also reach the department parties' contacts by email.
        announcements.also_tell(services.department_addresses)
