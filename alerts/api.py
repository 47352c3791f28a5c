"""The monitoring webhooks: Alertmanager, PagerDuty-style events, generic JSON.

Each view checks size, token, integration state, rate and schema, in that
order, then hands the parsed alerts to ``intake.alerts_receive``. Every
refusal is a 4xx with a JSON body naming what to fix; a 202 means committed.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core import jsonbody
from core.http import drain_body
from core.schema import ErrorSerializer

from . import integrations, intake, payloads
from .models import Kind

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class Rejected(Exception):
    def __init__(self, status, message, *, errors=None, integration=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or {}
        self.integration, self.headers = integration, headers or {}


def _bearer(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _read_json(request, integration=None):
    """The decoded body. A body announced as over 1 MB was refused by ``_read_length_first``; this refuses one
    sent without announcing its length."""
    raw = request._request.body
    if len(raw) > MAX_BODY_BYTES:
        raise Rejected(413, _("the body is larger than 1 MB; send fewer alerts per request"), integration=integration)
    try:
        return jsonbody.parse_json(raw)
    except jsonbody.BadJson as exc:
        # Poison is the sender's to fix: a 400, never a 503 it would retry for ever.
        raise Rejected(400, exc.message, integration=integration, errors={exc.path: [exc.problem]}) from None


def _authenticate(token, kind):
    integration = integrations.integration_for_token(token)
    if integration is None:
        raise Rejected(401, _("missing or unknown integration token; send Authorization: Bearer <token>"),
                       headers={"WWW-Authenticate": 'Bearer realm="fenghuo-alerts"'})
    if not integration.enabled:
        raise Rejected(403, _("the integration %(name)s is disabled") % {"name": integration.name},
                       integration=integration)
    if integration.kind != kind:
        raise Rejected(403, _("the integration %(name)s is for %(kind)s; post to /api/v1/alerts/%(path)s") %
                       {"name": integration.name, "kind": integration.get_kind_display(), "path": integration.kind},
                       integration=integration)
    return integration


def _check_rate(integration):
    retry_after = integrations.rate_limit_retry_after(integration)
    if retry_after is not None:
        raise Rejected(429, _("more than %(n)d requests this minute for %(name)s; retry after %(s)d s") %
                       {"n": integration.rate_limit_per_minute, "name": integration.name, "s": retry_after},
                       integration=integration, headers={"Retry-After": str(retry_after)})


def _categories(integration):
    return intake.plan_category_keys(integration.active_plan_version_id)


def _schema_error(error, integration):
    errors = error.message_dict if hasattr(error, "message_dict") else {"body": error.messages}
    first = next(iter(errors))
    return Rejected(400, f"{first}: {errors[first][0]}", errors=errors, integration=integration)


class _JsonAnswers(DefaultContentNegotiation):
    """DRF's negotiation, without its parsing for what monitoring sends: no Accept, ``*/*`` or JSON itself.

    The hooks render only JSON; for those three DRF would pick it too, with the
    same media type. Anything else (``?format=``, another type) goes DRF's way.
    """

    _JSON = frozenset({None, "*/*", "application/json"})

    def select_renderer(self, request, renderers, format_suffix=None):
        if (len(renderers) == 1 and renderers[0].media_type == "application/json" and not format_suffix
                and request.META.get("HTTP_ACCEPT") in self._JSON
                and self.settings.URL_FORMAT_OVERRIDE not in request.GET):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


class _Intake(APIView):
    # Integrations authenticate with their own token, checked below; no sessions, no CSRF.
    authentication_classes = []
    permission_classes = []
    parser_classes = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JsonAnswers
    throttle_classes = []
    kind = None

    def post(self, request):
        try:
            return self.receive(request)
        except Rejected as rejected:
            if rejected.integration is not None:
                integrations.integration_count_rejected(rejected.integration)
            return Response(self.error_body(rejected), status=rejected.status, headers=rejected.headers)
        except DatabaseError:
            # Not the sender's fault: 503 tells Alertmanager and PagerDuty clients to retry.
            log.exception("alert intake could not reach the database")
            return Response(self.error_body(Rejected(503, _("temporarily unable to store alerts; retry"))),
                            status=503, headers={"Retry-After": "5"})

    def receive(self, request):
        _read_length_first(request)
        integration = _authenticate(_bearer(request), self.kind)
        _check_rate(integration)
        body = _read_json(request, integration)
        alerts = self.store(integration, body, lambda b: self.parse(b, integration))
        return Response({"status": "accepted", "alerts": len(alerts)}, status=202)

    def parse(self, body, integration):
        """The alerts of a checked body; raises ValidationError naming the field."""
        raise NotImplementedError

    def error_body(self, rejected):
        return {"detail": rejected.message, "errors": rejected.errors}

    def store(self, integration, body, parse):
        try:
            alerts = parse(body)
        except ValidationError as error:
            raise _schema_error(error, integration) from None
        intake.alerts_receive(integration=integration, alerts=alerts)
        return alerts


class HookErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="The fields at fault (a dotted path, or body), each with its messages.")


class AcceptedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted"])
    alerts = serializers.IntegerField(help_text="How many alerts the body carried.")


class EventErrorSerializer(serializers.Serializer):
    """PagerDuty's error shape, so its client libraries understand it."""

    status = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField())


class EventAcceptedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField()
    dedup_key = serializers.CharField()


