"""The webhooks' contract: what each bad request gets back, and that nothing is half-written."""

import json

import pytest
import time_machine
from django.utils import timezone

from alerts.models import Alert, Integration

from .conftest import am_alert, am_webhook

pytestmark = pytest.mark.django_db

AM = "/api/v1/alerts/alertmanager"
EVENTS = "/api/v1/alerts/events"
GENERIC = "/api/v1/alerts/generic"


def trigger(**overrides):
    body = {"event_action": "trigger", "dedup_key": "switch-1",
            "payload": {"summary": "Core switch down", "source": "zabbix", "severity": "critical"}}
    body.update(overrides)
    return body


def test_alertmanager_webhook_is_stored_and_answered_202(minimal_plan_version, make_integration, bearer):
    integration, token = make_integration()
    response = bearer(token).post(AM, am_webhook("g1", [am_alert("a1"), am_alert("a2", severity="critical")]),
                                  format="json")
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "alerts": 2}
    rows = list(Alert.objects.order_by("fingerprint"))
    assert [(a.fingerprint, a.status, a.level_key, a.group_key) for a in rows] == [
        ("a1", "firing", "blue", "g1"), ("a2", "firing", "orange", "g1")]
    assert all(a.processed_at is None and a.integration == integration for a in rows)
    assert rows[0].ends_at is None
    integration.refresh_from_db()
    assert integration.last_received_at is not None


