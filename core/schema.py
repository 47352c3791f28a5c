"""The OpenAPI schema documents every answer an operation can give, refusals included.

drf-spectacular documents what a view declares. The refusals that come from around the view (no
or a wrong token, a throttle, a NUL byte in the query, a lost database, a body in the wrong media
type) apply to every operation alike, so they are added here once: a client generated from the
schema, and schemathesis in CI (tests/test_schemathesis.py), can then rely on every status it gets.
"""

from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.settings import api_settings


class ErrorSerializer(serializers.Serializer):
    """A refusal (config.api.exception_handler): a message for the person, a stable code for programs."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text=_("e.g. not_found, forbidden, invalid_transition, throttled."))


FIELD_ERRORS = {
    "type": "object",
    "description": _("Invalid input: each field name (or non_field_errors) with a list of messages."),
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "minProperties": 1,
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "required": True,
                               "description": _("Seconds to wait before trying again.")}}


INTEGRATION_TOKEN = {
    "type": "http", "scheme": "bearer",
    "description": _("The monitoring hooks: the integration's token, `Authorization: Bearer <token>`."),
}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        # The hooks name this scheme (alerts/api.py); it has no DRF authentication class to declare it.
        if operation and any("integrationToken" in needs for needs in operation.get("security", [])):
            self.registry.register_on_missing(ResolvedComponent(
                name="integrationToken", type=ResolvedComponent.SECURITY_SCHEMA, object="integrationToken",
                schema=INTEGRATION_TOKEN))
        return operation

    def map_parsers(self) -> list[str]:
        # Every view takes JSON, a form or multipart (settings DEFAULT_PARSER_CLASSES), so that a browser's
        # form works too; but a form body cannot say "no fields" apart from "not an object", and an
        # all-optional body (a review's edit) would take anything. JSON is the documented body; a view that
        # chooses its parsers (a photo upload) documents its own.
        if list(self.view.parser_classes) == list(api_settings.DEFAULT_PARSER_CLASSES):
            return ["application/json"]
        return super().map_parsers()

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, response in self.common_refusals().items():
            responses.setdefault(code, response)
        return responses

    def component(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def answer(self, description: Any, schema: dict[str, Any],
               headers: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        response: dict[str, Any] = {"description": str(description), "content": {"application/json": {"schema": schema}}}
        if headers:
            response["headers"] = {name: {**header, "description": str(header["description"])}
                                   for name, header in headers.items()}
        return response

    def common_refusals(self) -> dict[str, dict[str, Any]]:
        error = self.resolve_serializer(ErrorSerializer(), "response").ref
        refusals = {
            # RejectNulMiddleware's refusal, and any body or filter that does not validate.
            "400": self.answer(_("Invalid input: the fields at fault with their messages, or a single message."),
                               {"oneOf": [self.component("FieldErrors", FIELD_ERRORS), error]}),
            "401": self.answer(_("No personal token or session, or a wrong or revoked token."), error,
                               {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True,
                                                     "description": _("Token: how to authenticate.")}}),
            "403": self.answer(_("The caller holds no plan role (code no_plan_role), the caller's roles may not "
                                 "do this, or a session request came without its CSRF token."), error),
            "406": self.answer(_("The Accept header asks for something other than JSON."), error),
            "429": self.answer(_("Too many requests from this caller."), error, RETRY_AFTER),
            "503": self.answer(_("The database is unavailable; retry."), error, RETRY_AFTER),
        }
        if self._has_path_parameters() or self._is_paginated_list():
            refusals["404"] = self.answer(_("No such object, or no such page."), error)
        if self.view.parser_classes and self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer():
            refusals["415"] = self.answer(_("The body is not JSON, a form or multipart."), error)
            refusals["413"] = self.answer(_("The body is larger than the limit (DATA_UPLOAD_MAX_MEMORY_SIZE)."),
                                          error)
        return refusals

    # django-filter ignores a filter sent empty (?incident=), as a form with a blank field sends it, and
    # DRF reads an empty ?page= as the first page: the schema says so, or clients would think them refused.
    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        return [{**parameter, "allowEmptyValue": True} for parameter in super()._get_filter_parameters()]

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        return [{**parameter, "allowEmptyValue": True} for parameter in super()._get_pagination_parameters()]

    def _has_path_parameters(self) -> bool:
        return "{" in self.path

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
