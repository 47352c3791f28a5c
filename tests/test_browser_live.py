"""Live pages in a real browser, in Chinese and in English: the incident list shows a fault another
session logs, the bell and the tab title count a new notification, and the notification list tells
"I have read this" (answers the message) from "I am taking this on" (takes the incident on).

Debian's chromium through Playwright's sync API against pytest-django's live server.
"""

import os

import pytest

from tests import browser as b
from tests.test_browser_flow import log_fault_in_the_browser

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are plain
# synchronous ones, so Django's async guard is a false alarm here (this module only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en-US": {"read": "I have read this", "take_on": "I am taking this on", "confirmed": "Read and confirmed at",
              "all": "All incidents", "taken": "You have taken the incident on."},
    "zh-CN": {"read": "我已阅读", "take_on": "由我接手处置", "confirmed": "确认阅读",
              "all": "全部事件", "taken": None},
}


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_list_and_the_bell_update_live_and_reading_is_not_taking_on(live_server, make_person, shipped_plan,
                                                                        settings, locale):
    from incidents.models import Incident
    from incidents.services import log_fault
    from notifications.models import Notification

    settings.LIVE_POLL_SECONDS = 0.5  # the live server runs in this process: its pages poll twice a second
    words = WORDS[locale]
    supervisor = make_person("ops_supervisor", username="zhou", full_name="Zhou Supervisor")
    make_person("duty_staff", username="duty")
    base = live_server.url

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            page = b.signed_in_page(chromium, base, "zhou", "pw-for-tests-only", locale=locale)
            page.goto(f"{base}/incidents/")
            assert words["all"] in page.locator("h1").inner_text()
            assert page.locator("[data-bell-count]").inner_text() == "0"
            page.evaluate("() => { window.notReloaded = true; }")

            # Another session logs a fault: it appears in the open list, and the bell and title count it.
            duty = b.signed_in_page(chromium, base, "duty", "pw-for-tests-only", locale=locale)
            first_id = log_fault_in_the_browser(duty, base)
            assert first_id is not None
            page.wait_for_selector(f'#incident-rows a[href="/incidents/{first_id}/"]', timeout=5000)
            page.wait_for_function("() => document.querySelector('[data-bell-count]').textContent === '1'",
                                   timeout=5000)
            page.wait_for_function("() => document.title.startsWith('(1) ')", timeout=5000)
            assert page.evaluate("() => window.notReloaded") is True, "the list must update without a reload"
            assert page.locator(f'#incident-rows a[href="/incidents/{first_id}/"]').is_visible()

            # The notification list, open: a second notification appears in it without a reload.
            page.goto(f"{base}/notifications/")
            page.evaluate("() => { window.notReloaded = true; }")
            second = log_fault(reporter=None, category="system", level="yellow", title="Front-end transactions fail")
            second_n = Notification.objects.get(person=supervisor, incident=second)
            first_n = Notification.objects.get(person=supervisor, incident_id=first_id)
            page.wait_for_selector(f'[data-notification="{second_n.pk}"]', timeout=5000)
            page.wait_for_function("() => document.title.startsWith('(2) ')", timeout=5000)
            assert page.evaluate("() => window.notReloaded") is True
            item = page.locator(f'[data-notification="{second_n.pk}"]')
            assert item.get_by_role("button", name=words["read"]).is_visible()
            assert item.get_by_role("button", name=words["take_on"]).is_visible()
            b.screenshot(page, f"notification-list-{locale[:2]}")

            # "I have read this": the message is answered, the incident is not taken on.
            page.locator(f'[data-notification="{first_n.pk}"]').get_by_role("button", name=words["read"]).click()
            page.wait_for_load_state()
            first_item = page.locator(f'[data-notification="{first_n.pk}"]')
            assert words["confirmed"] in first_item.inner_text()
            assert first_item.get_by_role("button", name=words["read"]).count() == 0
            assert page.locator("[data-bell-count]").inner_text() == "1"
            assert Incident.objects.get(pk=first_id).acknowledged_at is None

            # "I am taking this on": the incident is taken on, and the message is read by that.
            page.locator(f'[data-notification="{second_n.pk}"]').get_by_role("button", name=words["take_on"]).click()
            page.wait_for_url(f"{base}/incidents/{second.pk}/**")
            if words["taken"]:
                assert words["taken"] in page.locator(".messages").inner_text()
            second.refresh_from_db()
            assert second.status == "acknowledged" and second.acknowledged_by == supervisor
            second_n.refresh_from_db()
            assert second_n.read_at is not None and second_n.acknowledged_at is not None
            assert page.locator("[data-bell-count]").inner_text() == "0"
            assert not page.title().startswith("(")
        finally:
            chromium.close()


def test_a_hidden_tab_stops_polling_and_polls_at_once_when_shown_again(live_server, make_person, shipped_plan,
                                                                       settings):
    settings.LIVE_POLL_SECONDS = 0.3
    make_person("ops_supervisor", username="zhou")
    base = live_server.url

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            page = b.signed_in_page(chromium, base, "zhou", "pw-for-tests-only")
            polls = []
            page.on("request", lambda request: polls.append(request.url) if "/notifications/bell/" in request.url
                    else None)
            page.goto(f"{base}/incidents/")
            page.wait_for_timeout(1200)
            assert polls, "a visible tab polls the bell"
            page.evaluate("""() => {
                Object.defineProperty(document, "hidden", {value: true, configurable: true});
                document.dispatchEvent(new Event("visibilitychange"));
            }""")
            page.wait_for_timeout(400)  # a poll already on its way may still land
            hidden_from = len(polls)
            page.wait_for_timeout(1500)
            assert len(polls) == hidden_from, "a hidden tab does not poll"
            page.evaluate("""() => {
                Object.defineProperty(document, "hidden", {value: false, configurable: true});
                document.dispatchEvent(new Event("visibilitychange"));
            }""")
            page.wait_for_timeout(250)
            assert len(polls) > hidden_from, "shown again, it polls at once"
        finally:
            chromium.close()
