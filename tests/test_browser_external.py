"""The external parties' pages in a real browser, in Chinese on a phone and in English on a desktop (issue 19).

The directory (adding a party and its contact), the report form (prefilled in Chinese, downloaded as DOCX,
recorded as sent) and the call-out (called, then arrived).
"""

import io
import os
from datetime import timedelta

import docx
import pytest
from django.db import connections

from tests import browser as b

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def orange(settings, shipped_plan, make_person):
    from external.models import Contact, Party
    from incidents import services

    settings.ESCALATION_ETA_TASKS = False
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    office = make_person("office", username="office", full_name="李明", phone="0591-8888")
    pboc = Party.objects.create(key="pboc", kind="regulator", name_en="People's Bank branch", name_zh="人民银行分行")
    Contact.objects.create(party=pboc, name="王科长", phone="0591-1111")
    vendor = Party.objects.create(key="sysvendor", kind="vendor", name_en="Core system vendor", name_zh="核心系统厂商",
                                  categories=["system"], arrival_within=timedelta(hours=2))
    Contact.objects.create(party=vendor, name="赵工", mobile="13800000000")
    Party.objects.create(key="netvendor", kind="vendor", name_en="Network vendor", name_zh="网络厂商",
                         categories=["network"])
    return services.log_fault(reporter=office, category="system", level="orange", title="储蓄系统交易堵塞",
                              description="全省网点无法办理储蓄业务。")


def _fits_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_office_keeps_the_directory_in_chinese_on_a_phone_and_reads_it_in_english(live_server, orange):
    from external.models import Party

    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "office", PASSWORD, locale="zh-CN", **b.PHONE)
            phone.goto(f"{base}/external/parties/")
            assert "外部单位" in phone.locator("h1").inner_text()
            assert "人民银行分行" in phone.locator("[data-party=pboc]").inner_text()
            assert "尚无联系人" in phone.locator("[data-party=netvendor]").inner_text()
            phone.get_by_role("link", name="添加单位").tap()
            phone.fill("#id_key", "unicom")
            phone.select_option("#id_kind", "carrier")
            phone.fill("#id_name_zh", "中国联通")
            phone.fill("#id_name_en", "China Unicom")
            phone.fill("#id_arrival_within", "4h")
            phone.get_by_label("网络").check()
            phone.locator("form.stacked-form button[type=submit]").tap()
            phone.wait_for_selector("#contact-form")
            assert "已添加单位" in phone.locator(".messages").inner_text()
            phone.fill("#id_name", "张伟")
            phone.fill("#id_phone", "10010")
            phone.locator("#contact-form button[type=submit]").tap()
            phone.wait_for_selector("[data-contact]")
            assert "张伟" in phone.locator("[data-contact]").inner_text()
            _fits_phone(phone)
            b.screenshot(phone, "external-directory-phone-zh")

            party = Party.objects.get(key="unicom")
            assert (party.kind, party.categories, party.arrival_within) == ("carrier", ["network"], timedelta(hours=4))

            desk = b.signed_in_page(chromium, base, "office", PASSWORD, locale="en-US", **b.DESKTOP)
            desk.goto(f"{base}/external/parties/?kind=carrier")
            assert "Outside parties" in desk.locator("h1").inner_text()
            card = desk.locator("[data-party=unicom]")
            assert "China Unicom" in card.inner_text() and "Line carrier" in card.inner_text()
            assert desk.locator("[data-party=pboc]").count() == 0
        finally:
            chromium.close()
            connections.close_all()


