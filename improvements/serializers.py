"""What the proposals API reads and answers."""

import dataclasses
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from incidents.models import Incident
from plan.diff import PlanDiff
from plan.services import export_version

from .models import Proposal

# The shipped plan is about 40,000 characters. Bounded so that the largest valid body, even form-encoded
# (12 bytes for a 4-byte character), stays under the body limit: too long is a 400 naming the field, not a 413.
MAX_PLAN_TEXT = 180_000
MAX_REASON = 5000


class ProposalSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    draft_version = serializers.IntegerField(source="draft_id", read_only=True)
    based_on = serializers.SerializerMethodField()
    version_number = serializers.SerializerMethodField(help_text="the number the draft got when it was approved")

    class Meta:
        model = Proposal
        fields = ["id", "incident", "reason", "state", "proposed_by", "created_at", "updated_at", "submitted_at",
                  "decided_by", "decided_at", "decision_note", "draft_version", "based_on", "version_number"]
        read_only_fields = fields

    def get_based_on(self, proposal: Proposal) -> int | None:
        based_on = proposal.draft.based_on
        return based_on.number if based_on is not None else None

    def get_version_number(self, proposal: Proposal) -> int | None:
        return proposal.draft.number


class ProposalDetailSerializer(ProposalSerializer):
    plan = serializers.SerializerMethodField(help_text="the draft plan as YAML that loadplan accepts")

    class Meta(ProposalSerializer.Meta):
        fields = [*ProposalSerializer.Meta.fields, "plan"]
        read_only_fields = fields

    def get_plan(self, proposal: Proposal) -> str:
        return export_version(proposal.draft)


class ProposalCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON, help_text=_("why the plan should change"))
    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.all(), required=False, allow_null=True,
                                                  help_text=_("the incident whose review prompted the change"))
    plan = serializers.CharField(required=False, max_length=MAX_PLAN_TEXT, trim_whitespace=False,
                                 help_text=_("the whole draft plan (YAML or JSON); default: a copy of the active plan"))


class ProposalUpdateSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, max_length=MAX_REASON)
    plan = serializers.CharField(required=False, max_length=MAX_PLAN_TEXT, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError({"plan": [_("send the draft plan as `plan`, or a new `reason`")]})
        return attrs


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_REASON)


def diff_data(diff: PlanDiff, *, compared_with: int | None) -> dict[str, Any]:
    """The diff as JSON: bilingual texts stay {en, zh}; each change says whether it was added, removed or changed."""

    def change(c: Any) -> dict[str, Any]:
        return {**dataclasses.asdict(c), "state": c.state}

    def item(i: Any) -> dict[str, Any]:
        return {"key": i.key, "state": i.state, "changes": [change(c) for c in i.changes]}

    return {
        "compared_with": compared_with,
        "count": diff.count,
        "name": change(diff.name) if diff.name else None,
        "roles": [item(i) for i in diff.roles],
        "levels": [item(i) for i in diff.levels],
        "categories": [item(i) for i in diff.categories],
        "cells": [{"category": c.category, "level": c.level, "changes": [change(x) for x in c.changes]}
                  for c in diff.cells],
        "other": [change(c) for c in diff.other],
    }
