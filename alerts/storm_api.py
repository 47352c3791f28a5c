"""The alert storms in the HTTP API: read one with its groups, split a group out (alerts/storms.py)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import ErrorSerializer

from .models import AlertGroup, AlertStorm
from .selectors import storm_with_groups
from .splitting import alert_group_split_out


class StormGroupSerializer(serializers.ModelSerializer):
    alerts = serializers.IntegerField(source="alert_count", read_only=True)
    last_received_at = serializers.DateTimeField(source="last_received", read_only=True)
    last_summary = serializers.CharField(read_only=True)
    in_storm = serializers.SerializerMethodField()

    class Meta:
        model = AlertGroup
        fields = ["id", "key", "incident", "in_storm", "alerts", "last_received_at", "last_summary"]

    def get_in_storm(self, group: AlertGroup) -> bool:
        return group.storm_id is not None and group.incident_id == group.storm.incident_id  # type: ignore[union-attr]


class StormSerializer(serializers.ModelSerializer):
    integration = serializers.CharField(source="integration.name", read_only=True)
    groups = StormGroupSerializer(many=True, read_only=True, source="group_rows")

    class Meta:
        model = AlertStorm
        fields = ["id", "integration", "incident", "started_at", "last_alert_at", "ended_at", "groups_joined",
                  "alerts_joined", "groups"]


class SplitAnswerSerializer(serializers.Serializer):
    incident = serializers.IntegerField()


def _storm(pk: int) -> AlertStorm:
    try:
        storm, groups = storm_with_groups(pk)
    except AlertStorm.DoesNotExist:
        raise NotFound("no such alert storm") from None
    for group in groups:
        group.storm = storm
    storm.group_rows = groups  # type: ignore[attr-defined]  # what StormSerializer lists
    return storm


class StormDetail(APIView):
    @extend_schema(summary="An alert storm with the groups it took in", responses=StormSerializer)
    def get(self, request, pk):
        return Response(StormSerializer(_storm(pk)).data)


class StormGroupSplit(APIView):
    @extend_schema(summary="Split a group out of an alert storm into its own incident", request=None,
                   responses={201: SplitAnswerSerializer,
                              403: OpenApiResponse(ErrorSerializer, description="Only the coordinating roles may."),
                              409: OpenApiResponse(ErrorSerializer, description="Not in a storm, or nothing firing.")})
    def post(self, request, pk, group_id):
        group = AlertGroup.objects.filter(pk=group_id, storm_id=pk).first()
        if group is None:
            raise NotFound("no such group in this alert storm")
        incident = alert_group_split_out(group=group, actor=request.user)
        return Response({"incident": incident.pk}, status=status.HTTP_201_CREATED)
