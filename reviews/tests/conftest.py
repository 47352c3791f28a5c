"""A resolved incident of the minimal plan, and the people of its roles: the office writes the review, the
leadership group approves it (the plan's ``review`` and ``approve_review`` authorities)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from incidents import services as incident_services
from notifications.tests.receivers import start_smtp


@pytest.fixture
def people(make_person):
    return SimpleNamespace(
        office=make_person("office", username="office-zhang", language="en"),
        leader=make_person("leadership", username="leader-li", language="en"),
        tech=make_person("tech_group", username="tech-wang", language="en"),
        nobody=make_person(username="no-role"),
    )


@pytest.fixture
def resolve():
    """resolve(incident, by=person) → the incident taken through acknowledge, check-in, recovered and resolved."""

    def run(incident, *, by, summary="Restarted the credit query service."):
        incident = incident_services.acknowledge(incident, actor=by)
        incident = incident_services.check_in(incident, actor=by)
        incident = incident_services.mark_recovered(incident, actor=by, note="queries answer again")
        return incident_services.resolve(incident, actor=by, summary=summary)

    return run


@pytest.fixture
def resolved(open_incident, people, resolve):
    """A system/yellow incident, resolved by the technical group (review drafted by then)."""
    return resolve(open_incident(level="yellow", category="system"), by=people.tech)


@pytest.fixture
def soon():
    return lambda **delta: timezone.now() + timedelta(**(delta or {"days": 7}))


@pytest.fixture
def smtp(settings):
    controller, sink = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    yield sink
    controller.stop()
