"""The caller's notifications through the API, and acknowledging one."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services
from notifications.models import Notification

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def told(shipped_plan, make_person, api_client_for):
    """An operations supervisor (and an office member), told of two yellow system faults; the supervisor's client."""
    supervisor = make_person("ops_supervisor")
    reporter = make_person("duty_staff")
    make_person("office")  # told as well
    first = services.log_fault(reporter=reporter, category="system", level="yellow", title="Savings host slow")
    second = services.log_fault(reporter=reporter, category="system", level="yellow", title="Batch stuck")
    return supervisor, api_client_for(supervisor), first, second


def test_the_list_holds_only_the_callers_notifications_newest_first(told, make_person):
    supervisor, client, first, second = told
    response = client.get("/api/v1/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    mine = Notification.objects.filter(person=supervisor)
    assert body["count"] == mine.count() == 2
    assert [n["incident"] for n in body["results"]] == [second.pk, first.pk]
    latest = body["results"][0]
    assert {"id", "incident", "title", "body", "ask", "level", "due_at", "created_at", "acknowledged_at"} <= set(latest)
    assert latest["ask"] == "on_site" and latest["level"] == "yellow" and latest["acknowledged_at"] is None
    assert ISO_WITH_OFFSET.match(latest["due_at"]) and ISO_WITH_OFFSET.match(latest["created_at"])
    assert Notification.objects.exclude(person=supervisor).exists()  # others were told too, and are not listed


def test_the_list_filters_by_incident(told):
    _supervisor, client, first, _second = told
    response = client.get(f"/api/v1/notifications/?incident={first.pk}")

    assert [n["incident"] for n in response.json()["results"]] == [first.pk]
    assert client.get("/api/v1/notifications/?incident=first").status_code == 400


def test_a_notification_held_back_for_the_people_on_duty_is_not_listed_yet(told):
    supervisor, client, first, _second = told
    Notification.objects.filter(person=supervisor, incident=first).update(
        visible_from=timezone.now() + timedelta(minutes=5))

    assert [n["incident"] for n in client.get("/api/v1/notifications/").json()["results"]] == [_second.pk]


def test_acknowledging_a_notification(told):
    supervisor, client, first, _second = told
    notification = Notification.objects.get(person=supervisor, incident=first)
    response = client.post(f"/api/v1/notifications/{notification.pk}/ack/")

    assert response.status_code == 200
    assert ISO_WITH_OFFSET.match(response.json()["acknowledged_at"])
    notification.refresh_from_db()
    assert notification.acknowledged_at is not None
    again = client.post(f"/api/v1/notifications/{notification.pk}/ack/")
    assert again.status_code == 200 and again.json()["acknowledged_at"] == response.json()["acknowledged_at"]


def test_nobody_can_acknowledge_someone_elses_notification(told):
    supervisor, client, _first, _second = told
    other = Notification.objects.exclude(person=supervisor).exclude(person=None).first()

    for pk in (other.pk, 999999, "abc"):
        response = client.post(f"/api/v1/notifications/{pk}/ack/")
        assert response.status_code == 404
        assert "detail" in response.json()
    other.refresh_from_db()
    assert other.acknowledged_at is None


def test_notifications_need_a_signed_in_caller(told):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/notifications/").status_code == 401


def test_reading_the_notifications_list_twice_leaves_them_unread_until_a_post_marks_them_read(told):
    supervisor, client, first, _second = told
    for _ in range(2):
        assert client.get("/api/v1/notifications/").status_code == 200
    assert Notification.objects.filter(person=supervisor, read_at__isnull=True).count() == 2
    one = Notification.objects.filter(person=supervisor, incident=first).first()
    response = client.post(f"/api/v1/notifications/{one.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert Notification.objects.filter(person=supervisor, read_at__isnull=True).count() == 1
    assert client.post("/api/v1/notifications/read/").json() == {"marked": 1}
    assert not Notification.objects.filter(person=supervisor, read_at__isnull=True).exists()


def test_the_notifications_page_does_not_mark_read_on_get_and_its_mark_read_form_needs_csrf(told):
    from django.test import Client

    supervisor, _api, _first, _second = told
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(supervisor)
    for _ in range(2):
        page = browser.get("/notifications/")
        assert page.status_code == 200
    assert Notification.objects.filter(person=supervisor, read_at__isnull=True).count() == 2
    assert browser.post("/notifications/read/").status_code == 403
    assert Notification.objects.filter(person=supervisor, read_at__isnull=True).count() == 2
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert browser.post("/notifications/read/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert not Notification.objects.filter(person=supervisor, read_at__isnull=True).exists()
