"""Pages speak the person's chosen language, else the browser's (zh-hans or en)."""

import pytest

from incidents import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(shipped_plan, make_person):
    return services.log_fault(reporter=make_person("office"), category="system", level="yellow", title="Host slow")


def test_browser_asking_for_english_gets_english_pages(client, make_person, incident):
    client.force_login(make_person("duty_staff"))
    new = client.get("/incidents/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in new and "Log a fault" in new and "Serious (level 3)" in new
    detail = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Deadlines" in detail and "Timeline" in detail


def test_browser_asking_for_chinese_gets_chinese_pages(client, make_person, incident):
    client.force_login(make_person("duty_staff"))
    new = client.get("/incidents/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in new
    assert "记录故障" in new and "较重预警（三级）" in new and "Log a fault" not in new
    detail = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "时限" in detail and "时间线" in detail and "Deadlines" not in detail
    listing = client.get("/incidents/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "全部事件" in listing


def test_sign_in_page_follows_the_browser(client):
    assert "登录" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Sign in" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_person_with_a_chosen_language_gets_it_whatever_the_browser_says(client, make_person, incident):
    client.force_login(make_person("duty_staff", language="en"))
    html = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in html and "Deadlines" in html


def test_language_switch_is_remembered_on_the_person(client, make_person, incident):
    person = make_person("duty_staff")
    client.force_login(person)
    response = client.post("/accounts/language/", {"language": "zh-hans", "next": f"/incidents/{incident.pk}/"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/"
    person.refresh_from_db()
    assert person.language == "zh-hans"
    client.cookies.clear()  # the choice lives on the person, not only in this browser's cookie
    client.force_login(person)
    html = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in html and "时间线" in html

    client.post("/accounts/language/", {"language": "en", "next": "/incidents/"})
    person.refresh_from_db()
    assert person.language == "en"
    assert "All incidents" in client.get("/incidents/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_unknown_language_changes_nothing(client, make_person):
    person = make_person("duty_staff", language="en")
    client.force_login(person)
    client.post("/accounts/language/", {"language": "klingon", "next": "/incidents/"})
    person.refresh_from_db()
    assert person.language == "en"
