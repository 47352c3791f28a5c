"""What one alert request costs, and that the cheaper path answers exactly as before (issue 21, item 2)."""

import json
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections

from alerts.models import Alert

from .conftest import am_alert, am_webhook

AM = "/api/v1/alerts/alertmanager"


@pytest.mark.django_db
def test_a_request_costs_the_token_lookup_and_one_insert_even_with_grouping_labels(
        minimal_plan_version, make_integration, bearer, django_assert_num_queries):
    # group_by is read on every request: it comes with the token lookup, not as a deferred field of its own.
    _integration, token = make_integration(group_by=["alertname"])
    client = bearer(token)
    assert client.post(AM, am_webhook("g0", [am_alert("a0")]), format="json").status_code == 202
    with django_assert_num_queries(2):  # last_received_at was written by the first request, a moment ago
        response = client.post(AM, am_webhook("g1", [am_alert("a1"), am_alert("a2")]), format="json")
    assert response.status_code == 202
    assert set(Alert.objects.values_list("group_key", flat=True)) == {'by:[["alertname","CoreDown"]]'}


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_what_monitoring_accepts_gets_json(minimal_plan_version, make_integration, bearer, accept):
    _integration, token = make_integration()
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = bearer(token).post(AM, am_webhook("g1", [am_alert("a1")]), format="json", **headers)
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "accepted", "alerts": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "query", "status"), [
    ("text/html", "", 406), ("application/json; indent=4", "", 202), ("*/*", "?format=json", 202),
    ("*/*", "?format=xml", 404)])
def test_other_accept_headers_and_formats_are_negotiated_as_drf_does(
        minimal_plan_version, make_integration, bearer, accept, query, status):
    _integration, token = make_integration()
    response = bearer(token).post(AM + query, json.dumps(am_webhook("g1", [am_alert("a1")])),
                                  content_type="application/json", HTTP_ACCEPT=accept)
    assert response.status_code == status
    assert Alert.objects.count() == (1 if status == 202 else 0)


@pytest.mark.django_db
def test_a_body_with_escapes_is_still_checked_for_poison(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration()
    body = json.dumps(am_webhook("g1", [am_alert("a1", host="db\u00e9")]))  # ensure_ascii: a \u escape
    assert "\\u00e9" in body
    assert bearer(token).post(AM, body, content_type="application/json").status_code == 202
    poisoned = body.replace("\\u00e9", "\\u0000")
    response = bearer(token).post(AM, poisoned, content_type="application/json")
    assert response.status_code == 400
    assert "alerts[0].labels.host" in response.json()["errors"]
    raw = json.dumps(am_webhook("g2", [am_alert("a2", host="db\u00e9")]), ensure_ascii=False).encode()
    assert bearer(token).post(AM, raw, content_type="application/json").status_code == 202
    assert set(Alert.objects.values_list("labels__host", flat=True)) == {"db\u00e9"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only("a server-side terminated connection; SQLite has no server")
def test_a_connection_that_died_while_idle_is_replaced_without_an_error(
        minimal_plan_version, make_integration, bearer):
    # The token lookup stands in for Django's SELECT 1 health check: a dead connection is closed and the
    # lookup retried on a new one, as the health check would have done.
    _integration, token = make_integration()
    client = bearer(token)
    assert client.post(AM, am_webhook("g1", [am_alert("a1")]), format="json").status_code == 202
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")  # as PostgreSQL restarting would, from outside
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    response = client.post(AM, am_webhook("g2", [am_alert("a2")]), format="json")
    assert response.status_code == 202
    assert connection.connection.info.backend_pid != pid
    assert Alert.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_database_still_down_after_the_retry_answers_503(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration()
    client = bearer(token)
    assert client.post(AM, am_webhook("g1", [am_alert("a1")]), format="json").status_code == 202
    with mock.patch("alerts.integrations._fetch_one", side_effect=OperationalError("server closed the connection")):
        response = client.post(AM, am_webhook("g2", [am_alert("a2")]), format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert Alert.objects.count() == 1


def test_a_lane_already_nudged_is_not_nudged_again_one_lane_or_several():
    from core.broker import broker_redis

    from alerts.lanes import clear_nudge, nudge

    with mock.patch("alerts.tasks.process_pending.delay") as delay:
        nudge([0])
        nudge([0])
        nudge([1, 0])
        nudge([0, 1])
    lanes = [call.args[0] for call in delay.call_args_list]
    if broker_redis() is None:  # the embedded broker has no flags: every nudge is sent, the runners sort it out
        assert lanes == [0, 0, 0, 1, 0, 1]
    else:
        assert lanes == [0, 1]
    clear_nudge(0)
    with mock.patch("alerts.tasks.process_pending.delay") as delay:
        nudge([0])
    assert [call.args[0] for call in delay.call_args_list] == [0]
