"""After the incident, in a real browser (issue 16): the office writes the review and adds an action on a
phone, the leadership group approves it, the owner records the action done from the open actions list, and the
office archives through the confirmation; in Chinese and in English.

Debian's chromium through Playwright's sync API against pytest-django's live server.
"""

import os
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from tests import browser as b

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop in this thread; the ORM calls stay sync

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
RUNS = {
    "zh": {"locale": "zh-CN", "lang": "zh-hans", "heading": "事件总结", "submitted": "已提交审批",
           "approved": "已批准", "added": "整改措施已添加。", "none": "没有符合条件的未完成整改措施。",
           "done": "整改措施已记为完成。", "archived": "已归档", "confirm": "确认归档"},
    "en": {"locale": "en-US", "lang": "en", "heading": "Post-incident review", "submitted": "Submitted for approval",
           "approved": "Approved", "added": "Remediation action added.", "none": "No open action matches.",
           "done": "Action recorded done.", "archived": "Archived", "confirm": "Confirm: archive it"},
}
WRITTEN = {"summary": "Credit queries timed out.", "impact": "Two branches could not query for 40 minutes.",
           "root_cause": "The connection pool was exhausted.", "went_wrong": "Nobody watched the pool.",
           "lessons": "Alert on pool usage at 80 %."}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_review_and_the_actions_pages_take_an_incident_from_resolved_to_archived(
        language, live_server, open_incident, make_person):
    from incidents import services
    from incidents.states import Status
    from reviews.models import Action, ActionStatus, Review, ReviewStatus

    run = RUNS[language]
    cache.clear()
    make_person("office", username="office", language=run["lang"], full_name="张主任")
    make_person("leadership", username="leader", language=run["lang"])
    tech = make_person("tech_group", username="tech", language=run["lang"], full_name="王工")
    incident = open_incident(level="yellow", category="system", title="Credit query timeouts")
    services.acknowledge(incident, actor=tech)
    services.check_in(incident, actor=tech)
    incident = services.resolve(incident, actor=tech, summary="Restarted the query service.")
    base = live_server.url
    due = timezone.localtime(timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "office", PASSWORD, locale=run["locale"], **b.PHONE)
            phone.goto(f"{base}/incidents/{incident.pk}/")
            phone.locator(f'a[href="/incidents/{incident.pk}/review/"]').first.tap()
            phone.wait_for_url(f"{base}/incidents/{incident.pk}/review/")
            assert run["heading"] in phone.locator("h1").inner_text()
            # The figures come from the record: acknowledged and arrived, so neither is blank.
            assert phone.locator("[data-figure=time_to_acknowledge] dd").inner_text() != "—"
            assert phone.locator("[data-figure=deadlines_met] dd").inner_text() == "1"
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390

            phone.fill("#action-title", "Alert on pool usage")
            phone.select_option("#action-owner", "tech")
            phone.fill("#action-due", due)
            phone.locator("#add-action button[type=submit]").tap()
            phone.wait_for_selector(".messages li")
            assert run["added"] in phone.locator(".messages").inner_text()
            assert phone.locator("[data-action-status=open]").count() == 1

            for name, text in WRITTEN.items():
                phone.fill(f"#review-{name}", text)
            phone.locator("button[name=submit][value='1']").tap()
            phone.wait_for_selector("[data-review-status=submitted]")
            assert run["submitted"] in phone.locator("[data-review-status]").inner_text()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            b.screenshot(phone, f"review-page-phone-{language}")

            leader = b.signed_in_page(chromium, base, "leader", PASSWORD, locale=run["locale"])
            leader.goto(f"{base}/incidents/{incident.pk}/review/")
            leader.locator(f'form[action="/incidents/{incident.pk}/review/approve/"] button').click()
            leader.wait_for_selector("[data-review-status=approved]")
            assert run["approved"] in leader.locator("[data-review-status]").inner_text()
            assert Review.objects.get(incident=incident).status == ReviewStatus.APPROVED

            owner = b.signed_in_page(chromium, base, "tech", PASSWORD, locale=run["locale"], **b.PHONE)
            owner.goto(f"{base}/actions/?owner=tech")
            assert owner.locator("#open-actions [data-action-status=open]").count() == 1
            owner.locator("input[name=overdue]").check()
            owner.locator("form.filters button[type=submit]").tap()
            owner.wait_for_url(lambda url: "overdue=1" in url)
            assert run["none"] in owner.locator("#open-actions").inner_text()
            owner.goto(f"{base}/actions/?owner=tech")
            assert owner.evaluate("document.documentElement.scrollWidth") <= 390
            b.screenshot(owner, f"actions-page-phone-{language}")
            owner.locator("#open-actions textarea[name=evidence]").fill("Change CR-1024 deployed")
            owner.locator("#open-actions form[action$='/done/'] button").tap()
            owner.wait_for_selector(".messages li")
            assert run["done"] in owner.locator(".messages").inner_text()
            assert Action.objects.get(incident=incident).status == ActionStatus.DONE

            phone.goto(f"{base}/incidents/{incident.pk}/archive/")
            confirm = phone.locator("form.confirm-form button[type=submit]")
            assert run["confirm"] in confirm.inner_text()
            confirm.tap()
            phone.wait_for_url(f"{base}/incidents/{incident.pk}/")
            incident.refresh_from_db()
            assert incident.status == Status.ARCHIVED
            assert run["archived"] in phone.locator(".status").first.inner_text()
            assert phone.locator("#actions form").count() == 0
        finally:
            chromium.close()
            connections.close_all()
