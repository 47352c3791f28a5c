"""From stored alerts to incidents: open, join, raise, recover — once, whatever is redelivered."""

import pytest

from alerts import grouping, lanes, processing
from alerts.models import Alert, AlertGroup
from core.broker import broker_redis
from incidents import services as incident_services
from incidents.models import Incident, TimelineKind
from incidents.states import Status
from notifications.models import Notification

from .conftest import am_alert, am_webhook

pytestmark = pytest.mark.django_db

AM = "/api/v1/alerts/alertmanager"
EVENTS = "/api/v1/alerts/events"


@pytest.fixture
def alertmanager(minimal_plan_version, make_integration, bearer):
    integration, token = make_integration(name="prometheus-prod", default_category="system")
    client = bearer(token)

    def post(group_key, *alerts):
        response = client.post(AM, am_webhook(group_key, list(alerts)), format="json")
        assert response.status_code == 202, response.content
        processing.alerts_process_pending()
    post.integration, post.client = integration, client
    return post


def kinds(incident):
    return list(incident.timeline.values_list("kind", flat=True))


def test_first_alert_of_a_group_opens_an_incident_as_the_integration(alertmanager, make_person):
    responder = make_person("tech_group")
    alertmanager("g1", am_alert("a1", severity="warning"), am_alert("a2", severity="critical"))
    incident = Incident.objects.get()
    assert (incident.category.key, incident.level.key, incident.source) == ("system", "orange", "alertmanager")
    assert incident.reporter is None
    assert incident.title == "CoreDown on a1 (+1)"
    opened = incident.timeline.get(kind=TimelineKind.OPENED)
    assert opened.actor_label == "prometheus-prod"
    alert_entry = incident.timeline.get(kind=TimelineKind.ALERT)
    assert alert_entry.detail["opened_incident"] is True and alert_entry.detail["count"] == 2
    assert set(Alert.objects.values_list("incident", flat=True)) == {incident.pk}
    assert not Alert.objects.filter(processed_at__isnull=True).exists()
    assert Notification.objects.filter(incident=incident, person=responder).exists()
    alertmanager.integration.refresh_from_db()
    assert (alertmanager.integration.alerts_received, alertmanager.integration.incidents_opened) == (2, 1)


def test_new_alert_joins_the_open_incident_and_a_redelivery_changes_nothing(alertmanager):
    alertmanager("g1", am_alert("a1"))
    incident = Incident.objects.get()
    alertmanager("g1", am_alert("a1"), am_alert("a2"))
    assert Incident.objects.count() == 1
    assert kinds(incident).count(TimelineKind.ALERT) == 2
    joined = incident.timeline.filter(kind=TimelineKind.ALERT).last()
    assert [a["fingerprint"] for a in joined.detail["alerts"]] == ["a2"]
    before = kinds(incident)
    alertmanager("g1", am_alert("a1"), am_alert("a2"))  # Alertmanager's repeat_interval resend
    assert kinds(incident) == before
    assert Alert.objects.count() == 2


def test_more_severe_alert_raises_the_incident_through_the_escalation_path(alertmanager):
    alertmanager("g1", am_alert("a1", severity="warning"))
    incident = Incident.objects.get()
    assert incident.level.key == "yellow"
    alertmanager("g1", am_alert("a2", level="red"))
    incident.refresh_from_db()
    assert incident.level.key == "red"
    change = incident.timeline.get(kind=TimelineKind.LEVEL_CHANGED)
    assert change.detail["from"] == "yellow" and change.detail["to"] == "red" and change.detail["manual"] is False
    assert change.detail["cause"] == "alert"
    # A milder alert never lowers the level.
    alertmanager("g1", am_alert("a3", severity="info"))
    incident.refresh_from_db()
    assert incident.level.key == "red"


def test_resolved_before_anyone_acknowledged_is_recorded_and_responders_told(alertmanager, make_person):
    responder = make_person("tech_group", language="en")  # told in their language, not the worker's
    alertmanager("g1", am_alert("a1"), am_alert("a2"))
    incident = Incident.objects.get()
    alertmanager("g1", am_alert("a1", status="resolved"), am_alert("a2"))
    assert incident.notifications.filter(event__startswith="alerts-resolved").count() == 0  # a2 still fires
    alertmanager("g1", am_alert("a1", status="resolved"), am_alert("a2", status="resolved"))
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED  # the state machine refuses recovery before acknowledgement
    refused = incident.timeline.filter(kind=TimelineKind.ALERT, detail__resolved_at_source=True).get()
    assert "acknowledged" in refused.detail["not_marked_recovered"]
    told = incident.notifications.get(event__startswith="alerts-resolved", person=responder)
    assert "resolved" in told.body


