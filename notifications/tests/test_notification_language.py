"""A notification stores facts and reads in its reader's language (notifications/facts.py).

The stored title and body stay the copy its person's own channels sent; the
list page, the API and the robots say the facts in their reader's language.
"""

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext_noop

from notifications.facts import join_list, localized, note_text
from notifications.messages import message_for, robot_message
from notifications.models import ChannelConfig, Delivery, Notification
from notifications.recipients import notify_roles

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u3400-\u9fff]")


def _client(person, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(person)
    return client


@pytest.fixture
def written_in_english(make_person, open_incident):
    """Wang chose English when he was told; he reads Chinese now."""
    wang = make_person("tech_group", username="wang", language="en")
    with translation.override("en"):
        incident = open_incident(level="yellow")
    notification = Notification.objects.get(person=wang)
    assert notification.title.startswith("Serious") and "Be on site" in notification.body  # the copy sent to him
    wang.language = "zh-hans"
    wang.save(update_fields=["language"])
    return wang, incident, notification


def test_a_notification_written_in_english_reads_in_chinese_on_the_list(written_in_english):
    wang, _incident, notification = written_in_english
    page = _client(wang, "zh-hans").get("/notifications/").content.decode()
    assert notification.title not in page and notification.body not in page
    with translation.override("zh-hans"):
        title, body = notification.in_reader_language()
    assert CHINESE.search(title) and "到场" in body
    assert title in page and body in page


def test_a_notification_written_in_english_reads_in_chinese_in_the_api(written_in_english, api_client_for):
    wang, _incident, notification = written_in_english
    [item] = api_client_for(wang).get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    assert item["title"] != notification.title and CHINESE.search(item["title"]) and "#" in item["title"]
    assert "到场" in item["body"] and "Be on site" not in item["body"]


def test_the_copy_a_persons_channel_sends_stays_the_one_written_for_them(written_in_english):
    _wang, _incident, notification = written_in_english
    with translation.override("zh-hans"):
        message = message_for(notification)
    assert (message.title, message.text) == (notification.title, notification.body)


def test_a_robot_says_the_facts_in_its_own_language(make_person, open_incident):
    ChannelConfig.objects.create(name="ops group", kind="webhook", url="https://hooks.example.test/fenghuo",
                                 secret="webhook-secret-0123456789", role_key="tech_group", language="en")
    make_person("tech_group", username="wang", language="zh-hans")
    open_incident(level="yellow")
    assert CHINESE.search(Notification.objects.get().title)
    message = robot_message(Delivery.objects.get(kind="webhook"))
    assert not CHINESE.search(message.title + message.text), message.text
    assert "Be on site" in message.text


def test_a_system_note_is_stored_as_facts_and_read_in_each_readers_language(make_person, open_incident):
    zh, en = make_person("office", username="zhang", language="zh-hans"), make_person("office", username="li",
                                                                                     language="en")
    incident = open_incident(level="blue")
    note = {"msgid": gettext_noop("Nobody in %(role)s acknowledged: %(names)s."),
            "params": {"role": {"zh-hans": "技术应急小组", "en": "Technical group"}, "names": {"list": ["wang", "li"]}}}
    with translation.override("en"):  # the worker's language is no one's
        notify_roles(incident, role_keys=["office"], event="unanswered:x", note=note)
    for_zh, for_en = Notification.objects.get(person=zh), Notification.objects.get(person=en)
    assert "技术应急小组" in for_zh.body and "wang、li" in for_zh.body and "Nobody" not in for_zh.body
    assert "Nobody in Technical group acknowledged: wang, li." in for_en.body
    assert for_zh.facts["note"] == note
    with translation.override("en"):
        assert "Nobody in Technical group" in for_zh.reader_body


def test_a_text_written_in_both_languages_reaches_each_person_in_theirs(make_person, open_incident):
    zh, en = make_person("office", username="zhang", language="zh-hans"), make_person("office", username="li",
                                                                                     language="en")
    incident = open_incident(level="orange")
    notify_roles(incident, role_keys=["office"], event="announcement:1",
                 note={"text": {"zh-hans": "请各业务部门注意", "en": "Business units, take note"}})
    for_zh, for_en = (Notification.objects.get(person=p, event="announcement:1") for p in (zh, en))
    assert "请各业务部门注意" in for_zh.body and "Business units" not in for_zh.body
    assert "Business units, take note" in for_en.body and "请各业务部门注意" not in for_en.body


def test_notifications_from_before_facts_read_as_they_were_stored(make_person, open_incident):
    wang = make_person("tech_group", username="wang", language="en")
    open_incident()
    Notification.objects.filter(person=wang).update(facts={}, title="stored title", body="stored body")
    page = _client(wang, "zh-hans").get("/notifications/").content.decode()
    assert "stored title" in page and "stored body" in page


def test_a_note_in_an_odd_shape_reads_as_text_never_a_traceback():
    assert note_text(None) == "" and note_text("typed") == "typed"
    assert note_text({"msgid": "%(missing)s here", "params": {}}) == "%(missing)s here"
    assert note_text({"something": "else"}) == ""
    with translation.override("en"):
        assert localized({"zh-hans": "甲"}) == "甲" and localized({"en": "a", "zh-hans": "甲"}) == "a"
        assert join_list(["a", "b"]) == "a, b"
    with translation.override("zh-hans"):
        assert join_list(["甲", "乙"]) == "甲、乙"


@pytest.mark.parametrize(("language", "role"), [("en", "Technical group"), ("zh-hans", "技术应急小组")])
def test_a_robot_names_the_role_nobody_holds_by_the_plans_name_not_its_key(open_incident, language, role):
    ChannelConfig.objects.create(name="ops group", kind="webhook", url="https://hooks.example.test/fenghuo",
                                 secret="webhook-secret-0123456789", role_key="tech_group", language=language)
    open_incident(level="yellow")  # nobody holds tech_group
    message = robot_message(Delivery.objects.get(kind="webhook"))
    assert role in message.text and "tech_group" not in message.text, message.text
