"""The asset register (设备台账): each device, where it stands, and what fault it would cause.

An asset names a plan fault category (network / equipment / system) and whether
it is core or peripheral: the plan's criteria (3.2) depend on both, and
``assets/severity.py`` turns them into the level a finding suggests. The owning
role is a plan role key, kept by key like ``people.RoleAssignment`` so it
survives new plan versions.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class AssetKind(models.TextChoices):
    SERVER = "server", _("Server")
    STORAGE = "storage", _("Storage")
    SWITCH = "switch", _("Switch")
    ROUTER = "router", _("Router")
    FIREWALL = "firewall", _("Firewall")
    UPS = "ups", _("UPS")
    AIR_CONDITIONING = "air_conditioning", _("Air conditioning")
    POWER_DISTRIBUTION = "power_distribution", _("Power distribution")
    OTHER = "other", _("Other")


class FaultCategory(models.TextChoices):
    """The plan format's category keys (plan/document.py CATEGORY_KEYS), with their everyday names."""

    NETWORK = "network", _("Network")
    EQUIPMENT = "equipment", _("Equipment")
    SYSTEM = "system", _("System")


class AssetQuerySet(models.QuerySet):
    def in_service(self):
        return self.filter(retired=False)


class Asset(models.Model):
    tag = models.CharField(_("asset tag"), max_length=64, unique=True,
                           help_text=_("The label on the device; imports match on it."))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=AssetKind.choices)
    category = models.CharField(_("fault category"), max_length=16, choices=FaultCategory.choices,
                                help_text=_("The kind of fault its failure would be, in the plan's terms."))
    core = models.BooleanField(_("core"), default=False,
                               help_text=_("Core or peripheral: the plan's levels depend on it (plan 3.2)."))
    room = models.CharField(_("room"), max_length=100, blank=True)
    rack = models.CharField(_("rack"), max_length=50, blank=True)
    position = models.CharField(_("position"), max_length=50, blank=True)
    owner_role = models.SlugField(_("owning role"), max_length=64, blank=True,
                                  help_text=_("The plan role that looks after it."))
    # Free text until the external-parties contacts land (issue 17: the lead links them).
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    support_contract = models.CharField(_("support contract"), max_length=200, blank=True)
    retired = models.BooleanField(_("retired"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["tag"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        constraints = [
            models.CheckConstraint(condition=Q(category__in=["network", "equipment", "system"]),
                                   name="asset_category_is_a_plan_category"),
        ]

    def __str__(self):
        return f"{self.tag} {self.name}"

    @property
    def location(self) -> str:
        """Room / rack / position as one string: the CSV's ``location`` column."""
        return "/".join(part for part in (self.room, self.rack, self.position) if part)
