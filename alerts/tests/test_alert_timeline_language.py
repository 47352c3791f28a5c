"""An alert reaching an incident through the real intake reads in the reader's language (incidents.timeline_text).

Here and not in incidents/tests: the intake is a higher layer than incidents.
"""

import re

import pytest
from django.utils import translation

from alerts import processing
from incidents.models import Incident, TimelineKind
from incidents.timeline_text import actor_text, entry_text

from .conftest import am_alert, am_webhook

pytestmark = pytest.mark.django_db

RAW_KEYS = ["resolved_at_source", "opened_incident", "not_marked_recovered", "fingerprint", "starts_at",
            "firing", "Fenghuo"]


@pytest.fixture
def post(shipped_plan, make_integration, bearer):
    _integration, token = make_integration(name="prometheus-prod", default_category="system")
    client = bearer(token)

    def send(*alerts):
        response = client.post("/api/v1/alerts/alertmanager", am_webhook("g1", list(alerts)), format="json")
        assert response.status_code == 202, response.content
        processing.alerts_process_pending()
    return send


def test_an_alert_from_the_intake_reads_in_chinese_with_its_name_status_and_labels(post):
    post(am_alert("a1", severity="warning", instance="db-01"))
    post(am_alert("a1", severity="warning", instance="db-01"), am_alert("a2", level="red", instance="db-02"))
    post(am_alert("a1", status="resolved", severity="warning", instance="db-01"),
         am_alert("a2", status="resolved", level="red", instance="db-02"))
    incident = Incident.objects.get()
    entries = list(incident.timeline.select_related("actor", "incident"))
    alerts = [e for e in entries if e.kind == TimelineKind.ALERT]
    assert len(alerts) >= 3
    with translation.override("zh-hans"):
        first = entry_text(alerts[0])
        assert first.startswith("监控告警：监控集成：prometheus-prod") and "开启了事件：是" in first
        assert "CoreDown on a1（告警中" in first and "instance=db-01" in first
        assert "已恢复" in entry_text(alerts[-1]) or any("已恢复" in entry_text(e) for e in alerts[1:])
        for entry in entries:
            text, actor = entry_text(entry), actor_text(entry)
            assert not [key for key in RAW_KEYS if key in text], (entry.kind, text)
            assert actor in {"系统", "prometheus-prod"}
        raised = next(e for e in entries if e.kind == TimelineKind.LEVEL_CHANGED)
        # The reason was written in the worker's language (English here): the reader gets it in Chinese.
        assert "monitoring alert" in raised.detail["reason"]
        assert "monitoring alert" not in entry_text(raised) and "prometheus-prod" in entry_text(raised)
        assert "方式：由监控告警触发" in entry_text(raised)  # not "by the plan's time limit"
    with translation.override("en"):
        for entry in entries:
            text = entry_text(entry)
            assert not re.search(r"[\u3400-\u9fff]", text), (entry.kind, text)
            assert not [key for key in RAW_KEYS if key in text], (entry.kind, text)
        assert "Firing" in entry_text(alerts[0])
