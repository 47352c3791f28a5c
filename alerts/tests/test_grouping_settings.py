"""An integration's own grouping: which labels make one incident, and for how long an incident takes alerts in."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts import processing
from alerts.models import Alert, validate_label_names
from incidents.models import Incident

from .conftest import am_alert, am_webhook

pytestmark = pytest.mark.django_db

AM = "/api/v1/alerts/alertmanager"


@pytest.fixture
def post_to(minimal_plan_version, make_integration, bearer):
    def make(**grouping):
        _integration, token = make_integration(name="prometheus-prod", **grouping)
        client = bearer(token)

        def post(group_key, *alerts):
            assert client.post(AM, am_webhook(group_key, list(alerts)), format="json").status_code == 202
            processing.alerts_process_pending()
        return post
    return make


def test_alerts_that_alertmanager_split_share_one_incident_when_the_grouping_labels_agree(post_to):
    post = post_to(group_by=["alertname", "site"])
    post("{}:{instance=a}", am_alert("a", alertname="LinkDown", site="shanghai", instance="a"))
    post("{}:{instance=b}", am_alert("b", alertname="LinkDown", site="shanghai", instance="b"))
    post("{}:{instance=c}", am_alert("c", alertname="LinkDown", site="beijing", instance="c"))
    assert Incident.objects.count() == 2
    shanghai = Alert.objects.get(fingerprint="a").incident
    assert Alert.objects.get(fingerprint="b").incident == shanghai
    assert Alert.objects.get(fingerprint="c").incident != shanghai


def test_without_grouping_labels_the_sources_own_groups_stand(post_to):
    post = post_to()
    post("g1", am_alert("a", alertname="LinkDown", site="shanghai"))
    post("g2", am_alert("b", alertname="LinkDown", site="shanghai"))
    assert Incident.objects.count() == 2


def test_past_the_grouping_window_the_next_alert_of_the_group_opens_a_new_incident(post_to, time_machine):
    post = post_to(group_window=timedelta(minutes=30))
    post("g1", am_alert("a"))
    first = Incident.objects.get()
    time_machine.move_to(timezone.now() + timedelta(minutes=20))
    post("g1", am_alert("b"))
    assert Alert.objects.get(fingerprint="b").incident == first
    time_machine.move_to(timezone.now() + timedelta(minutes=15))
    post("g1", am_alert("c"))
    later = Alert.objects.get(fingerprint="c").incident
    assert later != first and Incident.objects.count() == 2
    first.refresh_from_db()
    assert first.is_open  # people close it; the window only stops it taking in new alerts


def test_without_a_window_an_open_incident_takes_its_groups_alerts_for_as_long_as_it_is_open(post_to, time_machine):
    post = post_to()
    post("g1", am_alert("a"))
    time_machine.move_to(timezone.now() + timedelta(days=3))
    post("g1", am_alert("b"))
    assert Incident.objects.count() == 1


@pytest.mark.parametrize("value", ["alertname", [""], ["site", "site"], [1], [f"l{n}" for n in range(11)]])
def test_a_grouping_is_a_short_list_of_distinct_label_names(value):
    with pytest.raises(ValidationError):
        validate_label_names(value)
