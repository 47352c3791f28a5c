"""People: who they are, which plan roles they hold, and their API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Person(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True,
        help_text=_("Empty: follow the browser's language."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # Given to auditors and the regulator's readers, who hold no plan role (people/access.py).
        permissions = [("audit", _("Can read every incident and its record as an auditor"))]

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self):
        return self.full_name or self.get_full_name() or self.username

    def role_keys(self):
        """The plan role keys this person holds (cached per instance: roles change rarely)."""
        if not hasattr(self, "_role_keys"):
            self._role_keys = frozenset(self.role_assignments.values_list("role_key", flat=True))
        return self._role_keys


class RoleAssignment(models.Model):
    """A person holds a plan role, named by key so it survives new plan versions."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="role_assignments")
    role_key = models.SlugField(_("role"), max_length=64)
    history = HistoricalRecords()

    class Meta:
        ordering = ["person", "role_key"]
        constraints = [models.UniqueConstraint(fields=["person", "role_key"], name="one_assignment_per_role")]

    def __str__(self):
        return f"{self.person} — {self.role_key}"


def hash_token(raw):
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the secret is stored; the secret is shown once."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.person})"

    @classmethod
    def issue(cls, person, name="", *, by=None, reason="issued"):
        """Create a token; returns (token, secret). The secret is never stored.

        Revoking and rotating are in people.services, which record who did it.
        """
        raw = "fh_" + secrets.token_urlsafe(32)
        token = cls(person=person, name=name, prefix=raw[:10], key_hash=hash_token(raw))
        token._change_reason = reason
        if by is not None:
            token._history_user = by
        token.save()
        return token, raw
