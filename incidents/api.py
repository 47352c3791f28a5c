"""The incidents HTTP API: each endpoint validates its input, calls one service, answers with the result.

Refusals (wrong state, wrong role) and validation errors come from the
services and are turned into JSON by ``config.api.exception_handler``.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.schema import ErrorSerializer

from . import notes, services
from .filters import IncidentFilter
from .models import Incident, NoteAttachment, ResponsePlan, Source, TimelineEntry
from .timeline_text import Names
from .serializers import (
    DecisionSerializer,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
    LevelChangeSerializer,
    NoteSerializer,
    ProposalSerializer,
    RecoveredSerializer,
    ResolveSerializer,
    ResponsePlanSerializer,
    TimelineEntrySerializer,
)

# Refusals every operation can give (400, 401, 403, 404, 406, 415, 429, 503) are added by core.schema.
REFUSALS = {
    403: OpenApiResponse(ErrorSerializer, description="The caller's roles may not do this."),
    409: OpenApiResponse(ErrorSerializer, description="Not allowed in the incident's current state."),
}


def _responses(ok, code=200):
    return {code: ok, **REFUSALS}


def incidents_for_reading():
    """One query for the incidents with their plan rows, one for all their deadlines."""
    return Incident.objects.with_plan().prefetch_related("deadlines").order_by("-opened_at", "-id")


class AnyFile(BaseRenderer):
    """Lets a client that asks for the file's own type (``Accept: image/png``) get it; refusals stay JSON."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)


