"""The evidence pack holds the structured review and the remediation actions (issue 16, items 1, 2 through item 6)."""

import io
from datetime import timedelta

import pypdf
import pytest
from django.utils import timezone

from incidents import services as incident_services
from reviews import services as reviews

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(open_incident, make_person):
    office = make_person("office", username="office-zhang", full_name="Office Zhang")
    tech = make_person("tech_group", username="tech-wang", full_name="Tech Wang")
    incident = open_incident(level="yellow", category="system")
    incident = incident_services.acknowledge(incident, actor=tech)
    incident = incident_services.check_in(incident, actor=tech)
    incident = incident_services.mark_recovered(incident, actor=tech, note="queries answer again")
    incident = incident_services.resolve(incident, actor=tech, summary="Restarted the credit query service.")
    reviews.review_update(incident, actor=office, changes={
        "root_cause": "连接池耗尽 connection pool exhausted", "lessons": "Watch the pool's size."})
    action = reviews.action_create(incident, actor=office, title="扩大连接池 enlarge the pool", owner="tech-wang",
                                   due_at=timezone.now() + timedelta(days=7))
    reviews.action_done(action, actor=tech, evidence="变更单 CR-1024")
    return incident, office


@pytest.mark.parametrize("language, headings", [
    ("en", ("Review", "Root cause", "Remediation actions", "Time to acknowledge")),
    ("zh-hans", ("整改措施",)),
])
def test_the_pack_holds_the_review_and_the_remediation_actions(reviewed, api_client_for, language, headings):
    incident, office = reviewed
    office.language = language
    office.save(update_fields=["language"])
    response = api_client_for(office).get(f"/api/v1/incidents/{incident.pk}/export", {"format": "pdf"})
    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    for expected in (*headings, "连接池耗尽 connection pool exhausted", "扩大连接池 enlarge the pool", "Tech Wang",
                     "变更单 CR-1024"):
        assert expected in text, expected
