"""A personal-token API caller gets the language they chose in Fenghuo, whatever Accept-Language says;
without a choice, Accept-Language (then the default) decides, as for the pages."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(shipped_plan):
    from incidents.services import log_fault

    return log_fault(reporter=None, category="system", level="yellow", title="Savings host slow")


def _bad_fault(client, accept):
    return client.post("/api/v1/incidents/", {"title": "x", "category": "system", "level": "purple"},
                       format="json", HTTP_ACCEPT_LANGUAGE=accept)


def test_a_token_caller_who_chose_chinese_gets_chinese_errors_even_asking_for_english(shipped_plan, make_person, api_client_for):
    client = api_client_for(make_person("duty_staff", language="zh-hans"))
    response = _bad_fault(client, "en")
    assert response.status_code == 400
    assert response["Content-Language"] == "zh-hans"
    text = response.content.decode()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text


def test_a_token_caller_who_chose_english_gets_english_errors_even_asking_for_chinese(shipped_plan, make_person, api_client_for):
    client = api_client_for(make_person("duty_staff", language="en"))
    response = _bad_fault(client, "zh-hans")
    assert response.status_code == 400
    assert response["Content-Language"] == "en"
    text = response.content.decode()
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text), text


def test_a_refusal_follows_the_token_callers_language(make_person, api_client_for, incident):
    chinese = api_client_for(make_person("office", language="zh-hans"))
    english = api_client_for(make_person("office", language="en"))
    assert chinese.post(f"/api/v1/incidents/{incident.pk}/acknowledge/").status_code == 200
    zh = chinese.post(f"/api/v1/incidents/{incident.pk}/acknowledge/", HTTP_ACCEPT_LANGUAGE="en")
    en = english.post(f"/api/v1/incidents/{incident.pk}/acknowledge/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == en.status_code == 409
    assert zh.json() != en.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.content.decode())
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.content.decode())


def test_without_a_chosen_language_the_token_caller_gets_accept_language(shipped_plan, make_person, api_client_for):
    client = api_client_for(make_person("duty_staff"))
    assert _bad_fault(client, "zh-hans")["Content-Language"] == "zh-hans"
    assert _bad_fault(client, "en")["Content-Language"] == "en"
