"""Plan 4.2.2 in a real browser: the resolve form of a recovered equipment-yellow fault asks who watched
and what they saw, says from when it may be resolved, refuses before the watch ends, and records the
confirmation on the timeline. In English and in Chinese.
"""

import os
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tests import browser as b

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are plain
# synchronous ones, so Django's async guard is a false alarm here (this module only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"

TEXTS = {
    "en-US": {"rule": "The plan asks Maintenance supervisor to watch the system for 30 minutes after recovery",
              "from": "It may be resolved from", "label": "Stability: what was watched after recovery",
              "refused": "cannot resolve yet: Maintenance supervisor watches the system for 30 minutes",
              "confirmed": "Stability confirmed"},
    "zh-CN": {"rule": "预案要求维护主管在恢复后观察系统 30 分钟", "from": "起可以结案",
              "label": "稳定性：恢复后观察了什么", "refused": "尚不能结案：维护主管须在恢复后观察系统 30 分钟",
              "confirmed": "已确认稳定"},
}


def test_the_resolve_form_asks_for_stability_and_refuses_before_the_watch_ends(live_server, make_person, settings):
    from incidents import services
    from incidents.models import Incident
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN

    settings.ESCALATION_ETA_TASKS = False  # no worker runs here
    load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    duty = make_person("duty_staff", username="duty")
    make_person("maintenance_supervisor", username="supervisor", full_name="Supervisor Zhao")
    incident = services.log_fault(reporter=duty, category="equipment", level="yellow",
                                  title="Peripheral storage array fault")
    technician = make_person("system_technicians", username="tech")
    services.acknowledge(incident, actor=technician)
    services.mark_recovered(incident, actor=technician, note="array rebuilt")
    incident.refresh_from_db()
    watch_ends = timezone.localtime(incident.recovered_at + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    base, url = live_server.url, f"{live_server.url}/incidents/{incident.pk}/"

    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            pages = {}
            for locale, texts in TEXTS.items():
                page = pages[locale] = b.signed_in_page(chromium, base, "supervisor", PASSWORD, locale=locale,
                                                        **(b.PHONE if locale == "zh-CN" else b.DESKTOP))
                page.goto(url)
                form = page.locator("form[action$='/act/resolve/']")
                shown = form.inner_text()
                assert texts["rule"] in shown, (locale, shown)
                assert texts["from"] in shown and watch_ends in shown, (locale, shown)
                assert form.locator("textarea[name=stability]").is_visible()
                assert texts["label"] in form.locator("label[for=resolve-stability]").inner_text()
                b.screenshot(page, f"resolve-stability-form-{locale}")

                # Before the watch ends, the plan's rule refuses, and the page says why.
                form.locator("textarea[name=summary]").fill("Rebuilt the array")
                form.locator("textarea[name=stability]").fill("I/O latency flat")
                form.locator("[type=submit]").click()
                page.wait_for_selector(".messages li.error", timeout=5000)
                assert texts["refused"] in page.locator(".messages").inner_text(), locale
                b.screenshot(page, f"resolve-stability-refused-{locale}")
            assert Incident.objects.get(pk=incident.pk).status == "recovered"

            # The watch is over (recovered 31 minutes ago): the supervisor confirms and resolves, in Chinese.
            Incident.objects.filter(pk=incident.pk).update(recovered_at=timezone.now() - timedelta(minutes=31))
            chinese = pages["zh-CN"]
            chinese.goto(url)
            form = chinese.locator("form[action$='/act/resolve/']")
            form.locator("textarea[name=summary]").fill("阵列重建完成")
            form.locator("textarea[name=stability]").fill("观察 I/O 延迟与错误日志 30 分钟，平稳无报错")
            form.locator("[type=submit]").click()
            chinese.wait_for_selector(".messages li.success", timeout=5000)
            assert Incident.objects.get(pk=incident.pk).status == "resolved"
            for locale, page in pages.items():
                page.goto(url)
                entry = page.locator("li.kind-stability_confirmed")
                assert TEXTS[locale]["confirmed"] in entry.inner_text(), locale
                assert "观察 I/O 延迟与错误日志 30 分钟，平稳无报错" in entry.inner_text()
                assert page.locator("li.kind-deadline_cancelled").count() == 2
                b.screenshot(page, f"resolve-stability-timeline-{locale}")
        finally:
            chromium.close()
            # ORM calls made while Playwright's loop ran used their own connection: close it, or the
            # test database cannot be dropped afterwards.
            connections.close_all()