def test_the_report_form_is_prefilled_in_chinese_downloads_as_docx_and_records_the_sending(live_server, orange):
    from external.models import ExternalReport

    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            desk = b.signed_in_page(chromium, base, "office", PASSWORD, locale="en-US", **b.DESKTOP)
            desk.goto(f"{base}/incidents/{orange.pk}/external/")
            row = desk.locator("[data-report='pboc:initial']")
            assert "Initial notice" in row.inner_text() and "to be confirmed" in row.inner_text()
            row.get_by_role("link", name="Write the report").click()
            assert desk.locator("label[for=id_affected]").inner_text() == "Systems and business affected"
            assert "储蓄系统交易堵塞" in desk.input_value("#id_affected")
            assert "严重预警" in desk.input_value("#id_level")
            desk.fill("#id_cause", "存储控制器故障（初步判断）。")
            with desk.expect_download() as info:
                desk.click("button[value=docx]")
            data = open(info.value.path(), "rb").read()
            text = "\n".join([p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
                             + [c.text for t in docx.Document(io.BytesIO(data)).tables for r in t.rows for c in r.cells])
            assert "存储控制器故障（初步判断）。" in text and "储蓄系统交易堵塞" in text and "发生时间" in text
            desk.click("button[value=save]")
            desk.wait_for_selector(".messages li")
            assert "Draft saved." in desk.locator(".messages").inner_text()
        finally:
            desk.context.close()

        try:
            phone = b.signed_in_page(chromium, base, "office", PASSWORD, locale="zh-CN", **b.PHONE)
            phone.goto(f"{base}/incidents/{orange.pk}/external/pboc/initial/")
            assert phone.locator("label[for=id_cause]").inner_text() == "原因（初步）"
            assert phone.input_value("#id_cause") == "存储控制器故障（初步判断）。"  # the saved draft
            phone.select_option("#id_channel", "phone")
            phone.fill("#id_reference", "人行-001")
            _fits_phone(phone)
            b.screenshot(phone, "external-report-phone-zh")
            phone.locator("button[value=send]").tap()
            phone.wait_for_selector("[data-report='pboc:initial']")
            assert "已记录报送" in phone.locator(".messages").inner_text()
            assert "电话" in phone.locator("[data-report='pboc:initial']").inner_text()
            report = ExternalReport.objects.get(incident=orange, stage="initial")
            assert (report.channel, report.reference) == ("phone", "人行-001")
            # The written report starts from the initial one's text.
            phone.goto(f"{base}/incidents/{orange.pk}/external/pboc/written/")
            assert phone.input_value("#id_cause") == "存储控制器故障（初步判断）。"
        finally:
            chromium.close()
            connections.close_all()


def test_a_vendor_is_called_out_and_its_arrival_recorded_in_both_languages(live_server, orange):
    from external.models import CallOut

    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "office", PASSWORD, locale="zh-CN", **b.PHONE)
            phone.goto(f"{base}/incidents/{orange.pk}/external/")
            options = phone.locator("#id_party optgroup").first
            assert options.get_attribute("label") == "本事件建议联系"
            assert "核心系统厂商" in options.inner_text() and "网络厂商" not in options.inner_text()
            phone.fill("#id_ticket", "SR-1203")
            phone.locator("#callout-form button[type=submit]").tap()
            phone.wait_for_selector("[data-callout]")
            item = phone.locator("[data-callout]")
            assert "核心系统厂商" in item.inner_text() and "SR-1203" in item.inner_text()
            _fits_phone(phone)
            b.screenshot(phone, "external-callout-phone-zh")
            callout = CallOut.objects.get()
            assert callout.promised_by == callout.called_at + timedelta(hours=2)  # the contract's SLA

            desk = b.signed_in_page(chromium, base, "office", PASSWORD, locale="en-US", **b.DESKTOP)
            desk.goto(f"{base}/incidents/{orange.pk}/external/")
            desk.get_by_role("button", name="They arrived").click()
            desk.wait_for_selector(".messages li")
            assert "Arrival recorded." in desk.locator(".messages").inner_text()
            assert "Arrived" in desk.locator("[data-callout]").inner_text()
            callout.refresh_from_db()
            assert callout.arrived_at is not None
        finally:
            chromium.close()
            connections.close_all()
