"""The caller's own notifications, and acknowledging one."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from . import answers
from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    # Said in the caller's language from the stored facts (the copy their channels sent is the stored one).
    title = serializers.CharField(source="reader_title", read_only=True)
    body = serializers.CharField(source="reader_body", read_only=True)
    level = serializers.CharField(source="level_key", read_only=True)
    role = serializers.CharField(source="role_key", read_only=True)
    drill = serializers.BooleanField(source="is_drill", read_only=True)
    needs_answer = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "incident", "title", "body", "ask", "needs_answer", "event", "level", "role", "drill",
                  "due_at", "created_at", "read_at", "acknowledged_at"]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    incident = django_filters.NumberFilter(field_name="incident_id")

    class Meta:
        model = Notification
        fields = ["incident"]


@extend_schema_view(list=extend_schema(summary="The caller's notifications, newest first"))
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Notification.objects.none()
        # Only the caller's own, and only those already shown to them (not held back for the on-duty people).
        return Notification.objects.visible().filter(person=self.request.user).order_by("-created_at", "-id")

    @extend_schema(summary="Mark one of the caller's notifications read", request=None,
                   operation_id="v1_notifications_read_one",
                   responses=NotificationSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        answers.mark_read(request.user, notification_id=notification.pk)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(summary="Mark all of the caller's notifications read", request=None,
                   operation_id="v1_notifications_read_all",
                   responses={200: inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], url_path="read", filterset_class=None, pagination_class=None)
    def read_all(self, request):
        return Response({"marked": answers.mark_read(request.user)})

    @extend_schema(summary="Confirm one of the caller's notifications read (\"I have read this\")",
                   description="Answers the message only; taking the incident on is POST /incidents/{id}/acknowledge/.",
                   request=None,
                   responses=NotificationSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def ack(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        notification = answers.confirm_read(notification, person=request.user)
        return Response(NotificationSerializer(notification).data)
