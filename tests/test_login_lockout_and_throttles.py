"""Finding 3 of issue 13: sign-in lockout (django-axes) and API throttles, each answering 429 with Retry-After."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-1"


def sign_in(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


@pytest.fixture
def li(make_person):
    return make_person("duty_staff", username="li", password=PASSWORD)


def test_the_sixth_wrong_password_is_locked_out_with_429_and_retry_after(client, li, settings):
    for _ in range(5):
        sign_in(client, "li", "wrong")

    response = sign_in(client, "li", "wrong")

    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "Too many failed sign-ins" in response.content.decode() or "登录失败次数过多" in response.content.decode()


def test_a_locked_out_account_is_refused_even_with_the_right_password(client, li):
    for _ in range(6):
        sign_in(client, "li", "wrong")

    response = sign_in(client, "li", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_is_in_chinese_for_a_chinese_browser(li):
    client = Client(headers={"Accept-Language": "zh-hans"})
    for _ in range(6):
        response = sign_in(client, "li", "wrong")

    assert response.status_code == 429
    assert "登录已锁定" in response.content.decode()


def test_lockout_is_per_address_too_whatever_the_username(client, li):
    for n in range(6):
        sign_in(client, f"nobody-{n}", "wrong")

    assert sign_in(client, "li", PASSWORD).status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.0.0.9"), "li", PASSWORD).status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, li):
    for _ in range(4):
        sign_in(client, "li", "wrong")

    assert sign_in(client, "li", PASSWORD).status_code == 302


def test_an_administrator_sees_and_unlocks_a_locked_out_account_in_the_admin(client, li, admin_client):
    from axes.models import AccessAttempt

    for _ in range(6):
        sign_in(client, "li", "wrong")
    attempts = AccessAttempt.objects.filter(username="li")
    assert attempts.exists()

    changelist = admin_client.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200 and "li" in changelist.content.decode()
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin_client.post("/admin/axes/accessattempt/", {
        "action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert sign_in(client, "li", PASSWORD).status_code == 302


def test_the_api_throttles_a_person_with_429_and_retry_after(make_person, api_client_for, settings):
    settings.API_THROTTLE_RATES = {"anon": "60/minute", "user": "3/minute"}
    api = api_client_for(make_person("duty_staff"))

    codes = [api.get("/api/v1/incidents/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/incidents/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_api_throttles_anonymous_callers_with_429_and_retry_after(settings):
    settings.API_THROTTLE_RATES = {"anon": "2/minute", "user": "1200/minute"}
    client = Client()

    codes = [client.get("/api/v1/incidents/").status_code for _ in range(3)]

    assert codes == [401, 401, 429]
    assert int(client.get("/api/v1/incidents/")["Retry-After"]) >= 1


def test_the_api_throttles_a_caller_guessing_tokens(settings):
    from rest_framework.test import APIClient

    settings.API_THROTTLE_RATES = {"anon": "2/minute", "user": "1200/minute"}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token guessed")

    codes = [api.get("/api/v1/incidents/").status_code for _ in range(3)]

    assert codes == [401, 401, 429]


def test_the_monitoring_hooks_keep_their_own_rate_and_are_not_api_throttled(settings):
    from alerts.api import AlertmanagerWebhook

    assert AlertmanagerWebhook.throttle_classes == []


def test_the_default_throttle_rates_apply_to_the_whole_api():
    from rest_framework.settings import api_settings

    assert [c.rsplit(".", 1)[1] for c in api_settings.user_settings["DEFAULT_THROTTLE_CLASSES"]] == [
        "AnonRateThrottle", "UserRateThrottle"]


CLIENT_ADDRESS_PROBE = """
import django
django.setup()
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
from rest_framework.request import Request
from core.throttles import AnonRateThrottle

request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=XFF)
print(get_client_ip_address(request), AnonRateThrottle().get_ident(Request(request)))
"""


@pytest.mark.parametrize("proxies, forwarded_for, client", [
    ("0", "6.6.6.6", "10.0.0.5"),  # no proxy configured: a client's own header is not believed
    ("1", "8.8.8.8", "8.8.8.8"),  # the compose nginx
    ("1", "6.6.6.6, 8.8.8.8", "8.8.8.8"),  # a forged entry on the left is ignored
    ("2", "6.6.6.6, 8.8.8.8, 10.1.1.1", "8.8.8.8"),  # a TLS proxy in front of nginx
])
def test_lockout_and_throttles_count_the_client_behind_the_configured_proxies(proxies, forwarded_for, client):
    import os
    import subprocess
    import sys

    env = {**os.environ, "AXES_PROXY_COUNT": proxies, "DJANGO_SETTINGS_MODULE": "config.settings"}
    probe = f"XFF = {forwarded_for!r}\n" + CLIENT_ADDRESS_PROBE
    output = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert output.stdout.split() == [client, client]
