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
    "/api/v1/incidents/{id}/review/": {"post"},
    "/api/v1/incidents/{id}/archive/": {"post"},
    "/api/v1/incidents/{id}/timeline/": {"get"},
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
    assert request_fields(schema, "/api/v1/incidents/{id}/resolve/") == {"summary"}
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
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert client.get(asset).status_code == 200, asset


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    # Warnings mean an endpoint whose inputs or answers the schema had to guess.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
