from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self):
        # Calls up the layers (docs/architecture.md): the incident workflow tells this app when an incident
        # resolves (draft its review) and before it archives (refuse while the review or an action is open);
        # the escalation engine hands it the remediation deadlines that come due.
        from escalation.models import Kind
        from escalation.services import act_on_due_deadlines_with
        from incidents import hooks

        from .deadlines import act_on_due_remediation
        from .services import refuse_unready_archive, review_draft

        hooks.on("resolved", review_draft)
        hooks.on("archived", refuse_unready_archive)
        act_on_due_deadlines_with(act_on_due_remediation, kinds=(Kind.REMEDIATION,))
