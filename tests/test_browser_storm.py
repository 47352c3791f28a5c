"""The alert storm page in a real browser: the office sees the storm's groups and splits one out, in both languages."""

import os
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from alerts import processing
from alerts.integrations import integration_create
from alerts.models import AlertGroup, AlertStorm
from alerts.tests.conftest import am_alert, am_webhook
from tests import browser as b

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


def _storm_of_six_groups():
    _integration, token = integration_create(name="prometheus-core", kind="alertmanager", default_category="network",
                                             storm={"storm_threshold": 3, "storm_window": timedelta(minutes=1)})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for n in range(6):
        answer = client.post("/api/v1/alerts/alertmanager", am_webhook(f"switch-{n}", [am_alert(f"port-{n}")]),
                             format="json")
        assert answer.status_code == 202
    processing.alerts_process_pending()
    return AlertStorm.objects.get()


@pytest.mark.parametrize(("locale", "language", "view", "texts"), [
    ("zh-CN", "zh-hans", b.PHONE, {"title": "来自 prometheus-core 的告警风暴", "split": "拆分为单独的事件",
                                   "done": "该告警组已拆分为单独的事件"}),
    ("en-US", "en", b.DESKTOP, {"title": "Alert storm from prometheus-core", "split": "Split out into its own incident",
                                "done": "The group has its own incident now"}),
])
def test_the_office_reads_a_storm_and_splits_a_group_out(live_server, minimal_plan_version, make_person,
                                                         locale, language, view, texts):
    make_person("office", username="office", language=language)
    storm = _storm_of_six_groups()
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            page = b.signed_in_page(chromium, live_server.url, "office", PASSWORD, locale=locale, **view)
            page.goto(f"{live_server.url}/alerts/storms/{storm.pk}/")
            assert texts["title"] in page.locator("h1").inner_text()
            rows = page.locator("tr.storm-group")
            assert rows.count() == 3
            assert page.locator(".storm-groups").inner_text() == "3"
            if view is b.PHONE:
                assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
            b.screenshot(page, f"storm-page-{language}")
            rows.nth(0).get_by_role("button", name=texts["split"]).click()
            page.wait_for_url(lambda url: "/incidents/" in url)
            assert texts["done"] in page.locator(".messages").inner_text()
        finally:
            chromium.close()
    group = AlertGroup.objects.get(key="switch-3")
    assert group.incident_id != storm.incident_id and group.storm_id == storm.pk
