"""The incident page at work in a real browser (issue 14): on a 390 × 844 phone and on a desktop, in Chinese
and English — no sideways scrolling, the actions first, the timeline folded, monitoring on top, and a
level change that asks for confirmation with its consequences before anything changes.

Debian's chromium through Playwright's sync API against pytest-django's live server. Screenshots go to
test-artifacts/ (not committed).
"""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import browser as b

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are still
# plain synchronous ones, so Django's async guard is a false alarm here (this module only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Well under the 7,600 px the issue measured. This typical incident at 390 px wide measured 5,739 px (Chinese)
# and 6,371 px (English, and 441 px wide) before the phone layout; about 3,730 and 4,030 px with it, before the
# note form (h2) and the decision forms' links (h3) joined the page: about 4,330 and 4,630 px with those.
PHONE_HEIGHT_LIMIT = 5000


def typical_incident(make_person, *, level="orange"):
    """An incident a few steps into its response: taken on, people on site, a response plan proposed, three
    monitoring alerts firing. Returns (incident, the coordinator who works it)."""
    from alerts.integrations import integration_create
    from alerts.models import Alert, AlertStatus
    from incidents import services
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN

    load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    coordinator = make_person("office", "leadership", username="chen", full_name="Coordinator Chen")
    make_person("system_technicians", username="zhou", full_name="Tech Zhou")
    make_person("ops_supervisor", username="zhang", full_name="Supervisor Zhang")
    incident = services.log_fault(reporter=coordinator, category="system", level=level,
                                  title="Savings host transactions slow",
                                  description="Main branch transactions slow since 09:10; CPU at 100%.")
    services.acknowledge(incident, actor=coordinator)
    services.check_in(incident, actor=coordinator)
    services.propose_plan(incident, actor=coordinator, text="Fail over to the standby host.")
    integration, _token = integration_create(name="Alertmanager", kind="alertmanager")
    start = timezone.now() - timedelta(minutes=25)
    for n in range(3):
        Alert.objects.create(integration=integration, group_key="g", fingerprint=f"node{n}", delivery_key=f"d{n}",
                             status=AlertStatus.FIRING, starts_at=start, summary=f"NodeDown on node{n}",
                             category_key="system", level_key=level, labels={"alertname": "NodeDown"},
                             received_at=start, processed_at=start, incident=incident)
        services.record_alerts([(incident, "Alertmanager", {"integration": "Alertmanager", "count": 1})], at=start)
    return incident, coordinator


def no_sideways_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size["width"]


def top(page, selector):
    return page.locator(selector).first.bounding_box()["y"]


@pytest.fixture
def browser():
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


PHONE_WORDS = {
    "zh-CN": {"actions": "您现在可以执行的操作", "firing": "告警中", "older": "条记录"},
    "en-US": {"actions": "What you can do now", "firing": "Firing since", "older": "older entries"},
}


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_on_a_phone_the_incident_page_puts_the_actions_first_folds_the_timeline_and_never_scrolls_sideways(
        live_server, make_person, browser, locale):
    words = PHONE_WORDS[locale]
    incident, _coordinator = typical_incident(make_person)
    page = b.signed_in_page(browser, live_server.url, "chen", "pw-for-tests-only", locale=locale, **b.PHONE)
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    assert page.locator("#actions-heading").inner_text() == words["actions"]
    assert no_sideways_scroll(page)
    # Monitoring on top, the actions within the first screen, before the deadlines and the timeline.
    assert words["firing"] in page.locator("#monitoring-state").inner_text()
    assert "Alertmanager: NodeDown ×3" in page.locator("#monitoring-state").inner_text()
    assert top(page, "#actions") < 844
    assert top(page, "#actions") < top(page, "#deadlines") < top(page, "#timeline")
    assert page.locator("#actions form.action-escalate button").is_visible()
    # The deadlines are cards, each cell under its column's name; the plan's checklist starts folded.
    assert page.locator("#deadlines thead").is_hidden()
    checklist = page.locator("details.checklist-box")
    assert checklist.get_attribute("open") is None and page.locator("ol.checklist").is_hidden()
    # The timeline: newest first, the older entries folded until asked for, and the whole timeline foldable.
    older = page.locator("details.older-entries")
    assert older.count() == 1 and older.get_attribute("open") is None
    assert older.locator("li.entry").first.is_hidden()
    assert page.locator(".timeline-box > .timeline li.entry").first.is_visible()
    height = page.evaluate("() => document.body.scrollHeight")
    print(f"incident page at 390 px ({locale}): {height} px high")
    b.screenshot(page, "incident-page-phone-zh" if locale == "zh-CN" else "incident-page-phone-en")
    assert height < PHONE_HEIGHT_LIMIT
    older.locator("summary").click()
    assert older.locator("li.entry.kind-opened").is_visible()
    assert words["older"] in older.locator("summary").inner_text()
    page.locator(".timeline-box > summary").click()
    assert page.locator(".timeline-box li.entry").first.is_hidden()
    checklist.locator("summary").click()
    assert page.locator("ol.checklist").is_visible()
    assert no_sideways_scroll(page)


