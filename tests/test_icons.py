"""Issue 14: no emoji in the pages (empty boxes without an emoji font); vendored Tabler SVGs and a favicon instead."""

import os
import re
from pathlib import Path

import pytest

from core.icons import ICONS_DIR, icon_svg

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "plan", "people", "notifications", "escalation", "incidents", "alerts", "dashboard", "config")
# Emoji and the pictographs fonts draw as emoji: misc. technical, misc. symbols, dingbats, arrows and stars
# of U+2B00, every plane-1 symbol block, variation selector 16. Typography (→ · — “”) stays allowed.
EMOJI = re.compile("[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]")


def page_sources():
    """Everything that ends up in a page: templates, static scripts and styles, the Python that writes HTML."""
    yield from ROOT.glob("templates/**/*.html")
    for app in APPS:
        yield from (ROOT / app).glob("templates/**/*.html")
        yield from (p for p in (ROOT / app).rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts)
    for ext in ("js", "css", "html"):
        yield from (ROOT / "static").rglob(f"*.{ext}")


def test_no_page_source_has_an_emoji():
    found = []
    for path in page_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{number}: {char!r}" for char in EMOJI.findall(line)]
    assert found == []


def test_the_emoji_check_catches_the_ones_the_pages_had():
    assert all(EMOJI.search(char) for char in "🔥🔔⚠✓✗")
    assert not EMOJI.search("烽火 → · — “” ● …")


def icon_names_used():
    names = set()
    for path in page_sources():
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'{%\s*icon\s+"([a-z0-9-]+)"\s*%}', text))
        names |= set(re.findall(r'icon_svg\("([a-z0-9-]+)"\)', text))
    return names


def test_every_icon_a_page_uses_is_vendored_and_listed_with_the_licence():
    used = icon_names_used()
    assert {"flame", "bell", "alert-triangle", "check", "x"} <= used
    readme = (ICONS_DIR / "README.md").read_text(encoding="utf-8")
    for name in used:
        assert (ICONS_DIR / f"{name}.svg").is_file(), name
        assert f"`{name}.svg`" in readme, name
    assert "MIT License" in (ICONS_DIR / "LICENSE").read_text(encoding="utf-8")
    assert re.search(r"@tabler/icons@\d+\.\d+\.\d+", readme)
    assert {p.stem for p in ICONS_DIR.glob("*.svg")} == used, "vendor only the icons in use"


def test_an_icon_is_inline_svg_hidden_from_screen_readers_and_sized_to_the_text():
    svg = str(icon_svg("bell"))

    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert 'aria-hidden="true"' in svg and 'focusable="false"' in svg
    assert 'width="1em" height="1em"' in svg and 'class="icon icon-bell"' in svg
    assert len(re.findall(r"\swidth=", svg)) == 1 and "icon-tabler" not in svg
    with pytest.raises(ValueError):
        icon_svg("../secret_key")


@pytest.mark.django_db
def test_the_favicon_is_served_and_every_page_names_it(client, make_person, shipped_plan):
    response = client.get("/static/fenghuo/favicon.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(response.streaming_content if response.streaming else [response.content])

    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 302 and redirect["Location"] == "/static/fenghuo/favicon.svg"

    client.force_login(make_person("office"))
    html = client.get("/dashboard/").content.decode()
    assert '<link rel="icon" href="/static/fenghuo/favicon.svg" type="image/svg+xml">' in html
    assert 'class="icon icon-flame"' in html and 'class="icon icon-bell"' in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("locale", "brand", "bell_label", "docs", "missing"), [
    ("zh-CN", "烽火", "通知", "API 文档", "页面不存在"),
    ("en-US", "Fenghuo", "Notifications", "API docs", "Page not found"),
])
def test_in_chromium_the_icons_draw_beside_their_text_and_the_error_page_is_in_the_readers_language(
        live_server, make_person, shipped_plan, locale, brand, bell_label, docs, missing):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests import browser as b

    make_person("office", username=f"icons-{locale}", is_staff=True)
    with sync_api.sync_playwright() as playwright:
        browser = b.launch(playwright)
        try:
            page = b.signed_in_page(browser, live_server.url, f"icons-{locale}", "pw-for-tests-only", locale=locale)
            page.goto(f"{live_server.url}/dashboard/")
            brand_link = page.locator("a.brand")
            assert brand_link.inner_text().strip() == brand
            box = page.locator("a.brand svg.icon").bounding_box()
            assert box and 10 <= box["width"] <= 40 and 10 <= box["height"] <= 40, box
            assert page.locator("a.bell svg.icon").is_visible()
            assert page.locator("a.bell").get_attribute("aria-label") == bell_label
            assert page.locator("[data-nav=api-docs]").inner_text() == docs
            favicon = page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
            assert favicon == 200
            b.screenshot(page, f"icons-dashboard-{locale}")

            response = page.goto(f"{live_server.url}/no-such-page/")
            assert response.status == 404
            assert page.locator("main h1").inner_text() == missing
            assert page.locator("a.brand svg.icon").is_visible()
            b.screenshot(page, f"error-404-{locale}")

            # Signed out, on a phone: the page fits the screen and still speaks the browser's language.
            phone = browser.new_context(locale=locale, **b.PHONE).new_page()
            assert phone.goto(f"{live_server.url}/no-such-page/").status == 404
            assert phone.locator("main h1").inner_text() == missing
            assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            b.screenshot(phone, f"error-404-phone-{locale}")
        finally:
            browser.close()
