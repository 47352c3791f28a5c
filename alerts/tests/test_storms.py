"""The storm guard: past an integration's threshold, new alert groups join one storm incident, not a page each."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import grouping, processing
from alerts.models import Alert, AlertGroup, AlertStorm
from alerts.splitting import alert_group_split_out
from alerts.storms import storms_end_quiet
from core.errors import Refused
from incidents.models import Incident, TimelineKind
from notifications.models import Notification

from .conftest import am_alert, am_webhook

pytestmark = pytest.mark.django_db

AM = "/api/v1/alerts/alertmanager"


@pytest.fixture
def source(minimal_plan_version, make_integration, bearer):
    """An Alertmanager integration whose storm guard trips past 3 new incidents a minute."""
    integration, token = make_integration(name="prometheus-prod", default_category="network", storm={
        "storm_threshold": 3, "storm_window": timedelta(seconds=60), "storm_quiet": timedelta(minutes=10)})
    client = bearer(token)

    def post(group_key, *alerts, process=True):
        response = client.post(AM, am_webhook(group_key, list(alerts) or [am_alert(f"fp-{group_key}")]), format="json")
        assert response.status_code == 202, response.content
        if process:
            processing.alerts_process_pending()
    post.integration = integration
    return post


def _storm_entries(incident, key):
    return [e.detail for e in incident.timeline.filter(kind=TimelineKind.ALERT) if key in e.detail]


def test_past_the_threshold_new_groups_join_one_storm_incident_for_the_integration(source):
    for n in range(8):
        source(f"g{n}", process=False)
    processing.alerts_process_pending()
    storm = AlertStorm.objects.get()
    own = Incident.objects.exclude(pk=storm.incident_id)
    assert own.count() == 3
    assert storm.incident.title == "Alert storm from prometheus-prod"
    assert storm.incident.category.key == "network"  # the integration's, whatever the alerts said
    assert (storm.groups_joined, storm.alerts_joined) == (5, 5)
    assert AlertGroup.objects.filter(storm=storm, incident=storm.incident).count() == 5
    assert set(Alert.objects.filter(group_key__in=[g.key for g in storm.groups.all()])
               .values_list("incident", flat=True)) == {storm.incident_id}
    [started] = _storm_entries(storm.incident, "storm_started")
    assert started["threshold"] == 3 and started["opened_recently"] == 3
    assert sum(e["groups_joined"] for e in _storm_entries(storm.incident, "groups_joined")) == 5
    assert not Alert.objects.filter(processed_at__isnull=True).exists()


def test_a_storm_pages_people_once_not_once_per_group(source, make_person):
    responder = make_person("tech_group")
    for n in range(4):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    told = Notification.objects.filter(person=responder).count()
    assert told == 4  # three own incidents, and the storm's
    for n in range(4, 30):
        source(f"g{n}")
    assert Notification.objects.filter(person=responder).count() == told
    storm.refresh_from_db()
    assert storm.groups_joined == 27


def test_the_storm_takes_the_worst_level_seen_and_rises_with_it(source):
    for n in range(3):
        source(f"g{n}", am_alert(f"a{n}", severity="info"))
    source("g3", am_alert("a3", severity="warning"))
    storm = AlertStorm.objects.get()
    assert storm.incident.level.key == "yellow"
    source("g4", am_alert("a4", severity="critical"))
    storm.incident.refresh_from_db()
    assert storm.incident.level.key == "orange"
    change = storm.incident.timeline.get(kind=TimelineKind.LEVEL_CHANGED)
    assert "alert storm from prometheus-prod" in change.detail["reason"]


def test_alerts_of_a_joined_group_keep_going_to_the_storm_incident(source):
    for n in range(4):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    source("g3", am_alert("fp-g3"), am_alert("another"))
    assert Alert.objects.get(fingerprint="another").incident_id == storm.incident_id
    assert Incident.objects.count() == 4


def test_the_storm_ends_after_the_quiet_period_and_people_are_told_once_with_the_counts(source, make_person):
    responder = make_person("tech_group")
    for n in range(6):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    assert storms_end_quiet(now=timezone.now() + timedelta(minutes=9)) == 0
    assert storms_end_quiet(now=timezone.now() + timedelta(minutes=11)) == 1
    assert storms_end_quiet(now=timezone.now() + timedelta(minutes=12)) == 0
    storm.refresh_from_db()
    assert storm.ended_at is not None
    [ended] = _storm_entries(storm.incident, "storm_ended")
    assert (ended["storm_ended"], ended["groups_joined"], ended["count"]) == ("quiet", 3, 3)
    [over] = Notification.objects.filter(person=responder, event=f"storm-ended:{storm.pk}")
    assert "3" in over.body


def test_a_late_alert_of_the_storm_keeps_it_from_ending(source, time_machine):
    for n in range(4):
        source(f"g{n}")
    time_machine.move_to(timezone.now() + timedelta(minutes=8))
    source("g3", am_alert("fp-g3"), am_alert("late"))
    assert storms_end_quiet(now=timezone.now() + timedelta(minutes=3)) == 0
    assert storms_end_quiet(now=timezone.now() + timedelta(minutes=11)) == 1


def test_after_the_storm_and_its_window_new_groups_open_their_own_incidents_again(source):
    for n in range(5):
        source(f"g{n}")
    storms_end_quiet(now=timezone.now() + timedelta(minutes=11))
    from django.utils import timezone as tz

    AlertGroup.objects.update(opened_at=tz.now() - timedelta(minutes=5))  # the window has passed
    source("after")
    assert AlertGroup.objects.get(key="after").incident.title != "Alert storm from prometheus-prod"
    assert AlertStorm.objects.count() == 1


def test_the_one_group_path_goes_through_the_guard_too(source):
    for n in range(3):
        source(f"g{n}")
    source("late", process=False)
    grouping.alert_group_process(integration_id=source.integration.pk, group_key="late")
    group = AlertGroup.objects.get(key="late")
    assert group.storm is not None and group.incident_id == group.storm.incident_id


def test_a_guard_of_zero_lets_every_group_open_its_own_incident(minimal_plan_version, make_integration, bearer):
    _integration, token = make_integration(storm={"storm_threshold": 0})
    client = bearer(token)
    for n in range(25):
        client.post(AM, am_webhook(f"g{n}", [am_alert(f"a{n}")]), format="json")
    processing.alerts_process_pending()
    assert Incident.objects.count() == 25 and not AlertStorm.objects.exists()


def test_the_office_splits_a_group_out_into_its_own_incident(source, make_person):
    office = make_person("office")
    for n in range(5):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    group = AlertGroup.objects.get(key="g4")
    incident = alert_group_split_out(group=group, actor=office)
    group.refresh_from_db()
    assert group.incident == incident and group.storm == storm  # it remembers where it was
    assert incident.title == "CoreDown on fp-g4"
    split = incident.timeline.get(kind=TimelineKind.ALERT, detail__split_out_of=storm.incident_id)
    assert split.actor == office
    assert storm.incident.timeline.get(kind=TimelineKind.ALERT, detail__split_out_to=incident.pk).actor == office
    source("g4", am_alert("fp-g4"), am_alert("after-split"))
    assert Alert.objects.get(fingerprint="after-split").incident == incident


def test_only_those_who_coordinate_may_split_a_group_out(source, make_person):
    engineer = make_person("tech_group")
    for n in range(4):
        source(f"g{n}")
    with pytest.raises(Refused) as refused:
        alert_group_split_out(group=AlertGroup.objects.get(key="g3"), actor=engineer)
    assert refused.value.status_code == 403 and "Emergency office" in str(refused.value.message)


def test_a_group_that_is_not_in_a_storm_cannot_be_split_out(source, make_person):
    office = make_person("office")
    source("g0")
    with pytest.raises(Refused) as refused:
        alert_group_split_out(group=AlertGroup.objects.get(key="g0"), actor=office)
    assert refused.value.status_code == 409


def test_a_group_with_nothing_firing_is_not_split_out(source, make_person):
    office = make_person("office")
    for n in range(4):
        source(f"g{n}")
    source("g3", am_alert("fp-g3", status="resolved", starts="2024-05-01T08:00:00.123456789Z"))
    with pytest.raises(Refused, match="nothing of this alert group is firing"):
        alert_group_split_out(group=AlertGroup.objects.get(key="g3"), actor=office)


def test_the_storm_page_lists_its_groups_and_offers_the_split_to_the_office(source, make_person, client):
    office = make_person("office", language="en")
    for n in range(6):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    client.force_login(office)
    page = client.get(f"/alerts/storms/{storm.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alert storm from prometheus-prod" in html and html.count('class="storm-group"') == 3
    assert html.count("Split out into its own incident") == 3
    group = AlertGroup.objects.get(key="g5")
    answer = client.post(f"/alerts/storms/{storm.pk}/groups/{group.pk}/split/")
    group.refresh_from_db()
    assert answer.status_code == 302 and answer["Location"] == f"/incidents/{group.incident_id}/"


def test_the_storm_page_explains_why_an_engineer_cannot_split(source, make_person, client):
    engineer = make_person("tech_group", language="zh-hans")
    for n in range(4):
        source(f"g{n}")
    client.force_login(engineer)
    html = client.get(f"/alerts/storms/{AlertStorm.objects.get().pk}/").content.decode()
    assert "告警风暴" in html and "拆分" in html
    assert "Split out into its own incident" not in html and "<form method=\"post\" action=\"/alerts/storms" not in html


def test_the_api_reads_a_storm_and_splits_a_group(source, make_person, api_client_for):
    office = make_person("office")
    for n in range(5):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    api = api_client_for(office)
    body = api.get(f"/api/v1/alerts/storms/{storm.pk}/").json()
    assert body["integration"] == "prometheus-prod" and body["groups_joined"] == 2
    assert [g["key"] for g in body["groups"]] == ["g3", "g4"] and all(g["in_storm"] for g in body["groups"])
    assert body["groups"][0]["alerts"] == 1
    group = AlertGroup.objects.get(key="g4")
    answer = api.post(f"/api/v1/alerts/storms/{storm.pk}/groups/{group.pk}/split/")
    assert answer.status_code == 201
    assert Incident.objects.get(pk=answer.json()["incident"]).title == "CoreDown on fp-g4"
    again = api.post(f"/api/v1/alerts/storms/{storm.pk}/groups/{group.pk}/split/")
    assert again.status_code == 409
    assert api.post(f"/api/v1/alerts/storms/{storm.pk}/groups/99999/split/").status_code == 404
    assert api.get("/api/v1/alerts/storms/99999/").status_code == 404


def test_an_engineer_splitting_through_the_api_is_refused_with_403(source, make_person, api_client_for):
    engineer = make_person("tech_group")
    for n in range(4):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    group = AlertGroup.objects.get(key="g3")
    answer = api_client_for(engineer).post(f"/api/v1/alerts/storms/{storm.pk}/groups/{group.pk}/split/")
    assert answer.status_code == 403


def test_the_storm_incidents_page_links_to_the_storm_and_other_incidents_pages_do_not(source, make_person, client):
    office = make_person("office", language="en")
    for n in range(5):
        source(f"g{n}")
    storm = AlertStorm.objects.get()
    client.force_login(office)
    html = client.get(f"/incidents/{storm.incident_id}/").content.decode()
    assert f'href="/alerts/storms/{storm.pk}/"' in html and "2 more alert groups joined this incident" in html
    other = Incident.objects.exclude(pk=storm.incident_id).first()
    assert "/alerts/storms/" not in client.get(f"/incidents/{other.pk}/").content.decode()
