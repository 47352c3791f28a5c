"""What the incidents API reads and writes. Validation of types only: the services decide the rest."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import StrictCharField
from escalation.models import Deadline, State

from . import chain
from .models import AffectedSystem, Incident, PlanStatus, ResponsePlan, TimelineEntry
from .faults import MAX_BRANCHES
from .services import DETAIL_FIELDS
from .timeline_text import actor_text, entry_text


class DeadlineSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="role_key",
                                 help_text=gettext_lazy("The plan role that must act; empty for escalations."))
    to_role = serializers.CharField(source="to_role_key",
                                    help_text=gettext_lazy("Report duties: the role reported to."))
    level = serializers.CharField(source="level_key", help_text=gettext_lazy("The level whose response created it."))
    target_level = serializers.CharField(source="target_level_key",
                                         help_text=gettext_lazy("Escalations: the level it leads to."))
    met_at = serializers.SerializerMethodField()
    missed = serializers.BooleanField(read_only=True)

    class Meta:
        model = Deadline
        fields = ["kind", "role", "to_role", "level", "target_level", "started_at", "due_at", "met_at", "missed",
                  "state"]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_met_at(self, deadline):
        if deadline.state != State.MET:
            return None
        return serializers.DateTimeField().to_representation(deadline.acted_at)


class IncidentSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.key", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    level = serializers.CharField(source="level.key", read_only=True)
    level_name = serializers.CharField(source="level.name", read_only=True)
    level_color = serializers.CharField(source="level.color", read_only=True)
    status_name = serializers.CharField(source="get_status_display", read_only=True)
    drill = serializers.BooleanField(source="is_drill", read_only=True)
    plan_version = serializers.IntegerField(source="plan_version.number", read_only=True)
    # Null for incidents a monitoring integration opened.
    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    deadlines = DeadlineSerializer(many=True, read_only=True)
    asset = serializers.SlugRelatedField(slug_field="tag", read_only=True, allow_null=True,
                                         help_text=gettext_lazy("The tag of the device at fault, when known."))

    class Meta:
        model = Incident
        fields = [
            "id", "title", "description", "category", "category_name", "level", "level_name", "level_color",
            "status", "status_name", "opened_at", "recovered_at", "resolved_at", "discovered_at", "acknowledged_at",
            "affected_branches", "total_branches", "affected_system", "host_fault", "drill", "source",
            "plan_version", "reporter", "resolution_summary", "asset", "deadlines",
        ]
        read_only_fields = fields


class ChainSerializer(serializers.Serializer):
    """Whether the incident's timeline hash chain verifies (incidents/chain.py)."""

    verified = serializers.BooleanField(help_text=gettext_lazy("Every entry's hash matches its content and the "
                                                               "entry before it."))
    entries = serializers.IntegerField()
    last_hash = serializers.CharField(help_text=gettext_lazy("SHA-256 hex of the last entry; empty when none."))
    first_broken_entry = serializers.IntegerField(allow_null=True, help_text=gettext_lazy(
        "The id of the first entry that does not match; null when the chain verifies."))


class IncidentDetailSerializer(IncidentSerializer):
    """One incident: also whether its timeline's hash chain verifies, recomputed on every read."""

    chain = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "chain"]
        read_only_fields = fields

    @extend_schema_field(ChainSerializer)
    def get_chain(self, incident):
        return chain.verify(incident.pk).as_dict()


class IncidentCreateSerializer(serializers.Serializer):
    """Log a fault. Category and level are plan keys; the service checks them against the active plan."""

    title = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=32)
    level = serializers.CharField(max_length=32)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    affected_branches = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                                 max_value=MAX_BRANCHES, default=None)
    total_branches = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                                 max_value=MAX_BRANCHES, default=None)
    affected_system = serializers.ChoiceField(choices=AffectedSystem.choices, required=False, allow_blank=True,
                                              default="")
    host_fault = serializers.BooleanField(required=False, default=False)
    is_drill = serializers.BooleanField(required=False, default=False)
    drill = serializers.BooleanField(required=False, default=False,
                                     help_text=gettext_lazy("Same as is_drill: either one marks a drill."))
    discovered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    asset = serializers.CharField(required=False, allow_blank=True, default="", max_length=64,
                                  help_text=gettext_lazy("The tag of the device at fault (asset register)."))

    def validate(self, attrs):
        drill = attrs.pop("drill")
        attrs["is_drill"] = attrs["is_drill"] or drill
        return attrs


