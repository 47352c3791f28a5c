"""``GET /api/v1/reports/summary/``: the report's figures for a period and filter (interfaces.md)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .filters import DRILL_CHOICES, parse_filter
from .selectors import cached_summary


class DistributionSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)


class ComplianceSerializer(serializers.Serializer):
    met = serializers.IntegerField()
    total = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    by_role = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="role key → share met")
    by_kind = serializers.DictField(child=serializers.FloatField(allow_null=True),
                                    help_text="deadline kind → share met")
    by_cell = serializers.DictField(child=serializers.FloatField(allow_null=True),
                                    help_text="category:level → share met")
    counts = serializers.DictField(child=serializers.DictField(),
                                   help_text="by_role, by_kind, by_cell → key → {met, total, share}")


class ReviewFiguresSerializer(serializers.Serializer):
    drafted = serializers.IntegerField()
    submitted = serializers.IntegerField()
    approved = serializers.IntegerField()
    approval_s = DistributionSerializer(help_text="Incident resolved → review approved, for those approved in the period.")


class RemediationFiguresSerializer(serializers.Serializer):
    opened = serializers.IntegerField()
    done = serializers.IntegerField()
    carried_over = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Open and past due now, among those opened by the period's end.")
    close_s = DistributionSerializer(help_text="Opened → done, for those done in the period.")


class SummarySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="When these figures were computed (at most a minute stale).")
    period = serializers.DictField(child=serializers.DateField())
    filters = serializers.DictField(child=serializers.CharField())
    incidents = serializers.IntegerField()
    by_category_level = serializers.ListField(child=serializers.DictField())
    by_month = serializers.ListField(child=serializers.DictField(), help_text="{month: YYYY-MM, count, by_level}")
    mtta_s = DistributionSerializer()
    mttr_s = DistributionSerializer()
    mttr_resolved_s = DistributionSerializer()
    on_site_s = serializers.DictField()
    deadline_compliance = ComplianceSerializer()
    escalations_by_cause = serializers.DictField(child=serializers.IntegerField())
    top_sources = serializers.ListField(child=serializers.DictField())
    notifications = serializers.DictField()
    reviews = ReviewFiguresSerializer(help_text="Post-incident reviews, counted by their own dates in the period.")
    remediation = RemediationFiguresSerializer(help_text="Remediation actions, counted by their own dates in the "
                                                         "period; an asset's own action only when no incident "
                                                         "filter is set.")


PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.STR, description="First day (YYYY-MM-DD) or moment (ISO 8601); "
                     "default: the first day of the month eleven months ago."),
    OpenApiParameter("to", OpenApiTypes.STR, description="Last day, included (YYYY-MM-DD), or a moment; "
                     "default: the end of this month."),
    OpenApiParameter("category", OpenApiTypes.STR, description="A category key: network, equipment, system."),
    OpenApiParameter("level", OpenApiTypes.STR, description="A level key: blue, yellow, orange, red."),
    OpenApiParameter("source", OpenApiTypes.STR, description="How incidents came in: manual, api, alertmanager, "
                     "events, generic."),
    OpenApiParameter("system", OpenApiTypes.STR, description="The affected system: peripheral or core."),
    OpenApiParameter("asset", OpenApiTypes.STR, description="An asset tag: the incidents whose device at fault it "
                     "is; 400 for a tag no asset has."),
    # Empty is the default, as the reports page's form sends it.
    OpenApiParameter("drill", OpenApiTypes.STR, enum=["", *DRILL_CHOICES],
                     description="false (default, also when empty): real incidents only; true: drills only; all: both."),
]


class Summary(APIView):
    @extend_schema(summary="Figures for a period: counts, MTTA, MTTR, deadline compliance, escalations, channels",
                   parameters=PARAMETERS, responses=SummarySerializer)  # 400 and the rest: core/schema.py
    def get(self, request):
        return Response(cached_summary(parse_filter(request.query_params)))
