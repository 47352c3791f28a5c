"""The inspections API (interfaces.md): schedules, rounds, answering a round, a finding's remediation, coverage.

``POST /inspections/{id}/answers/`` (one answer kept as it is given) and
``POST /inspections/{id}/photos/`` (multipart) are what the phone page uses;
``POST /inspections/{id}/results/`` answers and submits a round in one go.
``GET, POST /inspections/{id}/remediation/`` offers, then adds, the remediation
action of an abnormal finding (named by ``asset`` and ``check``, as answers are).
"""

from datetime import datetime, time, timedelta

import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field,
                                   extend_schema_view, inline_serializer)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Refused
from core.schema import ErrorSerializer
from plan.durations import format_duration, parse_duration
from reviews import selectors as action_selectors
from reviews.serializers import ActionSerializer

from . import selectors, services
from .items import round_items
from .models import Result, Round, RoundStatus, Schedule


# Besides the refusals core.schema adds to every operation (400, 401, 403, 404, ...).
SUBMITTED = {409: OpenApiResponse(ErrorSerializer, description="The round was already submitted.")}


@extend_schema_field({"type": "string", "example": "2h", "pattern": "^[1-9][0-9]{0,6}[smhd]$"})

class DurationText(serializers.Field):
    """A plan duration: ``30m``, ``2h``, ``1d``."""

    def to_internal_value(self, data):
        try:
            return parse_duration(data)
        except ValueError as wrong:
            raise serializers.ValidationError(str(wrong)) from None

    def to_representation(self, value):
        return format_duration(value)


class ScheduleSerializer(serializers.ModelSerializer):
    assets = serializers.SerializerMethodField()
    role = serializers.CharField(source="role_key")
    every = DurationText()
    grace = DurationText()

    class Meta:
        model = Schedule
        fields = ["id", "name", "assets", "role", "every", "first_due_at", "grace", "checks", "window_start",
                  "window_end", "active", "generated_until"]
        read_only_fields = fields

    def get_assets(self, schedule) -> list[str]:
        return [stop.asset.tag for stop in schedule.stops.all()]


class ScheduleCreateSerializer(serializers.Serializer):
    # Children without limits of their own: a nested error would not be a field's list of messages (the
    # schema's FieldErrors); the service names unknown tags and checks.
    name = serializers.CharField(max_length=200)
    assets = serializers.ListField(child=serializers.JSONField(allow_null=True), allow_empty=False, max_length=5000)
    role = serializers.CharField(max_length=64)
    every = DurationText()
    first_due_at = serializers.DateTimeField()
    grace = DurationText()
    checks = serializers.ListField(child=serializers.JSONField(allow_null=True), required=False, default=list,
                                   max_length=200)
    window_start = serializers.TimeField(required=False, allow_null=True, default=None)
    window_end = serializers.TimeField(required=False, allow_null=True, default=None)


@extend_schema_view(list=extend_schema(summary="Inspection schedules"),
                    create=extend_schema(summary="Add an inspection schedule; its rounds are generated from it",
                                         request=ScheduleCreateSerializer, responses={201: ScheduleSerializer}))
class ScheduleViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = ScheduleSerializer
    filterset_class = None

    def get_queryset(self):
        return Schedule.objects.prefetch_related("stops__asset").order_by("name", "id")

    def create(self, request, *args, **kwargs):
        data = ScheduleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        schedule = services.schedule_create(actor=request.user, role=values.pop("role"), **values)
        fresh = self.get_queryset().get(pk=schedule.pk)
        return Response(ScheduleSerializer(fresh).data, status=status.HTTP_201_CREATED)


class RoundSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="role_key")
    schedule = serializers.CharField(source="schedule.name")
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    late = serializers.BooleanField()
    items = serializers.SerializerMethodField()

    class Meta:
        model = Round
        fields = ["id", "schedule", "due_at", "miss_at", "role", "status", "late", "started_at", "submitted_at",
                  "submitted_by", "missed_at", "items"]
        read_only_fields = fields

    def get_items(self, round_) -> list[dict]:
        # Every round of a schedule asks the same items: built once per schedule and response.
        built = self.context.setdefault("items_built", {})
        if round_.schedule_id not in built:
            built[round_.schedule_id] = [
                {"asset": item.asset.tag, "check": item.check.key, "type": item.check.type,
                 "label": item.check.label, "unit": item.check.unit, "min": item.check.min_value,
                 "max": item.check.max_value, "required": item.check.required}
                for item in round_items(round_, cache=self.context.setdefault("items_cache", {}))]
        return built[round_.schedule_id]