def test_resolved_after_acknowledgement_marks_the_incident_recovered(alertmanager, make_person):
    responder = make_person("tech_group", "office")
    alertmanager("g1", am_alert("a1"))
    incident = Incident.objects.get()
    incident_services.acknowledge(incident, actor=responder)
    alertmanager("g1", am_alert("a1", status="resolved"))
    incident.refresh_from_db()
    assert incident.status == Status.RECOVERED
    recovered = incident.timeline.get(kind=TimelineKind.RECOVERED)
    assert recovered.actor is None
    assert incident.notifications.filter(event__startswith="alerts-resolved", person=responder).exists()


def test_a_stale_firing_redelivery_after_the_resolution_does_not_undo_it(alertmanager, make_person):
    responder = make_person("tech_group", "office")
    alertmanager("g1", am_alert("a1"))
    incident = Incident.objects.get()
    incident_services.acknowledge(incident, actor=responder)
    alertmanager("g1", am_alert("a1", status="resolved"))
    entries = kinds(incident)
    Alert.objects.filter(status="firing").delete()  # pretend the firing copy was never seen: it arrives late
    alertmanager("g1", am_alert("a1"))
    assert kinds(incident) == entries


def test_alert_after_the_incident_closed_opens_a_new_one(alertmanager, make_person):
    responder = make_person("tech_group", "office")
    alertmanager("g1", am_alert("a1"))
    first = Incident.objects.get()
    incident_services.acknowledge(first, actor=responder)
    incident_services.resolve(first, actor=responder, summary="restarted")
    alertmanager("g1", am_alert("a1", starts="2024-05-02T08:00:00Z"))
    second = Incident.objects.exclude(pk=first.pk).get()
    assert AlertGroup.objects.get().incident == second


def test_events_trigger_acknowledge_resolve(minimal_plan_version, make_integration, bearer, make_person):
    responder = make_person("tech_group", "office")
    _integration, token = make_integration(kind="events", name="zabbix")
    client = bearer(token)

    def send(action, **payload):
        body = {"event_action": action, "dedup_key": "sw-1"}
        if payload:
            body["payload"] = {"source": "zabbix", "severity": "error", **payload}
        assert client.post(EVENTS, body, format="json").status_code == 202
        processing.alerts_process_pending()

    send("trigger", summary="Core switch down", custom_details={"category": "network"})
    incident = Incident.objects.get()
    assert (incident.category.key, incident.level.key, incident.source) == ("network", "yellow", "events")
    send("acknowledge")
    assert incident.timeline.filter(kind=TimelineKind.ALERT).last().detail["alerts"][0]["status"] == "acknowledged"
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED  # taking an incident on is a person's act
    incident_services.acknowledge(incident, actor=responder)
    send("resolve")
    incident.refresh_from_db()
    assert incident.status == Status.RECOVERED


