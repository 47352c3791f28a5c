"""Duty staff add a note with a screenshot from a phone, see it on the timeline and download it (issue 14).

Debian's chromium through Playwright against pytest-django's live server, in Chinese on a
390 px phone and in English on a desktop (a log excerpt, downloaded through its link).
"""

import os

import pytest
from django.db import connections

from incidents.tests import notes_files as files
from tests import browser as b

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are plain synchronous ones.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def reported(settings, tmp_path, shipped_plan, make_person):
    """A yellow system fault duty staff reported (they hold no role in its response, but reported it)."""
    from incidents import services

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ESCALATION_ETA_TASKS = False
    duty = make_person("duty_staff", username="duty", full_name="Duty Zhang")
    make_person("office", username="office", full_name="Office Li")
    return services.log_fault(reporter=duty, category="system", level="yellow", title="Savings host slow")


def test_duty_staff_add_a_screenshot_note_on_a_phone_in_chinese_and_it_downloads(live_server, reported):
    from incidents.models import NoteAttachment

    base, screenshot = live_server.url, files.png(width=120, height=60)
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            phone = b.signed_in_page(chromium, base, "duty", PASSWORD, locale="zh-CN", **b.PHONE)
            phone.goto(f"{base}/incidents/{reported.pk}/")
            form = phone.locator("#note")
            assert "添加备注" in form.locator("h2").inner_text()
            assert "最大 5 MiB" in form.inner_text()
            form.locator("#note-text").fill("柜员 4 号机报错弹窗，见截图")
            form.locator("#note-file").set_input_files(
                files=[{"name": "teller4.png", "mimeType": "image/png", "buffer": screenshot}])
            form.locator("button[type=submit]").tap()
            phone.wait_for_selector(".messages li", timeout=5000)
            assert "备注已添加到时间线。" in phone.locator(".messages").inner_text()

            attachment = NoteAttachment.objects.get()
            entry = phone.locator(".timeline .entry.kind-note").last
            assert "备注" in entry.inner_text() and "柜员 4 号机报错弹窗，见截图" in entry.inner_text()
            assert "附件" in entry.inner_text() and "teller4.png" in entry.inner_text()
            thumb = entry.locator("img.note-thumb")
            thumb.scroll_into_view_if_needed()
            phone.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=thumb.element_handle(),
                                    timeout=5000)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            b.screenshot(phone, "note-screenshot-phone-zh")

            url = f"{base}/incidents/{reported.pk}/notes/attachments/{attachment.pk}/"
            assert thumb.get_attribute("src") == url.removeprefix(base)
            download = phone.request.get(url)
            assert download.status == 200 and download.body() == screenshot
            assert download.headers["content-type"] == "image/png"
            assert download.headers["x-content-type-options"] == "nosniff"
            assert download.headers["content-security-policy"].startswith("sandbox")
        finally:
            chromium.close()
            connections.close_all()


def test_a_log_excerpt_note_in_english_downloads_through_its_link_and_a_bad_file_is_refused(live_server, reported,
                                                                                           settings):
    from incidents.models import NoteAttachment

    settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES = 64 * 1024
    base = live_server.url
    with playwright_sync.sync_playwright() as playwright:
        chromium = b.launch(playwright)
        try:
            page = b.signed_in_page(chromium, base, "office", PASSWORD, locale="en-US")
            page.goto(f"{base}/incidents/{reported.pk}/")
            form = page.locator("#note")
            assert "Add a note" in form.locator("h2").inner_text()

            # Too big: refused in the browser before anything is sent.
            form.locator("#note-text").fill("full-screen capture")
            form.locator("#note-file").set_input_files(
                files=[{"name": "big.png", "mimeType": "image/png", "buffer": files.png() + bytes(100 * 1024)}])
            assert form.locator("#note-file").evaluate("el => el.validationMessage") == (
                "the attachment is larger than 64 KiB; attach a smaller screenshot or a shorter excerpt")
            form.locator("button[type=submit]").click()
            assert page.locator(".messages li").count() == 0 and not NoteAttachment.objects.exists()

            # An EXE renamed .png is refused, in words that name the field.
            form.locator("#note-text").fill("installer attached")
            form.locator("#note-file").set_input_files(
                files=[{"name": "setup.png", "mimeType": "image/png", "buffer": files.EXE}])
            form.locator("button[type=submit]").click()
            page.wait_for_selector(".messages li", timeout=5000)
            assert ("Attachment: this kind of file is not accepted; attach a PNG, JPEG, GIF or WebP image, or UTF-8 "
                    "text (a log excerpt)") in page.locator(".messages").inner_text()
            b.screenshot(page, "note-refused-en")

            form = page.locator("#note")
            form.locator("#note-text").fill("Batch log around the timeout")
            form.locator("#note-file").set_input_files(
                files=[{"name": "batch.log", "mimeType": "text/plain", "buffer": files.LOG}])
            form.locator("button[type=submit]").click()
            page.wait_for_selector(".messages li", timeout=5000)
            assert "Note added to the timeline." in page.locator(".messages").inner_text()
            entry = page.locator(".timeline .entry.kind-note").last
            assert "Batch log around the timeout" in entry.inner_text()
            link = entry.locator("a.note-attachment")
            assert "batch.log" in link.inner_text()
            b.screenshot(page, "note-log-en")

            with page.expect_download() as started:
                link.click()
            download = started.value
            assert download.suggested_filename == "batch.log"
            with open(download.path(), "rb") as saved:
                assert saved.read() == files.LOG
        finally:
            chromium.close()
            connections.close_all()