def _input(request, serializer_class, **context):
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary="List incidents", description="Newest first, paginated."),
    retrieve=extend_schema(summary="One incident, with its deadlines and whether its timeline's hash chain verifies",
                           responses=IncidentDetailSerializer),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter

    def get_queryset(self):
        return incidents_for_reading()

    def get_serializer_class(self):
        return IncidentDetailSerializer if self.action == "retrieve" else IncidentSerializer

    def _incident(self):
        """The incident the URL names (404 if none); the service locks and re-reads it."""
        return get_object_or_404(Incident.objects.all(), pk=self.kwargs["pk"])

    def _answer(self, incident, code=status.HTTP_200_OK):
        fresh = incidents_for_reading().get(pk=incident.pk)
        return Response(IncidentSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(summary="Log a fault", request=IncidentCreateSerializer,
                   responses={201: IncidentSerializer, 403: REFUSALS[403]})
    def create(self, request):
        data = _input(request, IncidentCreateSerializer)
        incident = services.log_fault(reporter=request.user, source=Source.API, **data)
        return self._answer(incident, status.HTTP_201_CREATED)

    @extend_schema(summary="Edit the facts of an incident",
                   description="Only title, description, affected_branches, total_branches, affected_system and "
                               "host_fault. The level changes through escalate/ and deescalate/, the status through "
                               "the other actions.",
                   request=IncidentUpdateSerializer, responses=_responses(IncidentSerializer))
    def partial_update(self, request, pk=None):
        incident = self._incident()
        changes = _input(request, IncidentUpdateSerializer, incident=incident)
        incident = services.update_details(incident, actor=request.user, changes=dict(changes))
        return self._answer(incident)

    @extend_schema(summary="Take the incident on", request=None, responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._answer(services.acknowledge(self._incident(), actor=request.user))

    @extend_schema(summary="Raise the level (worsening)", request=LevelChangeSerializer,
                   responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        incident = self._incident()
        data = _input(request, LevelChangeSerializer)
        return self._answer(services.escalate(incident, level_key=data["level"], actor=request.user, reason=data["reason"]))

    @extend_schema(summary="Lower the level", request=LevelChangeSerializer, responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"])
    def deescalate(self, request, pk=None):
        incident = self._incident()
        data = _input(request, LevelChangeSerializer)
        return self._answer(services.deescalate(incident, level_key=data["level"], actor=request.user, reason=data["reason"]))

    @extend_schema(summary="The caller is on site", description="Meets the arrival deadlines of the caller's roles.",
                   request=None, responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"], url_path="check-in", url_name="check-in")
    def check_in(self, request, pk=None):
        return self._answer(services.check_in(self._incident(), actor=request.user))

    @extend_schema(summary="Start implementing the response plan", request=None,
                   responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"])
    def implementing(self, request, pk=None):
        return self._answer(services.start_implementing(self._incident(), actor=request.user))

    @extend_schema(summary="Service is back; watch until stable",
                   description="Starts the stability watch where the plan cell has one (plan 4.2.2): resolve/ "
                               "waits until it is over.", request=RecoveredSerializer,
                   responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"])
    def recovered(self, request, pk=None):
        incident = self._incident()
        data = _input(request, RecoveredSerializer)
        return self._answer(services.mark_recovered(incident, actor=request.user, note=data["note"]))

    @extend_schema(summary="Close the incident",
                   description="Where the plan cell has a stability rule (plan 4.2.2), 409 unless the incident was "
                               "recovered at least the rule's watch ago and the caller holds its role; `stability` "
                               "then says what was watched and seen.",
                   request=ResolveSerializer, responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        incident = self._incident()
        data = _input(request, ResolveSerializer)
        return self._answer(services.resolve(incident, actor=request.user, summary=data["summary"],
                                             stability=data["stability"]))

    @extend_schema(summary="Archive a reviewed incident",
                   description="Only once the post-incident review is approved and every remediation action is done "
                               "or carried over (else 409, naming what is missing); afterwards every write to the "
                               "incident answers 409.",
                   request=None, responses=_responses(IncidentSerializer))
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._answer(services.archive(self._incident(), actor=request.user))

    @extend_schema(summary="Everything that happened, oldest first",
                   responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request, pk=None):
        incident = self._incident()
        entries = TimelineEntry.objects.filter(incident=incident).select_related("actor").order_by("at", "id")
        names = Names(version_id=incident.plan_version_id)  # the plan's roles and levels, read once for all entries
        return Response(TimelineEntrySerializer(entries, many=True, context={"names": names}).data)

    @extend_schema(methods=["GET"], summary="The incident's response plans, newest first",
                   responses=ResponsePlanSerializer(many=True))
    @extend_schema(methods=["POST"], summary="Propose a response plan", request=ProposalSerializer,
                   responses=_responses(ResponsePlanSerializer, 201))
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def plans(self, request, pk=None):
        incident = self._incident()
        if request.method == "GET":
            plans = plans_for_reading().filter(incident=incident)
            return Response(ResponsePlanSerializer(plans, many=True).data)
        data = _input(request, ProposalSerializer)
        plan = services.propose_plan(incident, actor=request.user, text=data["text"])
        plan = plans_for_reading().get(pk=plan.pk)
        return Response(ResponsePlanSerializer(plan).data, status=status.HTTP_201_CREATED)


    @extend_schema(summary="Add a note to the timeline",
                   description="JSON `{\"text\": ...}`, or multipart/form-data with `text` and an optional `file`: "
                               "a PNG, JPEG, GIF or WebP screenshot or a UTF-8 log excerpt (the type is read from "
                               "the bytes), at most FENGHUO_NOTE_ATTACHMENT_MAX_BYTES. Anyone with a part in the "
                               "incident, or its reporter; also after it is resolved, not once it is archived.",
                   request={"application/json": NoteSerializer, "multipart/form-data": NoteSerializer},
                   responses=_responses(TimelineEntrySerializer, 201))
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def notes(self, request, pk=None):
        incident = self._incident()
        data = _input(request, NoteSerializer)
        entry = services.add_note(incident, actor=request.user, text=data["text"], attachment=data.get("file"))
        entry = TimelineEntry.objects.select_related("actor").get(pk=entry.pk)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Download a note's attachment",
                   description="Images inline, text as a download; served with `X-Content-Type-Options: nosniff` "
                               "and a sandboxing Content-Security-Policy.",
                   responses={(200, "*/*"): OpenApiResponse(description="The attached file.")})
    @action(detail=True, methods=["get"], url_path=r"notes/attachments/(?P<aid>[0-9]+)", url_name="note-attachment",
            pagination_class=None, filterset_class=None, renderer_classes=[JSONRenderer, AnyFile])
    def note_attachment(self, request, pk=None, aid=None):
        attachment = get_object_or_404(NoteAttachment.objects.filter(incident_id=self._incident().pk,
                                                                     entry__isnull=False), pk=aid)
        return notes.attachment_response(attachment)


def plans_for_reading():
    return ResponsePlan.objects.select_related("incident", "proposed_by", "decided_by").order_by("-proposed_at", "-id")


@extend_schema_view(retrieve=extend_schema(summary="One response plan", responses=ResponsePlanSerializer))
class ResponsePlanViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ResponsePlanSerializer
    filterset_class = None

    def get_queryset(self):
        return plans_for_reading()

    def _decide(self, request, decide):
        plan = get_object_or_404(ResponsePlan.objects.all(), pk=self.kwargs["pk"])
        data = _input(request, DecisionSerializer)
        decide(plan, actor=request.user, comment=data["comment"])
        return Response(ResponsePlanSerializer(plans_for_reading().get(pk=plan.pk)).data)

    @extend_schema(summary="Approve the response plan", description="Only the role the active plan names may.",
                   request=DecisionSerializer, responses=_responses(ResponsePlanSerializer))
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, services.approve_plan)

    @extend_schema(summary="Reject the response plan", description="Only the role the active plan names may; "
                   "say why in comment.", request=DecisionSerializer, responses=_responses(ResponsePlanSerializer))
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, services.reject_plan)

