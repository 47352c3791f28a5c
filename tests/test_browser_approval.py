"""A leader decides on a response plan from a phone (issue 14): opens it from the approval list, reads the
plan's criteria and the proposed text, confirms; the proposer's notifications show the decision.

Debian's chromium through Playwright's sync API against pytest-django's live server.
"""

import os

import pytest
from django.core.cache import cache
from django.db import connections

from tests import browser as b

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are still
# plain synchronous ones, so Django's async guard is a false alarm here (this module only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
CSP_LISTENER = """window.__csp = []; document.addEventListener("securitypolicyviolation",
    e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));"""
TEXT = "1. Switch the savings host to the standby.\n2. Replay the queued branch transactions."

# (locale, the leader's decision, what the leader reads and taps, what the proposer then reads)
RUNS = {
    "zh": {"locale": "zh-CN", "decision": "approve", "criteria": "判定标准", "open": "查看预案判定标准",
           "confirm": "确定批准此方案？", "yes": "确定批准", "comment": "同意，立即执行。",
           "told": "王组长 批准了应急方案。意见：同意，立即执行。"},
    "en": {"locale": "en-US", "decision": "reject", "criteria": "Criteria", "open": "Open the plan's criteria",
           "confirm": "Reject this plan?", "yes": "Yes, reject",
           "comment": "Restore from the backup first.",
           "told": "王组长 rejected the response plan. Reason: Restore from the backup first."},
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_leader_decides_on_a_phone_through_the_confirmation_and_the_proposer_is_told(
        language, live_server, shipped_plan, make_person):
    from incidents import services
    from incidents.models import PlanStatus

    run = RUNS[language]
    cache.clear()
    lang = "zh-hans" if language == "zh" else "en"
    proposer = make_person("ops_supervisor", username="zhang", language=lang, full_name="张工")
    office = make_person("office", username="office", language=lang)
    make_person("leadership", username="leader", full_name="王组长")
    incident = services.log_fault(reporter=office, category="system", level="orange", title="Savings host down",
                                  description="Branches cannot post deposits since 09:10.")
    plan = services.propose_plan(incident, actor=proposer, text=TEXT)
    base = live_server.url

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "leader", PASSWORD, locale=run["locale"], **b.PHONE)
            phone.add_init_script(CSP_LISTENER)
            phone.goto(f"{base}/approvals/")
            card = phone.locator(f'[data-plan-id="{plan.pk}"]')
            link = card.locator("[data-open-approval]")
            assert run["open"] in link.inner_text()
            link.tap()
            phone.wait_for_url(f"{base}/approvals/{plan.pk}/")

            # Everything to decide on, readable at 390 px: the proposed text in full and the plan's criteria.
            assert phone.locator("[data-plan-text]").inner_text() == TEXT
            assert run["criteria"] in phone.locator("[data-criteria]").inner_text()
            assert phone.locator("[data-steps] li").count() >= 3
            assert phone.locator("#timeline .entry").count() >= 3
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            # The decision buttons come before the timeline, within a short scroll of the top.
            button = phone.locator(f"[data-decision-form] button[value={run['decision']}]")
            assert button.bounding_box()["y"] < phone.locator("#timeline").bounding_box()["y"]
            assert button.bounding_box()["y"] < 2 * 844
            # incident.js counts the decision deadline down (h:mm:ss), under the strict CSP.
            phone.wait_for_function("document.querySelector('[data-decide-by]').textContent.includes(':')",
                                    timeout=5000)
            assert phone.evaluate("window.__csp") == []
            b.screenshot(phone, f"approval-page-phone-{language}")

            phone.locator("[data-decision-form] textarea[name=comment]").fill(run["comment"])
            button.tap()
            phone.wait_for_selector(f"[data-confirm={run['decision']}]", timeout=5000)
            assert run["confirm"] in phone.locator("h1").inner_text()
            assert phone.locator("textarea[name=comment]").input_value() == run["comment"]
            plan.refresh_from_db()
            assert plan.status == PlanStatus.PENDING  # nothing decided before the confirmation
            assert phone.evaluate("window.__csp") == []
            b.screenshot(phone, f"approval-confirm-phone-{language}")
            yes = phone.locator("button[data-yes]")
            assert run["yes"] in yes.inner_text()
            yes.tap()
            phone.wait_for_selector(".messages li", timeout=5000)
            assert f"#{incident.pk}" in phone.locator(".messages").inner_text()
            plan.refresh_from_db()
            assert plan.status == (PlanStatus.APPROVED if run["decision"] == "approve" else PlanStatus.REJECTED)
            assert plan.decision_comment == run["comment"]

            # The proposer's notification list shows the decision, in their language.
            mine = b.signed_in_page(chromium, base, "zhang", PASSWORD, locale=run["locale"], **b.PHONE)
            mine.goto(f"{base}/notifications/")
            assert run["told"] in mine.locator(".notifications").inner_text()
            b.screenshot(mine, f"approval-told-proposer-{language}")
        finally:
            chromium.close()
            connections.close_all()
