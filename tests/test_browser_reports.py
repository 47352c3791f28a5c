"""The reports page in Chromium, in Chinese and in English: the charts are drawn (their canvas is not blank, the
by-month bars wear the plan's level colours), every chart has its table and CSV link, an empty period says
"no incidents", and the page fits a phone."""

import os

import pytest
from django.db import connections

from tests import browser as b

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop in this thread; the ORM calls stay sync

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
NOVEMBER = "/reports/?from=2026-11-01&to=2026-11-30"

# For each chart: how many pixels are painted at all, and how many wear the given colour (±12 per channel).
PAINTED = """([r, g, bl]) => Array.from(document.querySelectorAll('[data-chart]')).map(el => {
  const canvas = el.querySelector('canvas');
  if (!canvas) return {key: el.closest('section').id, painted: 0, coloured: 0};
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0, coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    painted++;
    if (Math.abs(data[i] - r) < 12 && Math.abs(data[i + 1] - g) < 12 && Math.abs(data[i + 2] - bl) < 12) coloured++;
  }
  return {key: el.closest('section').id, painted, coloured};
})"""
YELLOW = [0x9a, 0x67, 0x00]  # the shipped plan's yellow


@pytest.fixture
def history(make_person):
    from escalation.models import Kind, State
    from plan.services import load_plan_text
    from plan.tests.documents import SHIPPED_PLAN
    from reports.tests.build import at, deadline, incident

    version = load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))
    make_person("office", username="office")
    for day, level, ack in ((2, "yellow", 60), (3, "yellow", 600), (9, "orange", 120), (20, "blue", 30)):
        inc = incident(version, level=level, opened=at(f"2026-11-{day:02d} 10:00"), ack=ack, resolved=ack * 20)
        deadline(inc, kind=Kind.ON_SITE, state=State.MET if ack < 300 else State.MISSED, role="ops_supervisor",
                 due=3600, acted=ack * 5 if ack < 300 else 3600)
    return version


def check_page(page, base, *, texts):
    page.goto(f"{base}{NOVEMBER}")
    page.wait_for_selector("[data-chart][data-drawn]")
    main = page.locator("main").inner_text()
    for text in texts:
        assert text in main, text
    charts = page.evaluate(PAINTED, YELLOW)
    assert len(charts) == 11  # ten of incidents, and reviews and remediation
    by_key = {c["key"]: c for c in charts}
    assert all(c["painted"] > 500 for c in charts), charts
    assert by_key["chart-by_month"]["coloured"] > 200, by_key["chart-by_month"]
    assert page.locator("table.report-table").count() == 11
    assert page.locator("a.csv-link").count() == 11
    return main


def test_the_reports_page_draws_its_charts_in_chinese_and_in_english(live_server, history):
    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            chinese = b.signed_in_page(chromium, base, "office", PASSWORD, locale="zh-CN")
            main = check_page(chinese, base, texts=["报表", "按月统计事件", "较重预警（三级）", "时限遵守率（按类型）"])
            assert "Incidents by month" not in main
            b.screenshot(chinese, "reports-zh")

            english = b.signed_in_page(chromium, base, "office", PASSWORD, locale="en-US")
            main = check_page(english, base, texts=["Reports", "Incidents by month", "Serious (level 3)",
                                                    "Deadlines kept, by kind"])
            assert "按月" not in main
            b.screenshot(english, "reports-en")
        finally:
            chromium.close()
            connections.close_all()


def test_an_empty_period_shows_empty_charts_saying_no_incidents_and_the_page_fits_a_phone(live_server, history):
    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "office", PASSWORD, locale="zh-CN", **b.PHONE)
            phone.goto(f"{base}/reports/?from=2025-01-01&to=2025-01-31")
            phone.wait_for_selector("[data-chart][data-drawn]")
            assert "暂无事件" in phone.locator("main").inner_text()
            charts = phone.evaluate(PAINTED, YELLOW)
            assert all(c["painted"] > 0 for c in charts)  # axes and the "no incidents" line are drawn
            assert all(c["coloured"] == 0 for c in charts)  # but no bar
            assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
            b.screenshot(phone, "reports-empty-phone")

            phone.goto(f"{base}{NOVEMBER}")
            phone.wait_for_selector("[data-chart][data-drawn]")
            assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
        finally:
            chromium.close()
            connections.close_all()