def test_on_a_desktop_the_incident_page_shows_monitoring_and_explains_what_is_not_the_viewers_to_do(
        live_server, make_person, browser):
    incident, _coordinator = typical_incident(make_person)
    page = b.signed_in_page(browser, live_server.url, "zhou", "pw-for-tests-only", locale="en-US")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    assert no_sideways_scroll(page)
    assert "Firing since" in page.locator("#monitoring-state").inner_text()
    assert page.get_by_text("What you can do now").is_visible()
    unavailable = page.locator(".unavailable")
    assert unavailable.get_by_text("Not available to you").is_visible()
    assert "only Main leaders, Emergency leadership group, Emergency office may do this" in \
        unavailable.locator("[data-action=deescalate]").inner_text()
    assert unavailable.locator("button").count() == 0
    assert page.locator("form.action-deescalate").count() == 0
    assert page.locator("#deadlines thead").is_visible()
    assert page.locator("ol.checklist").is_visible()  # folded only on a phone
    b.screenshot(page, "incident-page-desktop-en")


@pytest.mark.parametrize("locale, heading", [("zh-CN", "全部事件"), ("en-US", "All incidents")])
def test_on_a_phone_the_incident_list_is_cards_without_sideways_scroll(live_server, make_person, browser, locale,
                                                                        heading):
    from incidents import services

    incident, coordinator = typical_incident(make_person)
    for n in range(4):
        services.log_fault(reporter=coordinator, category="network", level="blue",
                           title=f"Branch line {n} down, the carrier has been called and a long title wraps")
    page = b.signed_in_page(browser, live_server.url, "chen", "pw-for-tests-only", locale=locale, **b.PHONE)
    page.goto(f"{live_server.url}/incidents/")
    assert page.locator("h1").inner_text() == heading
    assert no_sideways_scroll(page)
    assert page.locator("table.incident-list thead").is_hidden()
    assert page.get_by_text("Savings host transactions slow").is_visible()
    assert page.locator("table.incident-list tbody tr").count() == 5
    b.screenshot(page, "incident-list-phone-zh" if locale == "zh-CN" else "incident-list-phone-en")
    page.set_viewport_size(b.DESKTOP["viewport"])
    page.goto(f"{live_server.url}/incidents/")
    assert page.locator("table.incident-list thead").is_visible()


@pytest.mark.parametrize("locale, options, confirm_text, done_text", [
    ("en-US", b.DESKTOP, "Confirm: raise to Severe (level 2)", "Level raised"),
    ("zh-CN", b.PHONE, "确认：升级为严重预警（二级）", "已升级"),
])
def test_raising_the_level_shows_its_consequences_and_changes_it_only_once_confirmed(
        live_server, make_person, browser, locale, options, confirm_text, done_text):
    incident, _coordinator = typical_incident(make_person, level="yellow")
    page = b.signed_in_page(browser, live_server.url, "chen", "pw-for-tests-only", locale=locale, **options)
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    assert page.locator("#escalate-level").input_value() == "orange"  # the next level up, not red
    page.fill("#escalate-reason", "Whole province now slow" if locale == "en-US" else "全省交易缓慢")
    page.locator("form.action-escalate button[type=submit]").click()
    page.wait_for_selector(".confirm-level")
    assert no_sideways_scroll(page)
    confirm = page.locator(".confirm-form button[type=submit]")
    assert confirm.inner_text() == confirm_text
    told = page.locator("ul.told")
    assert told.get_by_text("Tech Zhou").is_visible() and told.get_by_text("Coordinator Chen").first.is_visible()
    assert page.locator("ul.deadline-preview [data-kind=on_site]").count() == 3
    assert page.locator("ul.deadline-preview [data-kind=approval]").is_visible()
    incident.refresh_from_db()
    assert incident.level.key == "yellow"
    if locale == "en-US":
        b.screenshot(page, "escalate-confirm-en")
    confirm.click()
    page.wait_for_url(lambda url: f"/incidents/{incident.pk}/" in url and "/act/" not in url)
    assert done_text in page.locator("main").inner_text()
    incident.refresh_from_db()
    assert incident.level.key == "orange"