def _hook_responses(accepted, description, error):
    """What a hook answers. A NUL byte in the URL or in a form body is refused by RejectNulMiddleware first, in
    the API's own shape; every other refusal is the hook's."""
    bad_input = PolymorphicProxySerializer("HookBadInput" if error is HookErrorSerializer else "EventBadInput",
                                           serializers=[error, ErrorSerializer], resource_type_field_name=None)
    return {
        202: OpenApiResponse(accepted, description=description),
        400: OpenApiResponse(bad_input, description="malformed JSON, or a field that violates the schema "
                                                    "(named in `errors`)"),
        401: OpenApiResponse(error, description="missing or unknown token"),
        403: OpenApiResponse(error, description="integration disabled, or of another kind"),
        413: OpenApiResponse(error, description="body over 1 MB"),
        429: OpenApiResponse(error, description="over the integration's rate; see Retry-After"),
        503: OpenApiResponse(error, description="the database is unavailable; retry after Retry-After"),
    }


HOOK_HEADERS = [
    OpenApiParameter("WWW-Authenticate", str, OpenApiParameter.HEADER, response=[401], required=True,
                     description="Bearer: send the integration token as `Authorization: Bearer <token>`."),
    OpenApiParameter("Retry-After", int, OpenApiParameter.HEADER, response=[429, 503], required=True,
                     description="Seconds to wait before sending again."),
]
# The hooks read the raw body themselves (no DRF parser): any JSON value is read, and refused unless an object.
HOOK_BODY = {"application/json": OpenApiTypes.OBJECT}
HOOK_AUTH = [{"integrationToken": []}]


class AlertmanagerWebhook(_Intake):
    kind = Kind.ALERTMANAGER

    @extend_schema(
        summary="Prometheus Alertmanager webhook (version 4)",
        request=HOOK_BODY, auth=HOOK_AUTH, parameters=HOOK_HEADERS, tags=["alerts"],
        examples=[OpenApiExample("one firing alert", request_only=True, value={
            "version": "4", "groupKey": "{}:{alertname=\"CoreSwitchDown\"}", "status": "firing",
            "receiver": "fenghuo", "alerts": [{
                "status": "firing", "labels": {"alertname": "CoreSwitchDown", "category": "network",
                                               "level": "orange"},
                "annotations": {"summary": "Core switch 1 is down"}, "startsAt": "2024-05-01T08:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "a1b2c3d4e5f60718"}]})],
        responses=_hook_responses(AcceptedSerializer, "stored; processed into incidents within seconds",
                                  HookErrorSerializer),
    )
    def post(self, request):
        return super().post(request)

    def parse(self, body, integration):
        return payloads.parse_alertmanager(body, integration=integration, categories=_categories(integration))


class GenericWebhook(_Intake):
    kind = Kind.GENERIC

    @extend_schema(
        summary="Generic JSON alert (docs/integrations/README.md)",
        request=HOOK_BODY, auth=HOOK_AUTH, parameters=HOOK_HEADERS, tags=["alerts"],
        examples=[OpenApiExample("one alert", request_only=True, value={
            "title": "Core DB replication lag", "status": "firing", "dedup_key": "db-lag",
            "level": "yellow", "category": "system", "source": "nagios"})],
        responses=_hook_responses(AcceptedSerializer, "stored", HookErrorSerializer),
    )
    def post(self, request):
        return super().post(request)

    def parse(self, body, integration):
        return payloads.parse_generic(body, integration=integration, categories=_categories(integration),
                                      now=timezone.now())


class EventsApi(_Intake):
    """PagerDuty Events API v2: token as Bearer or ``routing_key``; PagerDuty's response shapes."""

    kind = Kind.EVENTS
    _STATUS = {400: "invalid event", 401: "unauthorized", 403: "forbidden", 413: "invalid event",
               429: "throttle event", 503: "unavailable"}

    @extend_schema(
        summary="PagerDuty Events API v2 compatible",
        request=HOOK_BODY, auth=HOOK_AUTH, parameters=HOOK_HEADERS, tags=["alerts"],
        examples=[OpenApiExample("trigger", request_only=True, value={
            "routing_key": "<integration token>", "event_action": "trigger", "dedup_key": "core-switch-1",
            "payload": {"summary": "Core switch down", "source": "zabbix", "severity": "critical",
                        "custom_details": {"category": "network", "level": "orange"}}})],
        responses=_hook_responses(EventAcceptedSerializer, "processed", EventErrorSerializer),
    )
    def post(self, request):
        return super().post(request)

    def error_body(self, rejected):
        messages = [f"{field}: {m}" for field, msgs in rejected.errors.items() for m in msgs]
        return {"status": self._STATUS.get(rejected.status, "error"), "message": rejected.message,
                "errors": messages or [rejected.message]}

    def receive(self, request):
        _read_length_first(request)
        token = _bearer(request)
        integration = _authenticate(token, self.kind) if token else None
        if integration is not None:
            _check_rate(integration)
        body = _read_json(request, integration)
        if integration is None:
            routing_key = body.get("routing_key") if isinstance(body, dict) else None
            integration = _authenticate(routing_key if isinstance(routing_key, str) else "", self.kind)
            _check_rate(integration)
        (alert,) = self.store(integration, body, lambda b: [payloads.parse_event(
            b, integration=integration, categories=_categories(integration), now=timezone.now())])
        return Response({"status": "success", "message": "Event processed", "dedup_key": alert.group_key},
                        status=202)


def _read_length_first(request):
    """A body announced as over 1 MB is refused before anything else is looked at."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if length > MAX_BODY_BYTES:
        drain_body(request._request)
        raise Rejected(413, _("the body is larger than 1 MB; send fewer alerts per request"))
