"""What monitoring says about one incident (alerts.selectors.monitoring_state), from the stored alerts."""

from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertStatus
from alerts.selectors import monitoring_state

pytestmark = pytest.mark.django_db

_n = count(1)


@pytest.fixture
def store(make_integration):
    integrations = {}

    def alert(incident, fingerprint, status=AlertStatus.FIRING, *, at, source="prometheus", labels=None,
              summary="", ends_at=None):
        if source not in integrations:
            integrations[source] = make_integration(name=source)[0]
        return Alert.objects.create(
            integration=integrations[source], group_key="g", fingerprint=fingerprint, delivery_key=f"d{next(_n)}",
            status=status, starts_at=at, ends_at=ends_at, summary=summary or f"alert {fingerprint}",
            category_key="system", level_key="yellow", labels=labels if labels is not None else {"alertname": "NodeDown"},
            received_at=ends_at or at, incident=incident, processed_at=ends_at or at)

    return alert


def test_an_acknowledgement_at_the_source_changes_nothing_and_a_nameless_alert_goes_by_its_summary(
        open_incident, store):
    incident = open_incident()
    at = timezone.now() - timedelta(minutes=10)
    store(incident, "a", at=at)
    store(incident, "a", AlertStatus.ACKNOWLEDGED, at=at + timedelta(minutes=1))
    store(incident, "e", at=at + timedelta(minutes=2), source="events", labels={}, summary="Disk full on db1")
    state = monitoring_state(incident)
    assert (state.state, state.since) == ("firing", at)
    assert [(s.integration, s.name, s.count) for s in state.sources] == [
        ("events", "Disk full on db1", 1), ("prometheus", "NodeDown", 1)]


def test_alerts_of_another_incident_do_not_count_and_a_later_firing_beats_an_earlier_resolution(
        open_incident, store):
    incident, other = open_incident(), open_incident()
    at = timezone.now() - timedelta(minutes=30)
    store(other, "x", at=at)
    store(incident, "a", at=at)
    store(incident, "a", AlertStatus.RESOLVED, at=at, ends_at=at + timedelta(minutes=5))
    assert monitoring_state(incident).state == "recovered"
    store(incident, "a", at=at + timedelta(minutes=20))  # fired again
    state = monitoring_state(incident)
    assert (state.state, state.since) == ("firing", at + timedelta(minutes=20))
    assert monitoring_state(open_incident()) is None