def test_alertmanager_labels_choose_level_and_category_with_fallbacks(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration(default_category="equipment", default_level="yellow")
    alerts = [
        am_alert("lvl", level="red", severity="info", category="network"),
        am_alert("crit", severity="critical"), am_alert("err", severity="error"),
        am_alert("warn", severity="warning"), am_alert("info", severity="info"),
        am_alert("none"), am_alert("odd", level="purple", severity="page", category="kitchen"),
    ]
    assert bearer(token).post(AM, am_webhook("g", alerts), format="json").status_code == 202
    got = {a.fingerprint: (a.level_key, a.category_key) for a in Alert.objects.all()}
    assert got == {
        "lvl": ("red", "network"), "crit": ("orange", "equipment"), "err": ("yellow", "equipment"),
        "warn": ("yellow", "equipment"), "info": ("blue", "equipment"), "none": ("yellow", "equipment"),
        "odd": ("yellow", "equipment"),
    }


def test_repeated_alertmanager_delivery_stores_nothing_new(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration()
    body = am_webhook("g1", [am_alert("a1"), am_alert("a2")])
    client = bearer(token)
    assert client.post(AM, body, format="json").status_code == 202
    assert client.post(AM, body, format="json").status_code == 202
    assert Alert.objects.count() == 2
    resolved = am_webhook("g1", [am_alert("a1", status="resolved"), am_alert("a2")])
    assert client.post(AM, resolved, format="json").status_code == 202
    assert Alert.objects.count() == 3


def test_newer_alertmanager_fields_are_tolerated(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration()
    alert = am_alert("a1") | {"silencedBy": [], "somethingNew": {"x": 1}}
    del alert["fingerprint"]  # Alertmanager before 0.19
    body = am_webhook("g1", [alert], version="5", future={"field": True})
    assert bearer(token).post(AM, body, format="json").status_code == 202
    assert len(Alert.objects.get().fingerprint) == 16


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Token abc", "Bearer "])
def test_wrong_or_missing_token_is_401(minimal_plan_version, make_integration, client, header):
    make_integration()
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.post(AM, am_webhook("g", [am_alert("a")]), content_type="application/json", **extra)
    assert response.status_code == 401
    assert "token" in response.json()["detail"]
    assert Alert.objects.count() == 0


def test_disabled_integration_is_403_and_counted(minimal_plan_version, make_integration, bearer):
    integration, token = make_integration()
    Integration.objects.filter(pk=integration.pk).update(enabled=False)
    response = bearer(token).post(AM, am_webhook("g", [am_alert("a")]), format="json")
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]
    assert Alert.objects.count() == 0
    integration.refresh_from_db()
    assert integration.requests_rejected == 1


def test_token_of_another_kind_is_403(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration(kind="generic")
    response = bearer(token).post(AM, am_webhook("g", [am_alert("a")]), format="json")
    assert response.status_code == 403
    assert "/api/v1/alerts/generic" in response.json()["detail"]


@pytest.mark.parametrize("path", [AM, GENERIC])
def test_malformed_json_is_400(minimal_plan_version, make_integration, bearer, path):
    _integration, token = make_integration(kind="alertmanager" if path == AM else "generic")
    response = bearer(token).post(path, b'{"groupKey": "g", "alerts": [', content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    assert Alert.objects.count() == 0


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b.pop("groupKey"), "groupKey"),
    (lambda b: b.update(alerts=[]), "alerts"),
    (lambda b: b.update(alerts="nope"), "alerts"),
    (lambda b: b["alerts"][1].update(status="burning"), "alerts[1].status"),
    (lambda b: b["alerts"][1].update(startsAt="yesterday"), "alerts[1].startsAt"),
    (lambda b: b["alerts"][1].pop("startsAt"), "alerts[1].startsAt"),
    (lambda b: b["alerts"][1].update(labels=["x"]), "alerts[1].labels"),
    (lambda b: b["alerts"].__setitem__(1, 7), "alerts[1]"),
    # PostgreSQL cannot store NUL: the sender hears which field, instead of a 503 it would retry for ever.
    (lambda b: b["alerts"][1]["labels"].update(host="db\u00001"), "alerts[1].labels.host"),
    (lambda b: b["alerts"][1]["annotations"].update({"no\u0000te": "x"}), "alerts[1].annotations.no\u0000te"),
])
def test_alertmanager_schema_violation_is_400_naming_the_field_and_stores_nothing(
        minimal_plan_version, make_integration, bearer, mutate, field):
    _integration, token = make_integration()
    body = am_webhook("g", [am_alert("a"), am_alert("b")])
    mutate(body)
    response = bearer(token).post(AM, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"].startswith(field)
    assert Alert.objects.count() == 0  # the valid first alert was not written either


def test_body_over_one_megabyte_is_413(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration()
    body = am_webhook("g", [am_alert("a", note="x" * (1024 * 1024))])
    response = bearer(token).post(AM, body, format="json")
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert Alert.objects.count() == 0


def test_over_the_rate_is_429_with_retry_after(minimal_plan_version, make_integration, bearer):
    integration, token = make_integration(rate_limit_per_minute=2)
    client = bearer(token)
    with time_machine.travel(timezone.datetime(2024, 5, 1, 8, 0, 15, tzinfo=timezone.get_current_timezone()),
                             tick=False):
        codes = [client.post(AM, am_webhook("g", [am_alert(f"a{i}")]), format="json").status_code
                 for i in range(3)]
        response = client.post(AM, am_webhook("g", [am_alert("a9")]), format="json")
    assert codes == [202, 202, 429]
    assert response.status_code == 429
    assert response["Retry-After"] == "45"
    assert Alert.objects.count() == 2
    with time_machine.travel(timezone.datetime(2024, 5, 1, 8, 1, 0, tzinfo=timezone.get_current_timezone()),
                             tick=False):
        assert client.post(AM, am_webhook("g", [am_alert("b")]), format="json").status_code == 202


# --- events -------------------------------------------------------------------------------


def test_event_trigger_answers_like_pagerduty(minimal_plan_version, make_integration, client):
    _integration, token = make_integration(kind="events")
    body = trigger(routing_key=token, payload={
        "summary": "Core switch down", "source": "zabbix", "severity": "warning",
        "custom_details": {"category": "network", "level": "orange"}, "timestamp": "2024-05-01T08:00:00+08:00"})
    response = client.post(EVENTS, body, content_type="application/json")
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "switch-1"}
    alert = Alert.objects.get()
    assert (alert.status, alert.level_key, alert.category_key, alert.summary) == (
        "firing", "orange", "network", "Core switch down")


def test_event_takes_the_token_as_bearer_and_makes_up_a_stable_dedup_key(minimal_plan_version, make_integration,
                                                                          bearer):
    _integration, token = make_integration(kind="events")
    body = trigger()
    del body["dedup_key"]
    first = bearer(token).post(EVENTS, body, format="json")
    again = bearer(token).post(EVENTS, body, format="json")
    assert first.status_code == again.status_code == 202
    assert first.json()["dedup_key"] == again.json()["dedup_key"]
    assert Alert.objects.count() == 1


@pytest.mark.parametrize("body, field", [
    (trigger(event_action="explode"), "event_action"),
    (trigger(payload=None), "payload"),
    (trigger(payload={"source": "z", "severity": "info"}), "payload.summary"),
    (trigger(payload={"summary": "s", "severity": "info"}), "payload.source"),
    (trigger(payload={"summary": "s", "source": "z", "severity": "fatal"}), "payload.severity"),
    (trigger(payload={"summary": "s", "source": "z", "severity": "info", "custom_details": {"level": "pink"}}),
     "payload.custom_details.level"),
    (trigger(payload={"summary": "s", "source": "z", "severity": "info", "custom_details": {"category": "food"}}),
     "payload.custom_details.category"),
    ({"event_action": "resolve"}, "dedup_key"),
    ([1, 2], "body"),
])
def test_event_schema_violation_is_a_pagerduty_style_400(minimal_plan_version, make_integration, bearer, body, field):
    _integration, token = make_integration(kind="events")
    response = bearer(token).post(EVENTS, body, format="json")
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "invalid event"
    assert any(error.startswith(f"{field}:") for error in answer["errors"])
    assert Alert.objects.count() == 0


def test_event_errors_for_token_json_size_and_rate(minimal_plan_version, make_integration, bearer, client):
    integration, token = make_integration(kind="events", rate_limit_per_minute=2)
    # One rate window for the whole test (2 requests: the malformed one counts). A `with`, so a failed
    # assertion cannot leave the clock in 2024 for every later test of the run.
    with time_machine.travel(timezone.datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.get_current_timezone())):
        unknown = client.post(EVENTS, trigger(routing_key="nope"), content_type="application/json")
        assert unknown.status_code == 401 and unknown.json()["status"] == "unauthorized"
        missing = client.post(EVENTS, trigger(), content_type="application/json")
        assert missing.status_code == 401
        malformed = bearer(token).post(EVENTS, b"{nope", content_type="application/json")
        assert malformed.status_code == 400 and malformed.json()["status"] == "invalid event"
        huge = bearer(token).post(EVENTS, "x" * (1024 * 1024 + 1), content_type="application/json")
        assert huge.status_code == 413
        ok = bearer(token).post(EVENTS, trigger(), format="json")
        throttled = client.post(EVENTS, trigger(routing_key=token, dedup_key="other"), content_type="application/json")
        assert ok.status_code == 202
        assert throttled.status_code == 429 and throttled.json()["status"] == "throttle event"
        assert int(throttled["Retry-After"]) >= 1
        Integration.objects.filter(pk=integration.pk).update(enabled=False)
        disabled = client.post(EVENTS, trigger(routing_key=token), content_type="application/json")
        assert disabled.status_code == 403 and disabled.json()["status"] == "forbidden"
    assert Alert.objects.count() == 1


# --- generic ------------------------------------------------------------------------------


def test_generic_alert_and_list_of_alerts(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration(kind="generic", default_category="system")
    client = bearer(token)
    one = client.post(GENERIC, {"title": "Batch job late", "level": "yellow", "source": "cron"}, format="json")
    many = client.post(GENERIC, {"alerts": [
        {"title": "Disk full", "dedup_key": "disk", "group_key": "host-1", "category": "equipment"},
        {"title": "Disk ok", "dedup_key": "disk", "group_key": "host-1", "status": "resolved",
         "starts_at": "2024-05-01T08:00:00+08:00"}]}, format="json")
    assert one.status_code == many.status_code == 202
    assert many.json()["alerts"] == 2
    rows = {a.summary: a for a in Alert.objects.all()}
    assert rows["Batch job late"].group_key == "Batch job late"
    assert rows["Batch job late"].labels == {"source": "cron"}
    assert (rows["Disk full"].group_key, rows["Disk full"].category_key) == ("host-1", "equipment")
    assert rows["Disk ok"].status == "resolved"


@pytest.mark.parametrize("body, field", [
    ({}, "title"),
    ({"title": 5}, "title"),
    ({"title": "x", "status": "bad"}, "status"),
    ({"title": "x", "level": "purple"}, "level"),
    ({"title": "x", "category": "kitchen"}, "category"),
    ({"title": "x", "starts_at": "soon"}, "starts_at"),
    ({"alerts": [{"title": "ok"}, {"title": ""}]}, "alerts[1].title"),
    ({"alerts": []}, "alerts"),
    ("just text", "body"),
])
def test_generic_schema_violation_is_400_naming_the_field(minimal_plan_version, make_integration, bearer, body, field):
    _integration, token = make_integration(kind="generic")
    response = bearer(token).post(GENERIC, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Alert.objects.count() == 0