class IncidentUpdateSerializer(serializers.Serializer):
    """PATCH: only the facts of the incident. Level and status have their own actions."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    affected_branches = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                                 max_value=MAX_BRANCHES)
    total_branches = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                                 max_value=MAX_BRANCHES)
    affected_system = serializers.ChoiceField(choices=AffectedSystem.choices, required=False, allow_blank=True)
    host_fault = serializers.BooleanField(required=False)

    def validate(self, attrs):
        incoming = self.initial_data if isinstance(self.initial_data, dict) else {}
        errors = {}
        for field in incoming:
            if field in DETAIL_FIELDS:
                continue
            if field == "level":
                errors[field] = [_("the level cannot be edited; use POST %(escalate)s or %(deescalate)s") % {
                    "escalate": self._action_url("escalate"), "deescalate": self._action_url("deescalate")}]
            elif field == "status":
                errors[field] = [_("the status cannot be edited; use the action endpoints (%(examples)s), "
                                   "or POST %(escalate)s to change the level") % {
                    "examples": "acknowledge/, check-in/, resolve/", "escalate": self._action_url("escalate")}]
            else:
                errors[field] = [_("cannot be changed; editable fields: %(fields)s") % {
                    "fields": ", ".join(DETAIL_FIELDS)}]
        if errors:
            raise serializers.ValidationError(errors)
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": [
                _("send at least one of: %(fields)s") % {"fields": ", ".join(DETAIL_FIELDS)}]})
        return attrs

    def _action_url(self, action):
        incident = self.context.get("incident")
        return f"/api/v1/incidents/{incident.pk if incident else '{id}'}/{action}/"


class LevelChangeSerializer(serializers.Serializer):
    level = serializers.CharField(max_length=32, help_text=gettext_lazy("The new level's key, e.g. orange."))
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    stability = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text=gettext_lazy("What was watched after recovery and what was seen; required where the plan cell "
                               "has a stability rule (plan 4.2.2)."))


class RecoveredSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ProposalSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    """A note: JSON ``{"text": ...}``, or multipart with an optional ``file`` (incidents/notes.py says which)."""

    text = serializers.CharField(required=False, allow_blank=True, default="")
    # Empty files and their types are the service's to refuse, in its own words.
    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False,
                                 help_text=gettext_lazy("A PNG, JPEG, GIF or WebP screenshot, or a UTF-8 log "
                                                        "excerpt; at most FENGHUO_NOTE_ATTACHMENT_MAX_BYTES."))


class DecisionSerializer(serializers.Serializer):
    comment = StrictCharField(required=False, allow_blank=True, default="")


class TimelineEntrySerializer(serializers.ModelSerializer):
    """``detail`` and ``actor`` stay the stored facts; ``text`` and ``actor_text`` say them in the caller's language.

    Pass ``context={"names": timeline_text.Names(...)}`` to read the plan's names once for many entries.
    """

    actor = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField(
        help_text=gettext_lazy("What happened, with its details, in the caller's language."))
    actor_text = serializers.SerializerMethodField(
        help_text=gettext_lazy("Who acted, in the caller's language: a person, an integration, or the system."))

    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "kind", "actor", "actor_text", "detail", "text", "prev_hash", "hash"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_text(self, entry):
        return entry_text(entry, self.context.get("names"))

    @extend_schema_field(serializers.CharField())
    def get_actor_text(self, entry):
        return actor_text(entry)

    @extend_schema_field(serializers.CharField())
    def get_actor(self, entry):
        if entry.actor_id:
            return entry.actor.username
        return entry.actor_label or "Fenghuo"


@extend_schema_field({"type": "string", "enum": PlanStatus.values})
class PlanStatusField(serializers.ChoiceField):
    """Described inline: a component named after "status" would clash with the incident's status enum."""


class ResponsePlanSerializer(serializers.ModelSerializer):
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # Null until decided, and for plans that needed no approval.
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    approver_role = serializers.CharField(source="approver_role_key", read_only=True)
    incident_status = serializers.CharField(source="incident.status", read_only=True)
    status = PlanStatusField(choices=PlanStatus.choices, read_only=True)

    class Meta:
        model = ResponsePlan
        fields = ["id", "incident", "incident_status", "text", "status", "proposed_by", "proposed_at",
                  "approver_role", "decided_by", "decided_at", "decision_comment"]
        read_only_fields = fields
