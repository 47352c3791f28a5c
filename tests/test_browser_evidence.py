"""The incident page shows whether its timeline's hash chain verifies, and its button downloads the evidence pack.

Debian's chromium through Playwright against pytest-django's live server: in
Chinese on a 390 px phone and in English on a desktop, the PDF button gives a
PDF in that language (read back with pypdf), whose file hash is the header's.
"""

import hashlib
import io
import os
import re

import pytest
from django.db import connections

from tests import browser as b

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")
pypdf = pytest.importorskip("pypdf")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def incident(settings, shipped_plan, make_person):
    from incidents import services

    settings.ESCALATION_ETA_TASKS = False
    duty = make_person("duty_staff", username="duty", full_name="Duty Zhang")
    make_person("office", username="office-zh", full_name="办公室 李", language="zh-hans")
    make_person("office", username="office-en", full_name="Office Li", language="en")
    incident = services.log_fault(reporter=duty, category="system", level="yellow", title="储蓄主机缓慢 savings host slow",
                                  is_drill=True)
    services.add_note(incident, actor=duty, text="柜员反映交易超时")
    return incident


def text_of(pdf_bytes):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages)


def download_pdf(page, base, incident):
    page.goto(f"{base}/incidents/{incident.pk}/")
    card = page.locator("#evidence")
    card.scroll_into_view_if_needed()
    with page.expect_download() as waiting:
        card.locator("#export-pdf").click()
    download = waiting.value
    data = open(download.path(), "rb").read()
    return card, download, data


def test_the_button_downloads_the_pack_in_chinese_on_a_phone(live_server, incident):
    from incidents import chain

    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "office-zh", PASSWORD, locale="zh-CN", **b.PHONE)
            card, download, data = download_pdf(phone, base, incident)
            assert "时间线的哈希链校验通过" in card.inner_text()
            assert chain.verify(incident.pk).last_hash in card.inner_text()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            b.screenshot(phone, "evidence-card-phone-zh")
            assert data.startswith(b"%PDF")
            assert re.fullmatch(rf"fenghuo-incident-{incident.pk}-drill-evidence-zh-\d{{8}}-\d{{6}}\.pdf",
                                download.suggested_filename)
            text = text_of(data)
            assert "【演练】证据包：#" in text and "证据包" in text and "柜员反映交易超时" in text and "时间线" in text
            header = phone.request.get(f"{base}/api/v1/incidents/{incident.pk}/export?format=pdf")
            assert header.headers["x-content-sha256"] == hashlib.sha256(header.body()).hexdigest()
        finally:
            chromium.close()
            connections.close_all()


def test_the_button_downloads_the_pack_in_english_on_a_desktop(live_server, incident):
    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            desktop = b.signed_in_page(chromium, base, "office-en", PASSWORD, locale="en-US", **b.DESKTOP)
            card, download, data = download_pdf(desktop, base, incident)
            assert "The timeline's hash chain verifies" in card.inner_text()
            b.screenshot(desktop, "evidence-card-desktop-en")
            assert download.suggested_filename.endswith(".pdf") and "-evidence-en-" in download.suggested_filename
            text = text_of(data)
            assert "[DRILL]" in text and "Evidence pack" in text and "Timeline" in text and "证据包" not in text
            with desktop.expect_download() as waiting:
                card.locator("#export-docx").click()
            assert waiting.value.suggested_filename.endswith(".docx")
        finally:
            chromium.close()
            connections.close_all()
