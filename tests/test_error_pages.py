"""Issue 14: with DEBUG off the error pages are Fenghuo's own, in the reader's language, and give nothing away.

Django's debug pages list every URL pattern and show tracebacks; its bare production pages are English only.
"""

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.utils import translation

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.support.error_urls")]

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
# What Django's own pages would show instead.
LEAKS = ("Using the URLconf", "Traceback", "RuntimeError", "a bug: this view always fails", "test-errors",
         "DEBUG = True", "api/v1/")


def production_client(**kwargs):
    client = Client(**kwargs)
    client.raise_request_exception = False  # as in production: the handler answers, the test does not re-raise
    return client


def assert_own_page(response, status, *texts):
    html = response.content.decode()
    assert response.status_code == status, html[:500]
    assert response["Content-Type"].startswith("text/html")
    for text in texts:
        assert text in html, text
    for leak in LEAKS:
        assert leak not in html, leak
    return html


@override_settings(DEBUG=False)
@pytest.mark.parametrize(("headers", "title", "text"), [
    (ZH, "页面不存在", "此地址没有页面"),
    (EN, "Page not found", "There is no page at this address"),
])
def test_an_unknown_page_is_fenghuos_404_in_the_browsers_language_without_the_url_list(headers, title, text):
    response = production_client().get("/no-such-page/", **headers)

    html = assert_own_page(response, 404, title, text, 'href="/dashboard/"')
    assert 'lang="zh-hans"' in html if headers is ZH else 'lang="en"' in html


@override_settings(DEBUG=False)
def test_a_signed_in_persons_own_language_wins_on_the_error_page(make_person):
    client = production_client()
    client.force_login(make_person("duty_staff", language="en"))

    response = client.get("/no-such-page/", **ZH)

    assert_own_page(response, 404, "Page not found")


@override_settings(DEBUG=False)
@pytest.mark.parametrize(("headers", "title", "text"), [
    (ZH, "无权访问", "请向应急办公室申请相应的预案角色"),
    (EN, "Not allowed", "ask the emergency office for the plan role"),
])
def test_a_refused_page_is_fenghuos_403(headers, title, text, make_person):
    client = production_client()
    client.force_login(make_person("duty_staff"))

    response = client.get("/test-errors/403/", **headers)

    assert_own_page(response, 403, title, text)


@override_settings(DEBUG=False)
def test_a_refusal_under_api_stays_json():
    response = production_client().get("/api/test-errors/403/", **EN)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@override_settings(DEBUG=False)
@pytest.mark.parametrize(("headers", "title", "text"), [
    (ZH, "无法识别的请求", "请返回，刷新页面后重试"),
    (EN, "Request not understood", "Go back, reload the page and try again."),
])
def test_a_request_django_cannot_trust_is_fenghuos_400(headers, title, text):
    response = production_client().get("/test-errors/400/", **headers)

    assert_own_page(response, 400, title, text)


@override_settings(DEBUG=False)
def test_an_unknown_host_is_the_400_page_too():
    response = production_client().get("/dashboard/", HTTP_HOST="attacker.example", **EN)

    assert_own_page(response, 400, "Request not understood")


@override_settings(DEBUG=False)
@pytest.mark.parametrize(("headers", "title", "text"), [
    (ZH, "出错了", "服务器内部出错，已记录日志。"),
    (EN, "Something went wrong", "Something went wrong on our side; it has been logged."),
])
def test_a_bug_is_fenghuos_500_without_a_traceback(headers, title, text):
    response = production_client().get("/test-errors/500/", **headers)

    assert_own_page(response, 500, title, text, "phone the emergency office" if headers is EN else "应急办公室")


def refuse_every_query(execute, sql, params, many, context):
    raise OperationalError("the database is down")


@override_settings(DEBUG=False)
def test_the_500_page_renders_with_the_database_down():
    with connection.execute_wrapper(refuse_every_query):
        response = production_client().get("/test-errors/500/", **ZH)

    assert_own_page(response, 500, "出错了")


def test_the_500_template_needs_neither_a_request_nor_the_database():
    from django.template import loader

    with connection.execute_wrapper(refuse_every_query), translation.override("en"):
        html = loader.get_template("500.html").render()

    assert "Something went wrong" in html and "<svg" in html


@override_settings(DEBUG=False)
@pytest.mark.parametrize(("headers", "title", "text"), [
    (ZH, "表单已失效", "本次未保存任何内容"),
    (EN, "The form has expired", "Nothing was saved."),
])
def test_a_form_without_its_csrf_token_gets_fenghuos_page(headers, title, text, make_person):
    client = production_client(enforce_csrf_checks=True)
    client.force_login(make_person("duty_staff"))
    client.get("/dashboard/")  # the CSRF cookie is set, the form's token is missing

    response = client.post("/accounts/language/", {"language": "en"}, **headers)

    html = assert_own_page(response, 403, title, text)
    assert "CSRF" not in html and "Forbidden" not in html


@override_settings(DEBUG=False)
def test_a_form_without_the_csrf_cookie_is_told_to_accept_cookies():
    response = production_client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"}, **EN)

    assert_own_page(response, 403, "The form has expired", "accepts cookies from Fenghuo")
