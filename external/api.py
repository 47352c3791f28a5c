"""The external app's HTTP API: the directory, an incident's external reports and call-outs."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from incidents.models import Incident

from . import selectors, services
from .models import CallOut, Contact, Party
from .serializers import (
    CallOutInputSerializer,
    CallOutSerializer,
    ExternalReportInputSerializer,
    ExternalReportSerializer,
    MomentSerializer,
    PartyCreateSerializer,
    PartySerializer,
)


def _input(request, serializer_class):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(methods=["GET"], summary="The directory of outside parties", responses=PartySerializer(many=True))
@extend_schema(methods=["POST"], summary="Add an outside party with its contacts", request=PartyCreateSerializer,
               responses={201: PartySerializer})
@api_view(["GET", "POST"])
def parties(request):
    if request.method == "GET":
        return Response(PartySerializer(selectors.directory(kind=request.query_params.get("kind", "")),
                                        many=True).data)
    data = _input(request, PartyCreateSerializer)
    party = services.party_create(author=request.user, **data)
    return Response(PartySerializer(selectors.directory().get(pk=party.pk)).data, status=status.HTTP_201_CREATED)


def _incident(pk) -> Incident:
    return get_object_or_404(Incident.objects.with_plan(), pk=pk)


@extend_schema(methods=["GET"], summary="The incident's reporting duties and the reports made",
               responses=ExternalReportSerializer(many=True))
@extend_schema(methods=["POST"], summary="Record a report sent to an outside party (meets its deadline)",
               request=ExternalReportInputSerializer, responses={201: ExternalReportSerializer})
@api_view(["GET", "POST"])
def external_reports(request, pk):
    incident = _incident(pk)
    if request.method == "GET":
        return Response(ExternalReportSerializer(selectors.reports_of(incident), many=True).data)
    data = _input(request, ExternalReportInputSerializer)
    report = services.report_send(incident=incident, party_key=data["party"], stage=data["stage"],
                                  sent_at=data["sent_at"], channel=data["channel"], reference=data["reference"],
                                  text=data["text"], facts=data.get("facts"), author=request.user)
    return Response(ExternalReportSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], summary="The incident's call-outs", responses=CallOutSerializer(many=True))
@extend_schema(methods=["POST"], summary="Call out a carrier or vendor; the promised arrival is a deadline",
               request=CallOutInputSerializer, responses={201: CallOutSerializer})
@api_view(["GET", "POST"])
def callouts(request, pk):
    incident = _incident(pk)
    if request.method == "GET":
        return Response(CallOutSerializer(selectors.callouts_of(incident), many=True).data)
    data = _input(request, CallOutInputSerializer)
    party = Party.objects.filter(key=data["party"], is_active=True).first()
    if party is None:
        raise ValidationError({"party": [f"no active party {data['party']!r} in the directory"]})
    contact = None
    if "contact" in data:
        contact = Contact.objects.filter(pk=data["contact"]).first()
        if contact is None:
            raise ValidationError({"contact": [f"no contact {data['contact']}"]})
    within = services.duration_or_error(data["arrive_within"], "arrive_within") if data["arrive_within"] else None
    callout = services.callout_create(incident=incident, party=party, caller=request.user, ticket=data["ticket"],
                                      arrive_within=within, contact=contact, note=data["note"])
    return Response(CallOutSerializer(selectors.callouts_of(incident).get(pk=callout.pk)).data,
                    status=status.HTTP_201_CREATED)


def _moved(request, pk, service):
    callout = get_object_or_404(CallOut.objects.select_related("incident"), pk=pk)
    data = _input(request, MomentSerializer)
    service(callout=callout, person=request.user, at=data.get("at"))
    return Response(CallOutSerializer(selectors.callouts_of(callout.incident).get(pk=callout.pk)).data)


@extend_schema(summary="The called-out party arrived (meets the arrival deadline)", request=MomentSerializer,
               responses=CallOutSerializer)
@api_view(["POST"])
def callout_arrived(request, pk):
    return _moved(request, pk, services.callout_arrived)


@extend_schema(summary="The called-out party left", request=MomentSerializer, responses=CallOutSerializer)
@api_view(["POST"])
def callout_departed(request, pk):
    return _moved(request, pk, services.callout_departed)


