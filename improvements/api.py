"""The plan change proposals API (an extension of interfaces.md): each action validates, calls one service, answers.

A draft that fails the plan check answers 400 ``{"plan": ["<path>: <problem>", ...]}``, every error with its
path, as ``loadplan`` prints them.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.schema import ErrorSerializer
from plan.reading import PlanFileError

from . import selectors, services
from .models import Proposal
from .serializers import (DecisionSerializer, ProposalCreateSerializer, ProposalDetailSerializer, ProposalSerializer,
                          ProposalUpdateSerializer, diff_data)

# 400 is core.schema's (field errors, e.g. {"plan": [every loader error]}, or one message).
REFUSALS = {
    403: OpenApiResponse(ErrorSerializer, description="The caller's roles may not do this."),
    409: OpenApiResponse(ErrorSerializer, description="Not allowed in the proposal's current state."),
}


def _checked(call: Callable[[], Proposal]) -> Proposal:
    try:
        return call()
    except PlanFileError as exc:
        raise ValidationError({"plan": exc.errors}) from None


def _input(request: Request, serializer_class: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProposalSerializer
    http_method_names = ["get", "post", "put", "head", "options"]

    def get_queryset(self):
        return selectors.proposals()

    def get_serializer_class(self):
        return ProposalDetailSerializer if self.action == "retrieve" else ProposalSerializer

    def _answer(self, proposal: Proposal, code: int = status.HTTP_200_OK) -> Response:
        return Response(ProposalDetailSerializer(selectors.proposals().get(pk=proposal.pk)).data, status=code)

    @extend_schema(summary="Propose a plan change", request=ProposalCreateSerializer,
                   responses={201: ProposalDetailSerializer, **REFUSALS})
    def create(self, request: Request) -> Response:
        data = _input(request, ProposalCreateSerializer)
        proposal = _checked(lambda: services.proposal_create(
            person=request.user, reason=data["reason"], incident=data.get("incident"), text=data.get("plan")))
        return self._answer(proposal, status.HTTP_201_CREATED)

    @extend_schema(summary="Change a draft proposal's reason or whole plan", request=ProposalUpdateSerializer,
                   responses={200: ProposalDetailSerializer, **REFUSALS})
    def update(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        data = _input(request, ProposalUpdateSerializer)
        proposal = _checked(lambda: services.proposal_update(
            proposal=proposal, person=request.user, reason=data.get("reason"), text=data.get("plan")))
        return self._answer(proposal)

    @extend_schema(summary="The draft's difference to the active plan, cell by cell", responses={200: dict})
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        other = services.compared_version(proposal)
        return Response(diff_data(services.proposal_diff(proposal), compared_with=other.number if other else None))

    @extend_schema(summary="Submit the proposal for a decision", request=None,
                   responses={200: ProposalDetailSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        proposal = services.proposal_submit(proposal=self.get_object(), person=request.user)
        return self._answer(proposal)

    @extend_schema(summary="Approve: the draft becomes the active plan version", request=DecisionSerializer,
                   responses={200: ProposalDetailSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        data = _input(request, DecisionSerializer)
        proposal = _checked(lambda: services.proposal_approve(proposal=proposal, person=request.user,
                                                                note=data["note"]))
        return self._answer(proposal)

    @extend_schema(summary="Reject, with a note; kept for the record", request=DecisionSerializer,
                   responses={200: ProposalDetailSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        data = _input(request, DecisionSerializer)
        proposal = services.proposal_reject(proposal=proposal, person=request.user, note=data["note"])
        return self._answer(proposal)
