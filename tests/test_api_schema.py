"""The OpenAPI schema lists the public API, and its docs page works with no Internet."""

import re

import pytest

CONTRACT_PATHS = {
    "/api/v1/incidents/": {"get", "post"},
    "/api/v1/incidents/{id}/": {"get", "patch"},
    "/api/v1/incidents/{id}/acknowledge/": {"post"},
    "/api/v1/incidents/{id}/escalate/": {"post"},
    "/api/v1/incidents/{id}/deescalate/": {"post"},
    "/api/v1/incidents/{id}/check-in/": {"post"},
    "/api/v1/incidents/{id}/resolve/": {"post"},
    "/api/v1/incidents/{id}/recovered/": {"post"},
    "/api/v1/incidents/{id}/implementing/": {"post"},
    "/api/v1/incidents/{id}/review/": {"get", "put"},
    "/api/v1/incidents/{id}/review/submit/": {"post"},
    "/api/v1/incidents/{id}/review/approve/": {"post"},
    "/api/v1/incidents/{id}/actions/": {"get", "post"},
    "/api/v1/actions/": {"get"},
    "/api/v1/actions/{id}/done/": {"post"},
    "/api/v1/actions/{id}/carry-over/": {"post"},
    "/api/v1/incidents/{id}/archive/": {"post"},
    "/api/v1/incidents/{id}/timeline/": {"get"},
    "/api/v1/incidents/{id}/export": {"get"},
    "/api/v1/incidents/{id}/plans/": {"get", "post"},
    "/api/v1/plans/{id}/": {"get"},
    "/api/v1/plans/{id}/approve/": {"post"},
    "/api/v1/plans/{id}/reject/": {"post"},
    "/api/v1/notifications/": {"get"},
    "/api/v1/notifications/{id}/ack/": {"post"},
    "/api/v1/notifications/{id}/read/": {"post"},
    "/api/v1/notifications/read/": {"post"},
}


@pytest.fixture
def client(admin_client):
    """The schema and its docs are for staff (issue 13, finding 12): every test here reads them as staff."""
    return admin_client


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def request_fields(schema, path, method="post"):
    ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return set(schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"])


def test_the_schema_is_openapi_3_and_lists_every_incident_and_notification_path(schema):
    assert schema["openapi"].startswith("3.")
    for path, methods in CONTRACT_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), (path, set(schema["paths"][path]))


def test_the_schema_describes_the_inputs_and_refusals_of_custom_actions(schema):
    assert request_fields(schema, "/api/v1/incidents/{id}/escalate/") == {"level", "reason"}
    assert request_fields(schema, "/api/v1/incidents/{id}/resolve/") == {"summary", "stability"}
    assert request_fields(schema, "/api/v1/incidents/{id}/plans/") == {"text"}
    assert request_fields(schema, "/api/v1/plans/{id}/approve/") == {"comment"}
    assert {"title", "category", "level", "description", "affected_branches",
            "total_branches"} <= request_fields(schema, "/api/v1/incidents/")
    assert {"200", "400", "403", "404", "409"} <= set(schema["paths"]["/api/v1/incidents/{id}/resolve/"]["post"][
        "responses"])
    filters = {p["name"] for p in schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]}
    assert {"status", "level", "category", "open", "drill", "page"} <= filters


def test_the_schema_is_also_served_as_yaml(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def test_swagger_ui_is_served_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://|//cdn", html), "the docs page must not load anything from the Internet"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        # The start-up script is served by the view itself (no inline script under the CSP).
        assert asset.startswith(("/static/drf_spectacular_sidecar/", "/api/docs/?script")), asset
        assert client.get(asset).status_code == 200, asset


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    # Warnings mean an endpoint whose inputs or answers the schema had to guess.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


@pytest.mark.parametrize("path", ["/api/schema/", "/api/schema/?format=json", "/api/docs/"])
def test_the_schema_and_docs_refuse_anonymous_callers(path, db):
    from django.test import Client

    assert Client().get(path).status_code in (401, 403)


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_refuse_a_signed_in_person_who_is_not_staff(path, make_person):
    from django.test import Client

    person = Client()
    person.force_login(make_person("duty_staff"))

    assert person.get(path).status_code == 403


def test_the_schema_refuses_a_wrong_personal_token(db):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api.get("/api/schema/").status_code in (401, 403)


def test_the_schema_refuses_a_personal_token_of_someone_who_is_not_staff(make_person, api_client_for):
    assert api_client_for(make_person("duty_staff")).get("/api/schema/").status_code == 403


def test_the_schema_answers_a_staff_personal_token(make_person, api_client_for):
    response = api_client_for(make_person(is_staff=True)).get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