def test_resolve_for_an_unknown_dedup_key_opens_nothing(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration(kind="events")
    response = bearer(token).post(EVENTS, {"event_action": "resolve", "dedup_key": "never-seen"}, format="json")
    assert response.status_code == 202
    processing.alerts_process_pending()
    assert Incident.objects.count() == 0
    assert Alert.objects.get().processed_at is not None


def test_a_group_that_cannot_be_processed_is_retried_then_set_aside(alertmanager, monkeypatch):
    # No active plan: opening an incident is impossible, the alert must wait, not vanish.
    from plan.models import PlanVersion

    PlanVersion.objects.update(is_active=False)
    alertmanager("g1", am_alert("a1"))
    alert = Alert.objects.get()
    assert alert.processed_at is None and alert.attempts == 1 and "DoesNotExist" in alert.last_error
    for _ in range(grouping.MAX_ATTEMPTS):
        processing.alerts_process_pending()
    alert.refresh_from_db()
    assert alert.attempts == grouping.MAX_ATTEMPTS and alert.processed_at is None
    PlanVersion.objects.update(is_active=True)
    Alert.objects.update(attempts=0)
    processing.alerts_process_pending()
    assert Alert.objects.get().incident is not None


def test_many_groups_join_their_open_incidents_in_one_batch_and_the_rest_is_left_alone(
        alertmanager, make_person, django_assert_max_num_queries):
    responder = make_person("tech_group", "office")
    for n in range(6):
        alertmanager(f"g{n}", am_alert(f"first-{n}", severity="warning"))
    incidents = {group.key: group.incident for group in AlertGroup.objects.select_related("incident")}
    incident_services.acknowledge(incidents["g5"], actor=responder)
    client = alertmanager.client
    for n in range(4):  # a new alert (and a resend of the first, stored once), for four groups
        client.post(AM, am_webhook(f"g{n}", [am_alert(f"first-{n}", severity="warning"),
                                             am_alert(f"second-{n}", severity="warning")]), format="json")
    client.post(AM, am_webhook("g4", [am_alert("worse", severity="critical")]), format="json")  # would raise
    client.post(AM, am_webhook("g5", [am_alert("first-5", status="resolved")]), format="json")  # would recover
    groups = list(dict.fromkeys(Alert.objects.filter(processed_at__isnull=True).values_list("integration_id",
                                                                                          "group_key")))

    # 8, and 2 for the timeline's hash chain: its lock and the heads it chains to (incidents/chain.py).
    with django_assert_max_num_queries(10):
        processed, joined, left = grouping.alerts_join_open_incidents(groups)

    assert (processed, {key for _integration, key in joined}) == (4, {"g0", "g1", "g2", "g3"})
    assert {key for _integration, key in left} == {"g4", "g5"}
    for n in range(4):
        incident = incidents[f"g{n}"]
        entry = incident.timeline.filter(kind=TimelineKind.ALERT).last()
        assert [a["fingerprint"] for a in entry.detail["alerts"]] == [f"second-{n}"]
        assert set(Alert.objects.filter(group_key=f"g{n}").values_list("incident", flat=True)) == {incident.pk}
    assert Alert.objects.filter(processed_at__isnull=True).count() == 2
    alertmanager.integration.refresh_from_db()
    assert alertmanager.integration.alerts_received == 6 + 4

    processing.alerts_process_pending()  # the one-group path takes what the batch left
    incidents["g4"].refresh_from_db()
    incidents["g5"].refresh_from_db()
    assert (incidents["g4"].level.key, incidents["g5"].status) == ("orange", Status.RECOVERED)
    assert not Alert.objects.filter(processed_at__isnull=True).exists()



def test_one_runner_at_a_time_and_a_refused_runner_makes_the_holder_run_again(alertmanager):
    client = broker_redis()
    if client is None:
        pytest.skip("the turn lives in Redis; this run uses another broker")
    alertmanager("g1", am_alert("a1"))
    alertmanager.client.post(AM, am_webhook("g1", [am_alert("a2")]), format="json")
    lane = lanes.lane_of(alertmanager.integration.pk, group_key="g1")
    client.set(lanes.redis_key("turn", lane), "another-worker")

    assert processing.alerts_process_pending_in_turn(lane) == (0, False)
    assert Alert.objects.filter(processed_at__isnull=True).count() == 1

    client.delete(lanes.redis_key("turn", lane))  # the other runner died and its turn expired...
    assert processing.alerts_process_pending_in_turn(lane) == (1, True)  # ...the mark it left asks for one more run
    assert processing.alerts_process_pending_in_turn(lane) == (0, False)
    assert client.get(lanes.redis_key("turn", lane)) is None


def test_each_lane_runner_takes_only_its_own_groups_and_the_lanes_cover_them_all(alertmanager, settings):
    settings.ALERTS_LANES = 2
    keys = [f"g{n}" for n in range(12)]
    for key in keys:
        alertmanager.client.post(AM, am_webhook(key, [am_alert(f"{key}-a")]), format="json")
    integration_id = alertmanager.integration.pk
    by_lane = {lane: {k for k in keys if lanes.lane_of(integration_id, group_key=k) == lane} for lane in (0, 1)}
    assert by_lane[0] and by_lane[1]  # the hash spreads these keys over both lanes

    assert processing.alerts_process_pending(lane=0) == len(by_lane[0])
    pending = set(Alert.objects.filter(processed_at__isnull=True).values_list("group_key", flat=True))
    assert pending == by_lane[1]
    assert processing.alerts_process_pending(lane=1) == len(by_lane[1])
    assert AlertGroup.objects.filter(incident__isnull=False).count() == len(keys)


def test_a_lane_is_the_same_in_every_process():
    # crc32, not Python's hash(), which differs between processes.
    assert lanes.lane_of(7, group_key="{}:{alertname=\"BranchLinkDown\"}", lanes=2) == 0
    assert [lanes.lane_of(1, group_key=f"g{n}", lanes=3) for n in range(6)] == [1, 1, 1, 1, 2, 2]


def _pending_groups():
    return list(dict.fromkeys(Alert.objects.filter(processed_at__isnull=True).values_list("integration_id",
                                                                                         "group_key")))


def test_many_new_groups_open_their_incidents_in_one_batch_each_with_its_full_response(alertmanager, make_person):
    make_person("tech_group", "office")
    client = alertmanager.client
    for n in range(5):
        client.post(AM, am_webhook(f"g{n}", [am_alert(f"a{n}", severity="warning"),
                                             am_alert(f"b{n}", severity="critical" if n == 4 else "warning")]),
                    format="json")
    client.post(AM, am_webhook("g5", [am_alert("c5", status="resolved")]), format="json")  # opens nothing

    processed, opened = grouping.alerts_open_incidents(_pending_groups())

    assert (processed, {key for _integration, key in opened}) == (10, {f"g{n}" for n in range(5)})
    for n in range(5):
        incident = AlertGroup.objects.get(key=f"g{n}").incident
        assert incident.level.key == ("orange" if n == 4 else "yellow")  # the worst alert of the group
        assert incident.title == f"CoreDown on a{n} (+1)"
        assert kinds(incident)[:2] == [TimelineKind.OPENED, TimelineKind.NOTIFIED]
        assert kinds(incident)[-1] == TimelineKind.ALERT
        assert incident.deadlines.exists()
        assert Notification.objects.filter(incident=incident).exists()
        assert incident.history.count() == 1
        assert set(Alert.objects.filter(group_key=f"g{n}").values_list("incident", flat=True)) == {incident.pk}
    alertmanager.integration.refresh_from_db()
    assert (alertmanager.integration.incidents_opened, alertmanager.integration.alerts_received) == (5, 10)
    assert list(_pending_groups()) == [(alertmanager.integration.pk, "g5")]  # left for the one-group path


def test_opening_more_new_groups_at_once_costs_no_more_queries(alertmanager, make_person):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_person("tech_group", "office")

    def queries_to_open(prefix, count):
        for n in range(count):
            alertmanager.client.post(AM, am_webhook(f"{prefix}{n}", [am_alert(f"{prefix}{n}")]), format="json")
        with CaptureQueriesContext(connection) as captured:
            _processed, opened = grouping.alerts_open_incidents(_pending_groups())
        assert len(opened) == count
        return len(captured)

    queries_to_open("warm", 1)  # the plan's cells and levels are read once per process
    # 27: 24 to open them, and the storm guard's three (lock the integration, its storm, its recent openings);
    # and 6 for the timeline's hash chain: a lock and a read of the heads per batch of entries (incidents/chain.py).
    assert queries_to_open("few", 2) == queries_to_open("many", 12) <= 33


def test_a_batch_takes_the_integrations_defaults_for_a_category_the_plan_lacks(alertmanager):
    alertmanager.client.post(AM, am_webhook("g1", [am_alert("a1", category="no-such-category")]), format="json")
    alertmanager.client.post(AM, am_webhook("g2", [am_alert("a2")]), format="json")

    _processed, opened = grouping.alerts_open_incidents(_pending_groups())

    assert len(opened) == 2
    incident = AlertGroup.objects.get(key="g1").incident
    assert incident.category.key == alertmanager.integration.default_category


def test_a_join_takes_at_most_its_limit_of_alerts_and_the_rest_waits_for_the_next_pass(alertmanager, monkeypatch):
    alertmanager("g1", am_alert("first"))
    alertmanager("g2", am_alert("first-2"))
    for n in range(3):
        alertmanager.client.post(AM, am_webhook("g1", [am_alert(f"more-{n}")]), format="json")
    alertmanager.client.post(AM, am_webhook("g2", [am_alert("more-2-0")]), format="json")
    monkeypatch.setattr(grouping, "JOIN_LIMIT", 2)

    processed, joined, left = grouping.alerts_join_open_incidents(_pending_groups())

    assert (processed, {key for _i, key in joined}, left) == (2, {"g1"}, set())  # g2's alert is beyond the limit
    processing.alerts_process_pending()
    assert not Alert.objects.filter(processed_at__isnull=True).exists()
    assert Incident.objects.count() == 2


def test_a_severe_alert_is_taken_before_older_mild_ones(alertmanager):
    for n in range(5):
        alertmanager.client.post(AM, am_webhook(f"mild{n}", [am_alert(f"m{n}", severity="info")]), format="json")
    alertmanager.client.post(AM, am_webhook("severe", [am_alert("s", severity="critical")]), format="json")
    groups, _waiting = processing.pending_groups()
    assert groups[0] == (alertmanager.integration.pk, "severe")
    assert [key for _i, key in groups[1:]] == [f"mild{n}" for n in range(5)]  # then oldest first
    processing.alerts_process_pending()
    first = Incident.objects.order_by("id").first()
    assert first.level.key == "orange" and first.title == "CoreDown on s"
