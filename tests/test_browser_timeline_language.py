"""The incident page's timeline in a real browser, in Chinese and in English: what the system wrote reads in the
reader's language, with "System" / "系统" where Fenghuo acted and never a raw key (incidents/timeline_text.py).

Monitoring opens the incident through the real intake, a person escalates it, and a worse alert raises it again.
"""

import os

import pytest
from django.db import connections
from rest_framework.test import APIClient

from tests import browser as b

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop in this thread; the ORM calls stay sync

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
RAW = ["Fenghuo", "resolved_at_source", "opened_incident", "not_marked_recovered", "fingerprint", "starts_at",
       "plan_version", "lateness_seconds", "deadlines_met", "approver_role", "reported_to", "level_changed",
       "duty_staff", "tech_group", "system_technicians", "ops_supervisor", "alertname=", "True", "False", "None"]


def am_alert(fingerprint, *, status="firing", **labels):
    labels.setdefault("alertname", "CoreDown")
    return {"status": status, "labels": labels, "annotations": {"summary": f"Core banking down on {fingerprint}"},
            "startsAt": "2024-05-01T08:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-01T09:00:00Z",
            "generatorURL": "http://prometheus/graph", "fingerprint": fingerprint}


def send(client, *alerts):
    from alerts import processing

    body = {"version": "4", "groupKey": "g1", "truncatedAlerts": 0, "status": "firing", "receiver": "fenghuo",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "alerts": list(alerts)}
    assert client.post("/api/v1/alerts/alertmanager", body, format="json").status_code == 202
    processing.alerts_process_pending()


def timeline_of(page):
    # The timeline may be folded on a phone: open it, the text is what a reader sees once they do.
    page.evaluate("() => document.querySelectorAll('#timeline details').forEach(d => d.open = true)")
    return page.locator("#timeline").inner_text(), page.locator("#timeline .actor").all_inner_texts()


def test_the_timeline_after_an_alert_and_escalations_reads_in_chinese_and_in_english(live_server, make_person):
    from alerts.integrations import integration_create
    from incidents import services
    from incidents.models import Incident
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN

    load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    office = make_person("office", "leadership", username="office", full_name="Office Li")
    make_person("system_technicians", username="tech")
    _integration, token = integration_create(name="prometheus-prod", kind="alertmanager")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    send(client, am_alert("a1", severity="warning", instance="db-01"))
    incident = Incident.objects.get()
    services.escalate(incident, level_key="orange", actor=office, reason="Branches cannot open accounts.")
    send(client, am_alert("a1", severity="warning", instance="db-01"), am_alert("a2", level="red", instance="db-02"))
    incident.refresh_from_db()
    assert incident.level.key == "red"
    base = live_server.url

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            chinese = b.signed_in_page(chromium, base, "office", PASSWORD, locale="zh-CN")
            chinese.goto(f"{base}/incidents/{incident.pk}/")
            text, actors = timeline_of(chinese)
            b.screenshot(chinese, "timeline-language-zh")
            assert "时间线" in text and "监控告警" in text and "监控集成" in text
            assert "特别严重预警（一级）" in text and "告警中" in text and "instance=db-02" in text
            assert "由监控告警触发" in text and "prometheus-prod" in text
            assert "系统" in actors and "prometheus-prod" in actors and "Office Li" in actors
            assert [raw for raw in RAW if raw in text] == []
            assert "by the plan" not in text and "Monitoring" not in text and "Level" not in text

            english = b.signed_in_page(chromium, base, "office", PASSWORD, locale="en-US", **b.PHONE)
            english.goto(f"{base}/incidents/{incident.pk}/")
            text, actors = timeline_of(english)
            b.screenshot(english, "timeline-language-en")
            assert "Timeline" in text and "Monitoring alert" in text and "Monitoring integration" in text
            assert "Most severe (level 1)" in text and "Firing" in text and "by a person" in text
            assert "by a monitoring alert" in text and "monitoring alert from prometheus-prod" in text
            assert "System" in actors and "prometheus-prod" in actors and "Office Li" in actors
            assert [raw for raw in RAW if raw in text] == []
            assert "监控" not in text and "系统" not in actors
        finally:
            chromium.close()
            connections.close_all()


def test_a_notification_reads_in_the_browsers_language_whatever_it_was_written_in(live_server, make_person):
    from incidents import services
    from notifications.models import Notification
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN

    load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    make_person("system_technicians", username="tech")  # no language chosen: the browser's is used
    services.log_fault(reporter=None, category="system", level="yellow", title="Savings host slow")
    stored = Notification.objects.get(person__username="tech")
    assert "较重预警" in stored.title  # the copy written in the site's language when it was sent
    base = live_server.url

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            english = b.signed_in_page(chromium, base, "tech", PASSWORD, locale="en-US", **b.PHONE)
            english.goto(f"{base}/notifications/")
            text = english.locator("main").inner_text()
            b.screenshot(english, "notification-language-en")
            assert "Serious (level 3) · System · #" in text and "Acknowledge and respond." in text
            assert "较重预警" not in text and "确认" not in text

            chinese = b.signed_in_page(chromium, base, "tech", PASSWORD, locale="zh-CN")
            chinese.goto(f"{base}/notifications/")
            text = chinese.locator("main").inner_text()
            b.screenshot(chinese, "notification-language-zh")
            assert "较重预警（三级） · 系统 · #" in text and "Acknowledge and respond" not in text
        finally:
            chromium.close()
            connections.close_all()
