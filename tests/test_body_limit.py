"""A body over the limit is a clean 413 the client can read, on the API and on the hooks (issue 13, finding 16)."""

import http.client
import json
import os
import socket

import pytest
from django.conf import settings

from incidents.models import Incident
from tests.support.processes import gunicorn


@pytest.fixture
def office_token(shipped_plan, make_person):
    from people.models import ApiToken

    return ApiToken.issue(make_person("office"))[1]


def oversized_incident_body():
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    return json.dumps({"category": "network", "level": "blue", "title": "big", "description": padding}).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn as deployed. Django's own servers drain an unread body on close; gunicorn does not.

    The refusals come before any database work, so the server needs no migrated database.
    """
    directory = tmp_path_factory.mktemp("body-limit")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{directory}/unused.sqlite3", "CELERY_BROKER_URL": "filesystem://",
           "FENGHUO_VAR_DIR": str(directory)}
    with gunicorn(env, workers=1, threads=2) as (_process, base):
        yield base


def post_over_a_socket(base, path, body, headers):
    """POST through a real socket, as a monitoring system would; returns (status, parsed JSON)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json",
                                                            "Accept-Language": "en", **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    except (ConnectionError, socket.error) as exc:  # what clients saw before the body was drained
        pytest.fail(f"the client saw {exc!r} instead of a 413")
    finally:
        connection.close()


@pytest.mark.django_db
def test_an_api_body_over_the_limit_is_413_naming_the_limit_and_nothing_is_written(client, office_token):
    response = client.post("/api/v1/incidents/", oversized_incident_body(), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {office_token}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413
    assert response.json() == {"code": "payload_too_large",
                               "detail": "The request body is larger than 2560 KiB; send less at once."}
    assert not Incident.objects.exists()


def test_an_api_body_over_the_limit_sent_over_a_socket_gets_the_413_not_a_broken_pipe(server):
    body = json.dumps({"title": "x" * (3 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}).encode()
    status, answer = post_over_a_socket(server, "/api/v1/incidents/", body, {"Authorization": "Token fh_unused"})
    assert status == 413
    assert answer["code"] == "payload_too_large"


def test_a_hook_body_over_one_megabyte_sent_over_a_socket_gets_the_413_not_a_broken_pipe(server):
    alerts = [{"status": "firing", "labels": {"alertname": f"Disk{n}"}, "annotations": {"summary": "x" * 1000}}
              for n in range(8000)]
    body = json.dumps({"version": "4", "status": "firing", "alerts": alerts}).encode()
    status, answer = post_over_a_socket(server, "/api/v1/alerts/alertmanager", body,
                                        {"Authorization": "Bearer fh_unused"})
    assert status == 413
    assert "larger than 1 MB" in answer["detail"]


@pytest.mark.django_db
def test_a_page_form_over_the_limit_is_413_too(client, make_person, shipped_plan):
    client.force_login(make_person("duty_staff"))
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    response = client.post("/incidents/new/", {"category": "network", "level": "blue", "title": "t",
                                               "description": padding}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413
    assert "larger than 2560 KiB" in response.content.decode()
    assert not Incident.objects.exists()
