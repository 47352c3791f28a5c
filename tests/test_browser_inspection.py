"""Issue 17's "Done when": a round walked on a phone in Chinese, a finding becoming a fault, a miss told.

Import 200 assets from CSV, a schedule generates rounds, one is walked on the phone layout (Playwright at
390 × 844, zh-CN) with answers kept through a reload, one reading out of range is flagged as it is typed,
one abnormal finding opens the prefilled fault that runs the plan's response, another round is missed
and the office is told through the engine (the sweep called directly), and the coverage page shows it.
"""

import io
import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from tests import browser as b

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
KINDS = ["server", "storage", "switch", "router", "firewall", "ups", "air_conditioning", "power_distribution"]


@pytest.fixture
def machine_room(settings, tmp_path, shipped_plan, make_person):
    from inspections import services
    from inspections.checklists import install
    from inspections.models import CheckItem, ChecklistTemplate

    install(ChecklistTemplate, CheckItem)  # migration 0002's rows: a transactional test flushes them
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ESCALATION_ETA_TASKS = False
    lines = ["tag,name,kind,category,core,location,owner_role"]
    for i in range(200):
        category = "network" if KINDS[i % 8] in ("switch", "router", "firewall") else "equipment"
        lines.append(f"A-{i:03d},设备 {i},{KINDS[i % 8]},{category},{'true' if i == 0 else 'false'},"
                     f"A101/R{i // 20}/U{i % 20},duty_staff")
    csv_path = tmp_path / "assets.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command("importassets", str(csv_path), stdout=out)
    assert "200 created" in out.getvalue()
    duty = make_person("duty_staff", username="duty", full_name="值班 王")
    office = make_person("office", username="office", full_name="Office Li")
    schedule = services.schedule_create(
        actor=office, name="A101 机房夜间巡检", assets=["A-000", "A-005"], role="duty_staff",
        every=timedelta(hours=2), grace=timedelta(minutes=30), first_due_at=timezone.now() - timedelta(minutes=1))
    return schedule, duty, office


