"""What the reviews API reads and writes. Types only: the services decide the rest."""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import SECTIONS, Action
from .selectors import ReviewReading


class FiguresSerializer(serializers.Serializer):
    time_to_acknowledge_s = serializers.IntegerField(allow_null=True)
    time_to_arrive_s = serializers.IntegerField(allow_null=True)
    time_to_recover_s = serializers.IntegerField(allow_null=True)
    time_to_resolve_s = serializers.IntegerField(allow_null=True)
    interruption_s = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Business interruption: from discovery until service came back."))
    deadlines_met = serializers.IntegerField()
    deadlines_missed = serializers.IntegerField()


class DeadlineOutcomeSerializer(serializers.Serializer):
    kind = serializers.CharField(source="deadline.kind")
    subject = serializers.CharField(source="deadline.subject")
    role = serializers.CharField(source="deadline.role_key")
    due_at = serializers.DateTimeField(source="deadline.due_at")
    state = serializers.CharField(source="deadline.state")
    acted_at = serializers.DateTimeField(source="deadline.acted_at", allow_null=True)
    met = serializers.BooleanField()
    missed = serializers.BooleanField()
    margin_s = serializers.IntegerField(allow_null=True, help_text=gettext_lazy(
        "Seconds met early (positive) or late (negative: missed, until done or until resolution)."))


class HighlightSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor = serializers.CharField()
    text = serializers.CharField()


class ReviewSerializer(serializers.Serializer):
    """A review, read through ``selectors.review_of`` (a ``ReviewReading``)."""

    incident = serializers.IntegerField(source="incident.pk")
    status = serializers.CharField(source="review.status")
    summary = serializers.CharField(source="review.summary")
    impact = serializers.CharField(source="review.impact")
    root_cause = serializers.CharField(source="review.root_cause")
    went_well = serializers.CharField(source="review.went_well")
    went_wrong = serializers.CharField(source="review.went_wrong")
    lessons = serializers.CharField(source="review.lessons")
    drafted_at = serializers.DateTimeField(source="review.drafted_at")
    updated_at = serializers.DateTimeField(source="review.updated_at")
    submitted_at = serializers.DateTimeField(source="review.submitted_at", allow_null=True)
    submitted_by = serializers.CharField(source="review.submitted_by.username", allow_null=True, default=None)
    approved_at = serializers.DateTimeField(source="review.approved_at", allow_null=True)
    approved_by = serializers.CharField(source="review.approved_by.username", allow_null=True, default=None)
    figures = serializers.SerializerMethodField()
    affected_branches = serializers.IntegerField(source="incident.affected_branches", allow_null=True)
    total_branches = serializers.IntegerField(source="incident.total_branches", allow_null=True)
    affected_system = serializers.CharField(source="incident.affected_system")
    deadlines = serializers.SerializerMethodField()
    highlights = HighlightSerializer(many=True)

    @extend_schema_field(FiguresSerializer)
    def get_figures(self, reading: ReviewReading):
        return reading.figures.as_api()

    @extend_schema_field(DeadlineOutcomeSerializer(many=True))
    def get_deadlines(self, reading: ReviewReading):
        return DeadlineOutcomeSerializer(reading.figures.deadlines, many=True).data


class ReviewEditSerializer(serializers.Serializer):
    """The written parts; omitted parts keep their text. Other keys are refused by the service, by name."""

    summary = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    impact = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    root_cause = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    went_well = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    went_wrong = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    lessons = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(SECTIONS)) if hasattr(self.initial_data, "keys") else []
        if unknown:
            raise serializers.ValidationError({name: [gettext_lazy("not a part of the review")] for name in unknown})
        return attrs


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ActionSerializer(serializers.ModelSerializer):
    """An action hangs from an incident, an asset, or both: the other is null."""

    incident = serializers.IntegerField(source="incident_id", read_only=True, allow_null=True)
    incident_title = serializers.CharField(source="incident.title", read_only=True, allow_null=True, default=None)
    asset = serializers.CharField(source="asset.tag", read_only=True, allow_null=True, default=None,
                                  help_text=gettext_lazy("The tag of the asset it hangs from, if any."))
    asset_name = serializers.CharField(source="asset.name", read_only=True, allow_null=True, default=None)
    owner = serializers.CharField(source="owner.username", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    status_name = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.BooleanField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)
    closed_by = serializers.CharField(source="closed_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Action
        fields = ["id", "incident", "incident_title", "asset", "asset_name", "title", "owner", "owner_name", "due_at", "status",
                  "status_name", "overdue", "created_at", "created_by", "evidence", "carry_over_reason", "closed_at",
                  "closed_by"]
        read_only_fields = fields


class ActionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, default="")
    owner = serializers.CharField(required=False, allow_blank=True, default="",
                                  help_text=gettext_lazy("The owner's username."))
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DoneSerializer(serializers.Serializer):
    evidence = serializers.CharField(required=False, allow_blank=True, default="")


class CarryOverSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ActionFilterSerializer(serializers.Serializer):
    owner = serializers.CharField(required=False, allow_blank=True, default="")
    # A choice, not a BooleanField: that one reads a missing query parameter as false and "null" as unset.
    overdue = serializers.ChoiceField(choices=["true", "false"], required=False)
    status = serializers.ChoiceField(required=False, choices=["open", "done", "carried_over"], allow_blank=True,
                                     default="")
    incident = serializers.IntegerField(required=False, min_value=1)
    asset = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)

