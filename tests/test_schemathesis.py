"""Every API operation answers what the OpenAPI schema says it answers (issue 13, finding 15).

schemathesis generates requests from the schema (valid and invalid ones), sends them through the WSGI
application as a person who holds plan roles, and checks each answer against the schema.
"""

import re
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]
# Enough to hit every documented answer of every operation; small enough for CI (about a minute here).
MAX_EXAMPLES = 30


@pytest.fixture
def _wsgi_keeps_the_test_transaction():
    """Django closes the connection after each request when autocommit is off, as it is inside a test's
    transaction; its own test client disconnects that handler too. Without this the second request
    would find the test's data gone."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def caller(shipped_plan, make_person):
    """Holds every role of the plan, so refusals are about state and input, and approvals can happen."""
    roles = shipped_plan.roles.values_list("key", flat=True)
    return make_person(*roles, username="schemathesis", language="en")


@pytest.fixture
def credentials(caller):
    """Headers per path prefix: a personal token for the API, an integration token for each hook."""
    from alerts.integrations import integration_create
    from people.models import ApiToken

    _token, secret = ApiToken.issue(caller)
    headers = {"/api/v1/": {"Authorization": f"Token {secret}"}}
    for kind in ("alertmanager", "generic", "events"):
        _integration, token = integration_create(name=f"schemathesis-{kind}", kind=kind)
        headers[f"/api/v1/alerts/{kind}"] = {"Authorization": f"Bearer {token}"}
    return headers


@pytest.fixture
def api_data(shipped_plan, caller):
    """Real ids and plan keys for the generated requests: incidents in the states each action starts from,
    response plans, the caller's notifications."""
    from incidents import services
    from incidents.models import ResponsePlan
    from notifications.models import Notification

    reported = services.log_fault(reporter=caller, category="system", level="yellow", title="Core DB down")
    taken = services.log_fault(reporter=caller, category="network", level="orange", title="Branch link down")
    services.acknowledge(taken, actor=caller)
    services.propose_plan(taken, actor=caller, text="Fail over to the standby line")
    approved = services.log_fault(reporter=caller, category="network", level="orange", title="Core switch down")
    services.acknowledge(approved, actor=caller)
    plan = services.propose_plan(approved, actor=caller, text="Replace the supervisor card")
    services.approve_plan(plan, actor=caller)
    resolved, reviewed = (services.log_fault(reporter=caller, category="equipment", level="blue", title=title)
                          for title in ("UPS alarm", "Printer jam"))
    for incident in (resolved, reviewed):
        services.acknowledge(incident, actor=caller)
        services.resolve(incident, actor=caller, summary="Fixed")
    services.review(reviewed, actor=caller)
    notifications = list(Notification.objects.visible().filter(person=caller).values_list("pk", flat=True))
    assert notifications
    from improvements.services import proposal_create, proposal_submit

    drafting = proposal_create(person=caller, reason="A vendor's night line", incident=reviewed)
    submitted = proposal_submit(proposal=proposal_create(person=caller, reason="Sooner"), person=caller)
    return {
        "/api/v1/plan-proposals/{id}": [drafting.pk, submitted.pk],
        "/api/v1/incidents/{id}": [i.pk for i in (reported, taken, approved, resolved, reviewed)],
        "/api/v1/plans/{id}": list(ResponsePlan.objects.values_list("pk", flat=True)),
        "/api/v1/notifications/{id}": notifications[:3],
        "category": list(shipped_plan.categories.values_list("key", flat=True)),
        "level": list(shipped_plan.levels.values_list("key", flat=True)),
    }


def generated_schema():
    """The document /api/schema/ serves to staff, generated the same way (no request, no database).

    pytest needs it at collection to make one test per operation; the served copy is compared below.
    """
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def as_json(document):
    import json

    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(as_json(generated_schema()))
schema.app = application


def test_the_schema_under_test_is_the_one_served_to_staff(admin_client):
    response = admin_client.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response.json() == as_json(generated_schema())


def real_or_generated(options, generated):
    """Most generated values become a real one, the rest stay (an unknown id, key): the same on every run."""
    index = zlib.crc32(repr(generated).encode()) % (len(options) + 1)
    return options[index] if index < len(options) else generated


def _valid_at(case, location):
    return case.meta is None or not case.meta.is_negative_at(location)


def aim_at_real_data(case, data):
    """Random ids and plan keys would nearly all be 404 or "unknown level"; aim valid ones at real rows.

    Only values generated as valid are replaced, so a request meant to be invalid stays invalid.
    """
    prefix = next((p for p in data if case.operation.path.startswith(p)), None)
    generated_id = (case.path_parameters or {}).get("id")
    if prefix and type(generated_id) is int and _valid_at(case, ParameterLocation.PATH):
        case.path_parameters["id"] = real_or_generated(data[prefix], generated_id)
    if isinstance(case.body, dict) and _valid_at(case, ParameterLocation.BODY):
        for key in ("category", "level"):
            if isinstance(case.body.get(key), str):
                case.body[key] = real_or_generated(data[key], case.body[key])


def headers_for(path, credentials):
    prefix = max((p for p in credentials if path.startswith(p)), key=len)
    return credentials[prefix]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_answer_of_every_operation_is_documented_in_the_schema(case, credentials, api_data,
                                                                    _wsgi_keeps_the_test_transaction):
    aim_at_real_data(case, api_data)
    case.call_and_validate(headers=headers_for(case.operation.path, credentials), checks=CHECKS)


API_OPERATIONS = [result.ok() for result in schema.get_all_operations()
                  if not result.ok().path.startswith("/api/v1/alerts/")]


@pytest.mark.parametrize("operation", API_OPERATIONS, ids=lambda operation: operation.label)
def test_a_caller_without_a_token_gets_the_documented_401(operation, db, _wsgi_keeps_the_test_transaction):
    """The generated requests above all carry a valid token: the refusal without one is checked here.

    No data: authentication comes before any lookup, so the ids need not exist (and building the data
    for each of the 80 operations was a third of this file's time)."""
    names = re.findall(r"\{(\w+)\}", operation.path)
    case = operation.Case(path_parameters={name: 1 for name in names} if names else None)

    response = case.call()

    assert response.status_code == 401
    case.validate_response(response, checks=CHECKS[:-1])


def test_a_url_no_api_route_matches_is_answered_in_json(client):
    response = client.get("/api/v1/incidents/0.5/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
