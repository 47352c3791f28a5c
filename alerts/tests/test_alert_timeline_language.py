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


STORM_KEYS = ["storm_started", "storm_ended", "groups_joined", "split_out_to", "split_out_of", "quiet_seconds",
              "window_seconds", "opened_recently", "quiet", "Fenghuo"]


def test_an_alert_storm_its_split_and_its_end_read_in_each_language(minimal_plan_version, make_integration, bearer,
                                                                    make_person):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import AlertGroup, AlertStorm
    from alerts.splitting import alert_group_split_out
    from alerts.storms import storms_end_quiet
    from notifications.models import Notification

    _integration, token = make_integration(name="prometheus-prod", default_category="network", storm={
        "storm_threshold": 3, "storm_window": timedelta(seconds=60), "storm_quiet": timedelta(minutes=10)})
    client = bearer(token)
    zhang = make_person("tech_group", username="zhang", language="zh-hans")
    office = make_person("office", username="wang")
    for n in range(6):
        assert client.post("/api/v1/alerts/alertmanager", am_webhook(f"g{n}", [am_alert(f"fp-g{n}")]),
                           format="json").status_code == 202
    processing.alerts_process_pending()
    storm = AlertStorm.objects.get()
    alert_group_split_out(group=AlertGroup.objects.get(key="g5"), actor=office)
    with translation.override("en"):  # the worker speaks English; zhang reads Chinese
        assert storms_end_quiet(now=timezone.now() + timedelta(minutes=11)) == 1
    entries = list(storm.incident.timeline.select_related("actor", "incident"))
    with translation.override("zh-hans"):
        text = "\n".join(entry_text(e) for e in entries)
        assert "告警风暴：已开始" in text and "告警风暴：已结束" in text and "内没有新告警" in text
        assert "拆分为事件 #" in text
        assert not [key for key in STORM_KEYS if key in text], text
    with translation.override("en"):
        text = "\n".join(entry_text(e) for e in entries)
        assert "Alert storm: started: more than 3 new incidents within 1 minute" in text
        assert "Alert storm: over: no new alert for 10 minutes" in text and "Split out: into incident #" in text
        assert not [key for key in STORM_KEYS if key in text] and not re.search(r"[\u3400-\u9fff]", text), text
    over = Notification.objects.get(person=zhang, event=f"storm-ended:{storm.pk}")
    assert "告警风暴已结束" in over.body and "alert storm" not in over.body.lower()
    with translation.override("en"):
        assert "The alert storm from prometheus-prod is over" in over.reader_body
