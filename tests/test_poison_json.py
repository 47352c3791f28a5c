"""Poison JSON bodies answer 400 naming the problem on the hooks and the API: never 500, never 503 + Retry-After."""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from alerts.integrations import integration_create
from alerts.models import Alert
from core.jsonbody import MAX_DEPTH
from incidents.models import Incident

AM, EVENTS = "/api/v1/alerts/alertmanager", "/api/v1/alerts/events"

NESTED = b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}"
# Deeper than Python's recursion limit: json.loads alone raises RecursionError on it.
VERY_NESTED = b"[" * 100_000 + b"]" * 100_000

# (raw body as the client sends it, words the answer must contain)
POISON = {
    "lone surrogate": (b'{"title": "x\\ud800y", "groupKey": "g"}', "surrogate"),
    "lone surrogate in a key": (b'{"\\udfffk": 1}', "surrogate"),
    "invalid UTF-8": (b'{"title": "\xff\xfe"}', "UTF-8"),
    "nested deeper than the limit": (NESTED, "nested deeper"),
    "nested deeper than Python's recursion limit": (VERY_NESTED, "nested deeper"),
    "NaN": (b'{"title": "x", "total_branches": NaN}', "NaN"),
    "Infinity": (b'{"title": "x", "total_branches": -Infinity}', "Infinity"),
}


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def _hook_client(kind):
    _integration, token = integration_create(name=f"{kind}-source", kind=kind)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.parametrize("name", POISON)
def test_poison_body_on_the_alertmanager_hook_is_400_naming_the_problem(shipped_plan, name):
    raw, words = POISON[name]
    response = _hook_client("alertmanager").post(AM, raw, content_type="application/json")

    assert response.status_code == 400
    assert "Retry-After" not in response
    assert words in response.json()["detail"]
    assert Alert.objects.count() == 0


@pytest.mark.parametrize("name", POISON)
def test_poison_body_on_the_events_hook_is_a_pagerduty_style_400(shipped_plan, name):
    raw, words = POISON[name]
    response = _hook_client("events").post(EVENTS, raw, content_type="application/json")

    assert response.status_code == 400
    assert "Retry-After" not in response
    assert response.json()["status"] == "invalid event"
    assert words in response.json()["message"]
    assert Alert.objects.count() == 0


def test_lone_surrogate_deep_in_an_alert_names_its_field(shipped_plan):
    body = (b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", '
            b'"labels": {"host": "db\\ud8001"}, "startsAt": "2024-05-01T08:00:00Z"}]}')
    response = _hook_client("alertmanager").post(AM, body, content_type="application/json")

    assert response.status_code == 400
    assert "alerts[0].labels.host" in response.json()["errors"]
    assert response.json()["detail"].startswith("alerts[0].labels.host: ")


@pytest.mark.parametrize("name", POISON)
def test_poison_body_on_the_incidents_api_is_400_naming_the_problem(shipped_plan, make_person, api_client_for, name):
    raw, words = POISON[name]
    client = api_client_for(make_person("duty_staff"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/api/v1/incidents/", raw, content_type="application/json")

    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert Incident.objects.count() == 0


def test_a_body_nested_to_the_limit_and_brackets_inside_strings_are_accepted():
    from core.jsonbody import parse_json

    value = parse_json(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode())
    for _level in range(MAX_DEPTH - 1):
        (value,) = value
    assert value == []
    assert parse_json(('{"note": "' + "[" * 500 + '"}').encode()) == {"note": "[" * 500}
