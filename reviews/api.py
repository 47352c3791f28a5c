"""The reviews HTTP API: each endpoint validates its input, calls one service or selector, answers the result.

Refusals (wrong state, wrong role, archived) and validation errors come from
the services and become JSON in ``config.api.exception_handler``.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView, get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Refused
from core.schema import ErrorSerializer
from incidents.models import Incident

from . import selectors, services
from .models import Action
from .serializers import (
    ActionCreateSerializer,
    ActionFilterSerializer,
    ActionSerializer,
    CarryOverSerializer,
    DoneSerializer,
    ReturnSerializer,
    ReviewEditSerializer,
    ReviewSerializer,
)

REFUSALS = {
    403: OpenApiResponse(ErrorSerializer, description="The caller's plan roles may not do this."),
    409: OpenApiResponse(ErrorSerializer, description="Not allowed in the current state, or the incident is archived."),
}


def _input(request, serializer_class, data=None):
    serializer = serializer_class(data=request.data if data is None else data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _incident(pk):
    return get_object_or_404(Incident.objects.all(), pk=pk)


def _review_answer(incident):
    reading = selectors.review_of(incident)
    if reading is None:
        raise Refused(_("this incident has no review yet: it is drafted when the incident is resolved"),
                      code="no_review", status_code=404)
    return Response(ReviewSerializer(reading).data)


class ReviewView(APIView):
    @extend_schema(summary="The post-incident review, with its computed figures", responses={
        200: ReviewSerializer, 404: OpenApiResponse(ErrorSerializer, description="Not resolved yet: no review.")})
    def get(self, request, pk):
        return _review_answer(_incident(pk))

    @extend_schema(summary="Edit the review's written parts (a draft only)",
                   description="Any of `summary`, `impact`, `root_cause`, `went_well`, `went_wrong`, `lessons`; "
                               "omitted parts keep their text. The figures are computed, never written.",
                   request=ReviewEditSerializer, responses={200: ReviewSerializer, **REFUSALS})
    def put(self, request, pk):
        incident = _incident(pk)
        changes = _input(request, ReviewEditSerializer)
        services.review_update(incident, actor=request.user, changes=changes)
        return _review_answer(incident)


class ReviewSubmitView(APIView):
    @extend_schema(summary="Submit the review for approval",
                   description="400 naming every required part still empty.", request=None,
                   responses={200: ReviewSerializer, **REFUSALS})
    def post(self, request, pk):
        incident = _incident(pk)
        services.review_submit(incident, actor=request.user)
        return _review_answer(incident)


class ReviewApproveView(APIView):
    @extend_schema(summary="Approve the submitted review (the incident becomes reviewed)",
                   description="Only the roles the plan grants `approve_review`.", request=None,
                   responses={200: ReviewSerializer, **REFUSALS})
    def post(self, request, pk):
        incident = _incident(pk)
        services.review_approve(incident, actor=request.user)
        return _review_answer(incident)


class ReviewReturnView(APIView):
    @extend_schema(summary="Return the submitted review to a draft, saying why", request=ReturnSerializer,
                   responses={200: ReviewSerializer, **REFUSALS})
    def post(self, request, pk):
        incident = _incident(pk)
        data = _input(request, ReturnSerializer)
        services.review_return(incident, actor=request.user, reason=data["reason"])
        return _review_answer(incident)


class IncidentActionsView(APIView):
    @extend_schema(summary="The incident's remediation actions", responses=ActionSerializer(many=True))
    def get(self, request, pk):
        incident = _incident(pk)
        return Response(ActionSerializer(selectors.actions_of(incident), many=True).data)

    @extend_schema(summary="Add a remediation action",
                   description="`title`, `owner` (a username), `due_at` (in the future). Its due date is a "
                               "deadline: when it passes the owner and the office are told, and again at the "
                               "reminder interval until it is done or carried over.",
                   request=ActionCreateSerializer, responses={201: ActionSerializer, **REFUSALS})
    def post(self, request, pk):
        incident = _incident(pk)
        data = _input(request, ActionCreateSerializer)
        action = services.action_create(incident, actor=request.user, **data)
        return Response(ActionSerializer(selectors.actions_of(incident).get(pk=action.pk)).data,
                        status=status.HTTP_201_CREATED)


class ActionListView(ListAPIView):
    """Paginated like the incidents list; the filters are read (and refused with a 400) by a serializer."""

    serializer_class = ActionSerializer
    filter_backends: list = []

    @extend_schema(summary="Remediation actions across incidents and assets", parameters=[
        OpenApiParameter("owner", str, description="The owner's username."),
        OpenApiParameter("overdue", bool, description="true: open and past due; false: the others."),
        OpenApiParameter("status", str, enum=["open", "done", "carried_over"]),
        OpenApiParameter("incident", int),
        OpenApiParameter("asset", str, description="An asset's tag: the actions hanging from it, or from an "
                                                   "incident of it.")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = _input(self.request, ActionFilterSerializer, data=self.request.query_params)
        overdue = {"true": True, "false": False}.get(query.get("overdue", ""))
        actions = selectors.actions_list(owner=query["owner"] or None, overdue=overdue,
                                         status=query["status"] or None, asset=query["asset"] or None)
        if "incident" in query:
            actions = actions.filter(incident_id=query["incident"])
        return actions


def _action(pk):
    return get_object_or_404(Action.objects.all(), pk=pk)


def _action_answer(action):
    return Response(ActionSerializer(selectors.actions_list().get(pk=action.pk)).data)


class ActionView(APIView):
    @extend_schema(summary="One remediation action", responses=ActionSerializer)
    def get(self, request, pk):
        return _action_answer(_action(pk))


class ActionDoneView(APIView):
    @extend_schema(summary="Record the action done, with the evidence",
                   description="Its owner, or the roles the plan grants `review`.", request=DoneSerializer,
                   responses={200: ActionSerializer, **REFUSALS})
    def post(self, request, pk):
        action = _action(pk)
        data = _input(request, DoneSerializer)
        return _action_answer(services.action_done(action, actor=request.user, evidence=data["evidence"]))


class ActionCarryOverView(APIView):
    @extend_schema(summary="Carry the action over, saying why", request=CarryOverSerializer,
                   responses={200: ActionSerializer, **REFUSALS})
    def post(self, request, pk):
        action = _action(pk)
        data = _input(request, CarryOverSerializer)
        return _action_answer(services.action_carry_over(action, actor=request.user, reason=data["reason"]))
