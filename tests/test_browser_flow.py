"""The office's flow in a real browser: a fault appears on an open dashboard and sounds the alarm,
the timer raises it and the dashboard follows, a leader approves on a phone, the office resolves it.

Debian's chromium through Playwright's sync API against pytest-django's live server.
"""

import os
import time

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from plan.tests.documents import fast_plan_text
from tests import browser as b

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are still
# plain synchronous ones, so Django's async guard is a false alarm here (this module only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


def log_fault_in_the_browser(page, base_url):
    """Duty staff log the fault on /incidents/new/. Returns the new incident's id, or None if the form is absent."""
    from incidents.models import Incident

    before = Incident.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = page.goto(f"{base_url}/incidents/new/")
    if response.status != 200 or not page.locator("form [name=title]").count():
        return None
    for name, value in (("category", "system"), ("level", "yellow")):
        choice = page.locator(f"[name={name}]")
        if choice.first.evaluate("el => el.tagName") == "SELECT":
            choice.first.select_option(value)
        else:
            page.locator(f"[name={name}][value={value}]").check()
    page.fill("[name=title]", "Savings host transactions slow")
    if page.locator("[name=description]").count():
        page.fill("[name=description]", "Main branch transactions slow since 09:10")
    page.locator("form:has([name=title]) [type=submit]:not([name=preview])").last.click()
    page.wait_for_url(lambda url: "/incidents/new/" not in url)
    return Incident.objects.filter(pk__gt=before).values_list("id", flat=True).first()


def alarm(page):
    return page.evaluate("() => ({...window.fenghuoAlarm})")


def test_fault_sounds_on_the_dashboard_escalates_is_approved_on_a_phone_and_resolved(
        live_server, make_person, settings):
    from notifications.models import Announcement
    from escalation import services as engine
    from incidents import services
    from incidents.models import Incident, PlanStatus
    from plan.services import load_plan_text

    settings.ESCALATION_ETA_TASKS = False  # the test sweeps itself; no worker runs here
    cache.clear()  # the live server shares this process's cache of rendered dashboards
    load_plan_text(fast_plan_text(seconds_per_hour=2), source="fast plan for the browser test")
    make_person("duty_staff", username="duty")
    office = make_person("office", username="office", full_name="Office Li")
    make_person("leadership", username="leader", full_name="Leader Wang")
    make_person("business_departments", username="biz")
    base = live_server.url

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            dashboard = b.signed_in_page(chromium, base, "office", PASSWORD)
            dashboard.goto(f"{base}/dashboard/")
            assert dashboard.locator("#dashboard-region[aria-live=polite]").count() == 1
            dashboard.click("#alarm-arm")
            assert alarm(dashboard)["armed"] is True
            assert dashboard.locator("#alarm-indicator[data-armed=true]").count() == 1

            duty = b.signed_in_page(chromium, base, "duty", PASSWORD)
            incident_id = log_fault_in_the_browser(duty, base)
            assert incident_id is not None, "logging the fault on /incidents/new/ did not reach the incident page"
            incident = Incident.objects.get(pk=incident_id)
            assert (incident.category.key, incident.level.key) == ("system", "yellow")

            # It appears on the open dashboard without a reload, and the alarm sounds.
            row = f'tr[data-incident-id="{incident_id}"]'
            dashboard.wait_for_selector(f'{row}[data-level="yellow"]', timeout=5000)
            dashboard.wait_for_function("window.fenghuoAlarm.ringing && window.fenghuoAlarm.lastLevel === 'yellow'",
                                        timeout=5000)
            assert alarm(dashboard)["sounded"] >= 1
            assert dashboard.locator("#alarm-banner").is_visible()
            # Silenced from the keyboard.
            dashboard.focus("#alarm-silence")
            dashboard.keyboard.press("Enter")
            assert alarm(dashboard)["ringing"] is False

            # The plan's timer (2 h, shrunk to 4 s) raises it to orange; the dashboard follows and sounds again.
            due = incident.deadlines.get(kind="escalation").due_at
            time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.2)
            assert engine.sweep() >= 1
            incident.refresh_from_db()
            assert incident.level.key == "orange"
            # The rise to orange announced itself to the business departments (plan 4.1.3).
            assert Announcement.objects.filter(incident=incident, level_key="orange").exists()
            dashboard.wait_for_selector(f'{row}[data-level="orange"]', timeout=5000)
            dashboard.wait_for_function("window.fenghuoAlarm.ringing && window.fenghuoAlarm.lastLevel === 'orange'",
                                        timeout=5000)
            dashboard.wait_for_selector("[data-announcement]", timeout=5000)
            b.screenshot(dashboard, "dashboard-en")
            wall = dashboard.context.new_page()
            wall.goto(f"{base}/dashboard/?wall=1")
            assert wall.locator(".topbar").count() == 0 and wall.locator(f'{row}[data-level="orange"]').count() == 1
            b.screenshot(wall, "dashboard-wall-en")
            wall.close()

            chinese = b.signed_in_page(chromium, base, "office", PASSWORD, locale="zh-CN")
            chinese.goto(f"{base}/dashboard/")
            assert chinese.locator("html").get_attribute("lang") == "zh-hans"
            assert chinese.locator(f'{row}[data-level="orange"]').count() == 1
            b.screenshot(chinese, "dashboard-zh")

            # A leader decides on a phone-sized screen.
            plan = services.propose_plan(incident, actor=office, text="1. Switch the savings host to the standby.\n"
                                                                      "2. Replay the queued branch transactions.")
            dashboard.wait_for_selector(f'[data-pending-plan="{plan.pk}"]', timeout=5000)
            phone = b.signed_in_page(chromium, base, "leader", PASSWORD, **b.PHONE)
            phone.goto(f"{base}/approvals/")
            card = phone.locator(f'[data-plan-id="{plan.pk}"]')
            assert "Switch the savings host to the standby." in card.locator(".plan-text").inner_text()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            b.screenshot(phone, "approvals-phone-en")
            card.locator("textarea[name=comment]").fill("Go ahead.")
            card.locator("button[value=approve]").tap()
            phone.locator("[data-confirm=approve] button[data-yes]").tap()  # the confirmation (issue 14)
            phone.wait_for_selector(".messages li", timeout=5000)
            assert f"#{incident_id}" in phone.locator(".messages").inner_text()
            plan.refresh_from_db()
            assert plan.status == PlanStatus.APPROVED and plan.decision_comment == "Go ahead."
            dashboard.wait_for_selector(f'[data-pending-plan="{plan.pk}"]', state="detached", timeout=5000)

            # The incident page, in both languages (built by the incident pages' helper).
            for page, language in ((dashboard, "en"), (chinese, "zh")):
                response = page.goto(f"{base}/incidents/{incident_id}/")
                assert response.status == 200, (language, response.status)
                b.screenshot(page, f"incident-{language}")

            # The office resolves it on the incident page; it leaves the open dashboard.
            summary = "Standby host took over; transactions replayed."
            resolve_form = chinese.locator("form[action$='/act/resolve/']")
            resolve_form.locator("textarea").first.fill(summary)
            resolve_form.locator("[type=submit]").first.click()
            chinese.wait_for_load_state()
            dashboard.goto(f"{base}/dashboard/")
            incident.refresh_from_db()
            assert incident.status == "resolved" and incident.resolution_summary == summary
            assert dashboard.locator(row).count() == 0
            b.screenshot(dashboard, "dashboard-after-resolve-en")
        finally:
            chromium.close()
            # ORM calls made while Playwright's loop ran used their own connection: close it, or the
            # test database cannot be dropped afterwards.
            connections.close_all()
