from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExternalConfig(AppConfig):
    name = "external"
    verbose_name = _("External parties")
