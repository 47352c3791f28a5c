"""A lost database connection answers 503 with Retry-After, never 500 (faults, part b, without a real restart)."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_api_answers_503_with_retry_after_when_the_database_is_down(make_person, api_client_for, error):
    client = api_client_for(make_person("duty_staff"))
    with mock.patch("people.authentication.PersonalTokenAuthentication.authenticate",
                    side_effect=error("connection refused")):
        response = client.get("/api/v1/incidents/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "database_unavailable"


def test_page_answers_a_plain_503_with_retry_after_when_the_database_is_down(client, make_person):
    client.force_login(make_person("duty_staff"))
    with mock.patch("dashboard.views.render", side_effect=OperationalError("server closed the connection")):
        response = client.get("/dashboard/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/dashboard/", "/api/v1/incidents/"])
def test_a_database_lost_while_a_middleware_reads_the_session_answers_503_not_500(client, make_person, path):
    client.force_login(make_person("duty_staff"))
    client.raise_request_exception = False  # as in production: the handler answers, the test does not re-raise
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load",
                    side_effect=OperationalError("server closed the connection unexpectedly")):
        response = client.get(path)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
