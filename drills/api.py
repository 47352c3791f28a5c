"""The drills, trainings and readiness API: validate the input, call one service or selector, answer.

Refusals and validation errors come from the services and are turned into JSON
by ``config.api.exception_handler`` (400 naming the field, 403, 409).
"""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Refused
from core.schema import ErrorSerializer

from . import selectors, services
from .documents import scorecard_pdf
from .models import Drill, TrainingKind, TrainingSession

REFUSALS = {
    403: OpenApiResponse(ErrorSerializer, description="Only the emergency office may do this."),
    409: OpenApiResponse(ErrorSerializer, description="Not allowed in the drill's current state."),
}


class PdfRenderer(BaseRenderer):
    """Lets ``?format=pdf`` (DRF's format override) reach the view, which answers the PDF itself; refusals stay JSON."""

    media_type = "application/pdf"
    format = "pdf"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)


class FlatListField(serializers.ListField):
    """A list whose item errors read as one list of messages under the field's name, the API's one error shape
    (``{"field": ["message", ...]}``), instead of DRF's ``{"0": [...]}`` per item."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if isinstance(detail, dict):
                raise serializers.ValidationError([f"{int(key) + 1}: {message}" for key, messages in detail.items()
                                                   for message in _messages(messages)]) from None
            raise


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    if isinstance(value, list):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


class DrillSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category_key")
    level = serializers.CharField(source="level_key")
    incident = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    participants = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    injections = serializers.SerializerMethodField()

    class Meta:
        model = Drill
        fields = ["id", "title", "description", "category", "level", "starts_at", "clock", "status", "incident",
                  "injections", "participant_roles", "participants", "started_at", "ended_at", "observations"]

    def get_injections(self, drill) -> list[dict]:
        return drill.injections


class DrillCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=32)
    level = serializers.CharField(max_length=32)
    starts_at = serializers.DateTimeField()
    clock = serializers.FloatField(required=False, default=1.0, help_text="Plan seconds per real second.")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    injections = FlatListField(child=serializers.DictField(), required=False, default=list,
                               help_text='Each {"after": "10m", "action": "escalate", "level": "red"} or '
                                         '{"after": "20m", "action": "recover"}; after is plan time from the start.')
    participant_roles = FlatListField(child=serializers.SlugField(), required=False, default=list)
    participants = FlatListField(child=serializers.CharField(max_length=150), required=False, default=list,
                                 help_text="Usernames.")


class ObservationsSerializer(serializers.Serializer):
    observations = serializers.CharField(allow_blank=True, max_length=20000)


class EndSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ScorecardItemSerializer(serializers.Serializer):
    requirement = serializers.CharField()
    role = serializers.CharField()
    people = serializers.ListField(child=serializers.CharField())
    level = serializers.CharField()
    due_at = serializers.DateTimeField()
    met_at = serializers.DateTimeField(allow_null=True)
    met = serializers.BooleanField()
    due_after_s = serializers.FloatField(help_text="Real seconds from the start.")
    due_after_plan_s = serializers.FloatField(help_text="Plan seconds from the start.")


class ScorecardSerializer(serializers.Serializer):
    drill = serializers.IntegerField()
    incident = serializers.IntegerField()
    clock = serializers.FloatField()
    real_elapsed_s = serializers.FloatField()
    plan_elapsed_s = serializers.FloatField()
    items = ScorecardItemSerializer(many=True)
    score = serializers.IntegerField(allow_null=True)
    observations = serializers.CharField()


def _input(request, serializer_class):
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class DrillViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DrillSerializer

    def get_queryset(self):
        return selectors.drills_for_listing().prefetch_related("participants")

    def _drill(self):
        return get_object_or_404(Drill.objects.all(), pk=self.kwargs["pk"])

    def _answer(self, drill, code=status.HTTP_200_OK):
        return Response(DrillSerializer(self.get_queryset().get(pk=drill.pk)).data, status=code)

    @extend_schema(summary="Schedule a drill", request=DrillCreateSerializer,
                   responses={201: DrillSerializer, 403: REFUSALS[403]})
    def create(self, request):
        data = _input(request, DrillCreateSerializer)
        drill = services.drill_schedule(actor=request.user, **data)
        return self._answer(drill, status.HTTP_201_CREATED)

    @extend_schema(summary="Record the office's observations", request=ObservationsSerializer,
                   responses={200: DrillSerializer, **REFUSALS})
    def partial_update(self, request, pk=None):
        data = _input(request, ObservationsSerializer)
        return self._answer(services.drill_observe(self._drill(), actor=request.user, observations=data["observations"]))

    @extend_schema(summary="Start the drill now: opens the drill incident", request=None,
                   responses={200: DrillSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(services.drill_start(self._drill(), actor=request.user))

    @extend_schema(summary="End the drill: closes its incident and freezes the scorecard", request=EndSerializer,
                   responses={200: DrillSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        data = _input(request, EndSerializer)
        return self._answer(services.drill_end(self._drill(), actor=request.user, summary=data["summary"]))

    @extend_schema(summary="The drill's scorecard (PDF with ?format=pdf)", responses={200: ScorecardSerializer, 409: REFUSALS[409]},
                   parameters=[OpenApiParameter("format", str, enum=["json", "pdf"], required=False)])
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def scorecard(self, request, pk=None):
        drill = self._drill()
        if not drill.scorecard:
            raise Refused(_("the scorecard is produced when the drill ends"), code="not_ended")
        if request.query_params.get("format") == "pdf":
            data = scorecard_pdf(drill)
            response = HttpResponse(data, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="drill-{drill.pk}-scorecard.pdf"'
            return response
        return Response(drill.scorecard)


class TrainingSerializer(serializers.ModelSerializer):
    attendees = serializers.SerializerMethodField()
    material = serializers.SerializerMethodField()

    class Meta:
        model = TrainingSession
        fields = ["id", "title", "kind", "held_at", "topic", "trainer", "drill", "material", "attendees"]

    def get_attendees(self, session) -> list[str]:
        return [a.person.username for a in session.attendances.all()]

    def get_material(self, session) -> str:
        return session.material.name.rsplit("/", 1)[-1] if session.material else ""


class TrainingCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=TrainingKind.values, default=TrainingKind.TRAINING)
    held_at = serializers.DateTimeField()
    topic = serializers.CharField(required=False, allow_blank=True, default="")
    trainer = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    attendees = FlatListField(child=serializers.CharField(max_length=150), required=False, default=list,
                              help_text="Usernames.")
    material = serializers.FileField(required=False, allow_null=True, default=None)
    drill = serializers.PrimaryKeyRelatedField(queryset=Drill.objects.all(), required=False, allow_null=True,
                                               default=None)


class AttendeesSerializer(serializers.Serializer):
    attendees = FlatListField(child=serializers.CharField(max_length=150), help_text="Usernames.")


class TrainingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TrainingSerializer

    def get_queryset(self):
        return selectors.trainings_for_listing()

    def _answer(self, session, code=status.HTTP_200_OK):
        return Response(TrainingSerializer(self.get_queryset().get(pk=session.pk)).data, status=code)

    @extend_schema(summary="Record a training session", request=TrainingCreateSerializer,
                   responses={201: TrainingSerializer, 403: REFUSALS[403]})
    def create(self, request):
        data = _input(request, TrainingCreateSerializer)
        return self._answer(services.training_create(actor=request.user, **data), status.HTTP_201_CREATED)

    @extend_schema(summary="The office records attendance", request=AttendeesSerializer,
                   responses={200: TrainingSerializer, 403: REFUSALS[403]})
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        session = get_object_or_404(TrainingSession.objects.all(), pk=pk)
        data = _input(request, AttendeesSerializer)
        services.attendance_record(session, actor=request.user, usernames=data["attendees"])
        return self._answer(session)

    @extend_schema(summary="Confirm I attended", request=None, responses={200: TrainingSerializer, 409: REFUSALS[409]})
    @action(detail=True, methods=["post"])
    def attend(self, request, pk=None):
        session = get_object_or_404(TrainingSession.objects.all(), pk=pk)
        services.attendance_confirm(session, person=request.user)
        return self._answer(session)


class ReadinessSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    last_drill_at = serializers.DateTimeField(allow_null=True)
    last_training_at = serializers.DateTimeField(allow_null=True)
    drills_last_year = serializers.IntegerField()
    overdue = serializers.BooleanField()
    overdue_for = serializers.ListField(child=serializers.CharField(), help_text="drill, training")


class ReadinessView(APIView):
    @extend_schema(summary="Who is ready: last drill, last training, overdue flags", responses=ReadinessSerializer(many=True),
                   parameters=[OpenApiParameter("category", str, required=False, description="Only drills of this category."),
                               OpenApiParameter("level", str, required=False, description="Only drills starting at this level.")])
    def get(self, request):
        rows = selectors.readiness(category=request.query_params.get("category", "")[:32],
                                   level=request.query_params.get("level", "")[:32])
        return Response(ReadinessSerializer(rows, many=True).data)
