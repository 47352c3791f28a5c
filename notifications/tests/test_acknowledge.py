"""Confirming a notification read ("I have read this"): the in-app button, the signed link in messages,
and the service the API's ack action calls."""

import pytest
from django.core import signing
from django.test import Client

from notifications.answers import confirm_read
from notifications.messages import ack_url
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang_notified(make_person, open_incident):
    wang = make_person("tech_group", username="wang", language="en")
    open_incident()
    return wang, Notification.objects.get(person=wang)


def _client(person):
    client = Client()
    client.force_login(person)
    return client


def test_the_bell_on_every_page_counts_unread_notifications(wang_notified):
    wang, _n = wang_notified
    page = _client(wang).get("/notifications/roster/")
    assert page.context["unread_notifications"] == 1
    assert b'data-bell-count>1<' in page.content


def test_the_notification_list_shows_an_i_have_read_this_button_and_its_mark_read_button_marks_them_read(wang_notified):
    wang, notification = wang_notified
    client = _client(wang)
    page = client.get("/notifications/")
    assert notification.title in page.content.decode()
    assert f'/notifications/{notification.pk}/ack/' in page.content.decode()
    assert client.get("/notifications/roster/").context["unread_notifications"] == 1
    assert client.post("/notifications/read/").status_code == 302
    assert client.get("/notifications/roster/").context["unread_notifications"] == 0


def test_the_i_have_read_this_button_confirms_the_notification_read(wang_notified):
    wang, notification = wang_notified
    response = _client(wang).post(f"/notifications/{notification.pk}/ack/")
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.acknowledged_at is not None


def test_nobody_can_confirm_someone_elses_notification_from_the_page(wang_notified, make_person):
    _wang, notification = wang_notified
    other = make_person("office")
    assert _client(other).post(f"/notifications/{notification.pk}/ack/").status_code == 404
    notification.refresh_from_db()
    assert notification.acknowledged_at is None


def test_the_signed_link_shows_a_button_on_get_and_confirms_on_post(wang_notified):
    _wang, notification = wang_notified
    path = ack_url(notification).removeprefix("https://fenghuo.example.test")
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    notification.refresh_from_db()
    assert notification.acknowledged_at is None, "a link preview must not acknowledge"
    assert client.post(path).status_code == 200
    notification.refresh_from_db()
    assert notification.acknowledged_at is not None


def test_an_expired_link_is_refused_with_a_reason(wang_notified, time_machine, settings):
    from django.utils import timezone

    _wang, notification = wang_notified
    time_machine.move_to(timezone.now(), tick=False)
    settings.NOTIFICATIONS_ACK_LINK_MAX_AGE = 3600
    path = ack_url(notification).removeprefix("https://fenghuo.example.test")
    time_machine.shift(7200)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(path)
    assert response.status_code == 410
    assert b"expired" in response.content
    notification.refresh_from_db()
    assert notification.acknowledged_at is None


def test_a_forged_link_is_refused(wang_notified):
    _wang, notification = wang_notified
    forged = signing.TimestampSigner(salt="something-else").sign(str(notification.pk))
    assert Client().post(f"/notifications/ack/{forged}/").status_code == 400
    notification.refresh_from_db()
    assert notification.acknowledged_at is None


def test_confirm_read_refuses_another_person_with_a_permission_error(wang_notified, make_person):
    _wang, notification = wang_notified
    with pytest.raises(PermissionError):
        confirm_read(notification, person=make_person("office"))


def test_confirming_twice_keeps_the_first_time(wang_notified):
    wang, notification = wang_notified
    first = confirm_read(notification, person=wang).acknowledged_at
    assert confirm_read(notification, person=wang).acknowledged_at == first
