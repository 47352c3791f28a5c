"""The drill and readiness pages in a real browser, in English and in Chinese, on a phone and a desktop:
the office schedules a drill and starts it, the striped drill banner shows on the drill and on its incident,
ending it shows the scorecard; the readiness page shows who attended training and who is overdue.
"""

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import browser as b

# Playwright's sync API runs an event loop in this thread; the test's ORM calls are plain synchronous ones.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"

TEXTS = {
    "en-US": {"mark": "DRILL", "scheduled": "Drill scheduled.", "start": "Start the drill now", "end": "End the drill",
              "scorecard": "Scorecard", "missed": "missed", "never": "never", "overdue": "training",
              "title": "Backbone down (EN)"},
    "zh-CN": {"mark": "演练", "scheduled": "演练已安排。", "start": "立即开始演练", "end": "结束演练",
              "scorecard": "评分表", "missed": "已超时", "never": "从未", "overdue": "培训",
              "title": "骨干线路中断（中文）"},
}


@pytest.fixture
def setting_up(live_server, make_person, settings):
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN

    settings.ESCALATION_ETA_TASKS = False  # no worker runs here: the office starts and ends the drill itself
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    office = make_person("office", username="office", full_name="Office Wu")
    make_person("network_maintainer", username="maintainer", full_name="Maintainer Li")
    return office


@pytest.mark.parametrize("locale", list(TEXTS))
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_office_schedules_starts_and_ends_a_drill_and_reads_its_scorecard(live_server, setting_up, locale, device):
    from drills.models import Drill

    texts = TEXTS[locale]
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            page = b.signed_in_page(chromium, live_server.url, "office", PASSWORD, locale=locale,
                                    **(b.PHONE if device == "phone" else b.DESKTOP))
            page.goto(f"{live_server.url}/drills/")
            page.fill("#id_title", texts["title"])
            page.select_option("#id_category", "network")
            page.select_option("#id_level", "red")
            starts = timezone.localtime(timezone.now() + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
            page.fill("#id_starts_at", starts)
            page.fill("#id_clock", "3600")  # the plan's 30 minutes on site are half a real second
            page.fill("#id_participants", "maintainer")
            page.click("form.drill-form button[type=submit]")
            page.wait_for_selector(".drill-banner")
            assert texts["scheduled"] in page.inner_text(".messages")
            banner = page.locator(".drill-banner")
            assert texts["mark"] in banner.inner_text()
            assert "repeating-linear-gradient" in banner.evaluate("e => getComputedStyle(e).backgroundImage")
            # Nothing sideways on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1

            page.click(f"text={texts['start']}")
            page.wait_for_selector("[data-drill-status=running]")
            drill = Drill.objects.get(title=texts["title"])
            page.goto(f"{live_server.url}/incidents/{drill.incident_id}/")
            assert texts["mark"] in page.inner_text(".drill-banner")

            page.goto(f"{live_server.url}/drills/{drill.pk}/")
            page.fill("#observations", "Head of maintenance did not answer.")
            page.click("button[data-action=observe]")
            page.wait_for_selector(".messages")
            time.sleep(1)  # every arrival now due: the office ends the drill before anyone arrived
            page.click("button[data-action=end]")
            page.wait_for_selector(".scorecard")
            assert texts["scorecard"] in page.inner_text("#scorecard-heading")
            assert texts["missed"] in page.inner_text(".scorecard-items")
            assert page.locator("tr[data-requirement=on_site]").count() == 4
            b.screenshot(page, f"drill-scorecard-{locale}-{device}")
            assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
        finally:
            chromium.close()


@pytest.mark.parametrize("locale", list(TEXTS))
def test_the_readiness_page_shows_training_attendance_and_who_is_overdue(live_server, setting_up, locale):
    from drills import services

    texts = TEXTS[locale]
    services.training_create(actor=setting_up, title="Failover", held_at=timezone.now() - timedelta(days=1),
                             attendees=["maintainer"])
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            page = b.signed_in_page(chromium, live_server.url, "office", PASSWORD, locale=locale, **b.PHONE)
            page.goto(f"{live_server.url}/readiness/")
            maintainer = page.locator("tr[data-person=maintainer]")
            assert maintainer.locator("[data-last-training]").inner_text().strip() == \
                timezone.localdate(timezone.now() - timedelta(days=1)).isoformat()
            office = page.locator("tr[data-person=office]")
            assert texts["never"] in office.inner_text() and texts["overdue"] in office.inner_text()
            assert office.get_attribute("data-overdue") == "drill training"
            with page.expect_download() as download:
                page.click("a[href^='/readiness.csv']")
            assert download.value.suggested_filename.startswith("readiness-")
            b.screenshot(page, f"readiness-{locale}-phone")
            assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
        finally:
            chromium.close()