def test_a_round_walked_on_a_phone_in_chinese_a_finding_becomes_a_fault_and_a_miss_is_told(live_server,
                                                                                           machine_room):
    from escalation import services as engine
    from escalation.models import Deadline
    from incidents.models import Incident
    from inspections.models import Result, Round
    from notifications.models import Notification

    schedule, duty, office = machine_room
    first, second = Round.objects.filter(schedule=schedule).order_by("due_at")[:2]
    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "duty", PASSWORD, locale="zh-CN", **b.PHONE)
            phone.goto(f"{base}/inspections/")
            assert "今日巡检" in phone.locator("h1").inner_text()
            card = phone.locator(f"[data-round='{first.pk}']")
            assert "A101 机房夜间巡检" in card.inner_text() and "未开始" in card.inner_text()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            card.locator("a").tap()
            phone.wait_for_selector("form.walk")

            server = phone.locator("[data-stop='A-000']")
            assert "A-000" in server.locator("h2").inner_text()
            # A-000 is a core server: disk lights not OK is the finding.
            for check in ("indicator_lights", "fan_noise"):
                server.locator(f"[data-check='{check}'] .ok-choice.ok").tap()
            server.locator("[data-check='disk_lights'] .ok-choice.not-ok").tap()
            reading = server.locator("[data-check='inlet_temperature'] input")
            reading.fill("35")
            flag = server.locator("[data-check='inlet_temperature'] [data-flag]")
            flag.wait_for(state="visible", timeout=3000)
            assert "超出正常范围" in flag.inner_text()
            reading.fill("24")
            flag.wait_for(state="hidden", timeout=3000)
            phone.wait_for_function(
                "() => document.querySelector(\"[data-stop='A-000'] [data-check='inlet_temperature'] "
                "[data-item-state]\").textContent.includes('已保存')", timeout=5000)
            # Kept on the server as it goes: a reload loses nothing.
            phone.reload()
            server = phone.locator("[data-stop='A-000']")
            assert server.locator("[data-check='disk_lights'] input[value=false]").is_checked()
            assert server.locator("[data-check='inlet_temperature'] input").input_value() == "24"
            assert Result.objects.filter(round=first).count() == 4

            server.locator("[data-check='photo'] input[type=file]").set_input_files(
                files=[{"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
            server.locator("[data-check='photo'] img[data-photo-thumb]").wait_for(timeout=5000)
            ups = phone.locator("[data-stop='A-005']")
            ups.locator("[data-check='ups_mode'] .ok-choice.ok").tap()
            ups.locator("[data-check='ups_load'] input").fill("45")
            ups.locator("[data-check='battery_charge'] input").fill("abc")
            assert "不是数字" in ups.locator("[data-check='battery_charge'] [data-flag]").inner_text()
            phone.locator("[data-submit]").tap()
            phone.wait_for_selector("[data-errors]")
            assert "不是数字" in phone.locator("[data-errors]").inner_text()
            phone.locator("[data-stop='A-005'] [data-check='battery_charge'] input").fill("98")
            phone.locator("[data-submit]").tap()
            phone.wait_for_selector("[data-findings]")
            assert "异常" in phone.locator("[data-findings]").inner_text()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            b.screenshot(phone, "inspection-round-phone-zh")

            phone.locator("[data-findings] a").first.tap()
            phone.wait_for_selector("form[data-log-fault]")
            fault = phone.locator("form[data-log-fault]")
            assert fault.locator("input[name=level][value=orange]").is_checked()  # core equipment (3.2.2)
            assert "A-000" in fault.locator("#f-title").input_value()
            fault.locator("button[name=do][value=fault]").tap()
            phone.wait_for_url(lambda url: "/incidents/" in url)
            incident = Incident.objects.get()
            assert (incident.asset.tag, incident.level.key, incident.category.key) == ("A-000", "orange", "equipment")
            assert "A-000" in phone.locator("[data-asset]").inner_text()
            # The plan's response runs: arrival deadlines and the people it tells.
            assert incident.deadlines.filter(kind="on_site").exists()
            assert Notification.objects.filter(incident=incident).exists()

            # The second round is not walked: its grace runs out and the engine tells the office. (Moved into
            # the past rather than waiting two hours: its row and its deadline, as the schedule would have.)
            Round.objects.filter(pk=second.pk).update(due_at=timezone.now() - timedelta(minutes=40),
                                                      miss_at=timezone.now() - timedelta(minutes=10))
            Deadline.objects.filter(subject=f"round:{second.pk}").update(
                started_at=timezone.now() - timedelta(hours=1), due_at=timezone.now() - timedelta(seconds=1))
            assert engine.sweep() >= 1
            second.refresh_from_db()
            assert second.status == "missed"
            told = Notification.objects.get(person=office, facts__subject=f"inspection:round:{second.pk}")
            assert "/inspections/rounds/" in told.facts["link"]

            desk = b.signed_in_page(chromium, base, "office", PASSWORD, locale="en-US")
            desk.goto(f"{base}/notifications/")
            assert "Inspection round missed" in desk.locator(".notifications").inner_text()
            desk.goto(f"{base}/inspections/coverage/")
            assert "Inspection coverage" in desk.locator("h1").inner_text()
            totals = desk.locator("[data-totals]").inner_text()
            assert "1 done" in totals and "1 missed" in totals
            row = desk.locator("[data-asset-row='A-000']").inner_text()
            assert "A-000" in row and timezone.localtime(Round.objects.get(pk=first.pk).submitted_at).strftime(
                "%Y-%m-%d") in row
            assert "A-001" in desk.locator("[data-never]").inner_text()
            b.screenshot(desk, "inspection-coverage-desktop-en")
        finally:
            chromium.close()
            connections.close_all()


def _jpeg():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()