class ResultSerializer(serializers.ModelSerializer):
    asset = serializers.CharField(source="asset.tag")
    check = serializers.CharField(source="check_key")
    abnormal = serializers.BooleanField()
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    photo = serializers.SerializerMethodField()

    class Meta:
        model = Result
        fields = ["asset", "check", "ok", "value", "text", "note", "out_of_range", "abnormal", "answered_at",
                  "incident", "photo"]
        read_only_fields = fields

    def get_photo(self, result) -> str | None:
        return f"/inspections/photos/{result.pk}/" if result.photo else None


class RoundFilter(django_filters.FilterSet):
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    status = django_filters.ChoiceFilter(choices=RoundStatus.choices)

    class Meta:
        model = Round
        fields = ["due_before", "due_after", "status"]


class AnswerSerializer(serializers.Serializer):
    asset = serializers.CharField(max_length=64)
    check = serializers.CharField(max_length=64)


class RemediationSerializer(AnswerSerializer):
    """The finding (``asset``, ``check``) and the action; omitted values take the offer's."""

    title = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy("The owner's username."))
    due_at = serializers.DateTimeField(required=False)


class RemediationOfferSerializer(serializers.Serializer):
    asset = serializers.CharField()
    check = serializers.CharField()
    title = serializers.CharField()
    owner = serializers.CharField(help_text=gettext_lazy("A person holding the asset's owning role, else the caller."))
    due_at = serializers.DateTimeField()


class SubmitSerializer(serializers.Serializer):
    # Each result is checked by the service, which names it as results[i].field.
    results = serializers.ListField(child=serializers.JSONField(allow_null=True), required=False, default=list,
                                    max_length=20000)


@extend_schema_view(list=extend_schema(summary="Inspection rounds"),
                    retrieve=extend_schema(summary="One round, with its items"))
class RoundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RoundSerializer
    filterset_class = RoundFilter
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Round.objects.none()
        return selectors.rounds_for(self.request.user).order_by("due_at", "id")

    def _round(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(summary="Answer and submit a round",
                   description="`results`: each `asset` (tag), `check` (key), and `ok`, `value`, `text`, `note`; "
                               "`open_incident: {\"level\": ...}` opens a prefilled fault linked to the asset. "
                               "Answers 409 when already submitted, 403 for a round of another role.",
                   request=SubmitSerializer,
                   responses={200: inline_serializer("Submitted", {"round": RoundSerializer(),
                                                                   "incident": serializers.IntegerField(allow_null=True),
                                                                   "incidents": serializers.ListField()}),
                              **SUBMITTED})
    @action(detail=True, methods=["post"], filterset_class=None)
    def results(self, request, pk=None):
        data = SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        round_, opened = services.round_submit(self._round(), person=request.user,
                                               results=data.validated_data["results"])
        ids = [incident.pk for incident in opened]
        return Response({"round": RoundSerializer(round_, context=self.get_serializer_context()).data,
                         "incident": ids[0] if ids else None, "incidents": ids})

    @extend_schema(summary="Keep one answer of a round as it is given",
                   request=inline_serializer("Answer", {"asset": serializers.CharField(),
                                                        "check": serializers.CharField(),
                                                        "ok": serializers.BooleanField(required=False),
                                                        "value": serializers.FloatField(required=False),
                                                        "text": serializers.CharField(required=False),
                                                        "note": serializers.CharField(required=False)}),
                   responses={200: ResultSerializer, **SUBMITTED})
    @action(detail=True, methods=["post"], filterset_class=None)
    def answers(self, request, pk=None):
        where = AnswerSerializer(data=request.data)
        where.is_valid(raise_exception=True)
        result = services.answer_save(self._round(), person=request.user, asset=where.validated_data["asset"],
                                      check=where.validated_data["check"], data=request.data)
        return Response(ResultSerializer(result).data)

    @extend_schema(summary="Add a photo to one check of a round (multipart: asset, check, photo)",
                   request={"multipart/form-data": inline_serializer("Photo", {
                       "asset": serializers.CharField(), "check": serializers.CharField(),
                       "photo": serializers.FileField()})},
                   responses={200: ResultSerializer, **SUBMITTED})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser], filterset_class=None)
    def photos(self, request, pk=None):
        where = AnswerSerializer(data=request.data)
        where.is_valid(raise_exception=True)
        photo = request.FILES.get("photo")
        if photo is None:
            raise ValidationError({"photo": [_("attach the photo as the form field 'photo'")]})
        result = services.photo_attach(self._round(), person=request.user, asset=where.validated_data["asset"],
                                       check=where.validated_data["check"], photo=photo)
        return Response(ResultSerializer(result).data)

    def _finding(self, asset: str, check: str) -> Result:
        result = (Result.objects.select_related("asset", "round__schedule", "answered_by")
                  .filter(round=self._round(), asset__tag=asset, check_key=check).first())
        if result is None:
            raise ValidationError({"check": [_("this round has no answer for %(asset)s · %(check)s") % {
                "asset": asset, "check": check}]})
        return result

    @extend_schema(methods=["GET"], summary="What the remediation action of an abnormal finding is prefilled with",
                   parameters=[OpenApiParameter("asset", str, required=True, description="The asset's tag."),
                               OpenApiParameter("check", str, required=True, description="The check's key.")],
                   responses={200: RemediationOfferSerializer})
    @extend_schema(methods=["POST"], summary="Put an abnormal finding right with a remediation action on its asset",
                   description="`asset` and `check` name the finding; `title`, `owner` (a username) and `due_at` "
                               "(in the future) default to the offer (GET). The action hangs from the asset, with "
                               "no incident; its due date is a deadline that tells the owner and the office. 400 "
                               "naming the field for an unknown owner, a past due date, a check found OK or a "
                               "finding that already has an action.",
                   request=RemediationSerializer, responses={201: ActionSerializer})
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def remediation(self, request, pk=None):
        if request.method == "GET":
            where = AnswerSerializer(data=request.query_params)
            where.is_valid(raise_exception=True)
            result = self._finding(where.validated_data["asset"], where.validated_data["check"])
            if not services.may_act_on_finding(request.user, result):
                raise Refused(_("only the round's role or the emergency office acts on this finding"),
                              code="forbidden", status_code=403)
            return Response(RemediationOfferSerializer(services.remediation_prefill(result, person=request.user)).data)
        data = RemediationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = self._finding(values["asset"], values["check"])
        action_ = services.finding_remediate(result, person=request.user, title=values.get("title"),
                                             owner=values.get("owner"), due_at=values.get("due_at"))
        return Response(ActionSerializer(action_selectors.actions_list().get(pk=action_.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="A round's answers so far", responses={200: ResultSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="answers-so-far", pagination_class=None, filterset_class=None)
    def answers_so_far(self, request, pk=None):
        results = Result.objects.filter(round=self._round()).select_related("asset").order_by("id")
        return Response(ResultSerializer(results, many=True).data)


def period(params) -> tuple[datetime, datetime]:
    """``from``/``to`` (dates or times, local); default the last 30 days. ``to`` is inclusive for a date."""
    errors = {}

    def read(name):
        text = params.get(name)
        if not text:
            return None
        try:
            at = parse_datetime(text)
            day = parse_date(text) if at is None else None
        except ValueError:
            at = day = None
        if at is None:
            if day is None:
                errors[name] = [_("%(value)r is not a date (YYYY-MM-DD) or a time (ISO 8601)") % {"value": text}]
                return None
            try:
                at = timezone.make_aware(datetime.combine(day + timedelta(days=1 if name == "to" else 0), time()))
            except (OverflowError, ValueError):
                errors[name] = [_("%(value)r is out of range") % {"value": text}]
                return None
        elif timezone.is_naive(at):
            at = timezone.make_aware(at)
        return at

    start, end = read("from"), read("to")
    if errors:
        raise ValidationError(errors)
    end = end or timezone.now()
    start = start or end - timedelta(days=30)
    if start >= end:
        raise ValidationError({"from": [_("must be before to")]})
    return start, end


class CoverageView(APIView):
    @extend_schema(summary="Inspection coverage per asset, person and shift",
                   parameters=[OpenApiParameter("from", str, description="YYYY-MM-DD or ISO 8601", allow_blank=True),
                               OpenApiParameter("to", str, description="YYYY-MM-DD (inclusive) or ISO 8601",
                                                allow_blank=True)],
                   description="`from`, `to`: dates (local, `to` inclusive) or ISO 8601 times; default the last 30 days.",
                   responses={200: inline_serializer("Coverage", {"assets": serializers.ListField()})})
    def get(self, request):
        start, end = period(request.query_params)
        report = selectors.coverage(start=start, end=end)
        field = serializers.DateTimeField()

        def when(at):
            return field.to_representation(at) if at else None

        return Response({
            "from": when(start), "to": when(end), "totals": report.totals.as_dict(),
            "assets": [{"asset": row["tag"], "name": row["asset"].name, "last_inspected_at": when(row["last_inspected_at"]),
                        "rounds_done": row["rounds_done"], "rounds_late": row["rounds_late"],
                        "rounds_missed": row["rounds_missed"], "abnormal_findings": row["abnormal_findings"]}
                       for row in report.assets],
            "people": report.people,
            "shifts": [{"role": s["role"], "person": s["person"], "starts_at": when(s["starts_at"]),
                        "ends_at": when(s["ends_at"]), "rounds_done": s["rounds_done"], "rounds_late": s["rounds_late"],
                        "rounds_missed": s["rounds_missed"]} for s in report.shifts],
            "never_inspected": [asset.tag for asset in report.never_inspected],
        })
