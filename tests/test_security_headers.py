"""Finding 10 of issue 13: Content-Security-Policy, HSTS and the proxy header; `check --deploy` is clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_every_page_sends_a_strict_content_security_policy(client, db):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())

    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] + directives["style-src"] + directives["style-src-elem"]


def test_no_template_has_an_inline_script_or_event_handler():
    import re

    offenders = []
    for template in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]:
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def production_env(**extra):
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests; a deployment never has it (async.E001).
    unset = ("SECURE_", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    env.update({"FENGHUO_PRODUCTION": "true", "SECRET_KEY": secrets.token_urlsafe(50),
                "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto", "ALLOWED_HOSTS": "fenghuo.example.com"}, **extra)
    return env


def test_check_deploy_reports_no_warnings_with_the_documented_production_settings():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_production_settings_turn_on_hsts_and_trust_the_configured_proxy_header():
    code = ("from django.conf import settings as s; "
            "print(s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT)")
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                            env={**production_env(), "DJANGO_SETTINGS_MODULE": "config.settings"},
                            capture_output=True, text=True, timeout=120)

    assert result.stdout.split("\n")[-2] == "31536000 ('HTTP_X_FORWARDED_PROTO', 'https') True", result.stderr


def test_hsts_is_sent_on_https_requests_in_production(client, settings, db):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})

    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_reports_a_csp_violation_in_chromium_and_its_scripts_still_run(live_server, shipped_plan,
                                                                                make_person, settings):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api")
    from incidents import services
    from tests import browser as b

    office = make_person("office", "duty_staff", username="office-csp", is_staff=True, is_superuser=True)
    incident = services.log_fault(reporter=office, category="system", level="yellow", title="csp check")
    pages = ["/dashboard/", "/dashboard/?wall=1", "/incidents/new/", f"/incidents/{incident.pk}/",
             "/approvals/", "/notifications/", "/admin/", "/api/docs/", "/api/redoc/", "/no-such-page/"]
    listen = """window.__csp = []; document.addEventListener("securitypolicyviolation",
        e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));"""

    with sync_api.sync_playwright() as playwright:
        browser = b.launch(playwright)
        try:
            anonymous = browser.new_page()
            anonymous.add_init_script(listen)
            console = []
            anonymous.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            anonymous.goto(f"{live_server.url}/accounts/login/")
            assert anonymous.evaluate("window.__csp") == [], "/accounts/login/"

            page = b.signed_in_page(browser, live_server.url, "office-csp", "pw-for-tests-only")
            page.add_init_script(listen)
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            for path in pages:
                page.goto(f"{live_server.url}{path}")
                page.wait_for_load_state("load")
                if path.startswith("/dashboard/"):
                    # alarm.js and dashboard.js ran: the alarm control and its state exist.
                    assert page.evaluate("typeof window.fenghuoAlarm === 'object'"), path
                    assert page.evaluate("typeof window.fenghuoAlarmCheck === 'function'"), path
                if path == "/api/docs/":
                    page.wait_for_selector(".swagger-ui .info", timeout=15000)
                if path == "/api/redoc/":
                    # Redoc drew the schema (its title and an operation), and its search worker started.
                    page.wait_for_selector("h1:has-text('Fenghuo API')", timeout=20000)
                    page.wait_for_selector("[role=search] input, .search-input", timeout=15000)
                    page.wait_for_timeout(500)
                    # Redoc's sidebar always shows Redocly's logo from their CDN: the policy stops that request
                    # (nothing leaves for another host) and Redoc hides the image when it fails to load.
                    assert page.evaluate("window.__csp") == [f"img-src {REDOCLY_LOGO}"]
                    assert page.locator("img[alt='redocly logo']").count() == 0
                    page.evaluate("window.__csp = []")
                assert page.evaluate("window.__csp") == [], path
            assert [m for m in console if "Content Security Policy" in m and REDOCLY_LOGO not in m] == []
        finally:
            browser.close()
