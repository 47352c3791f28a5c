"""The live bell (GET /notifications/bell/), the list that updates itself, and reading that is not answering.

Opening the list reads nothing; "I have read this" answers the message and nothing more: the incident
is taken on only by "I am taking this on" (incidents/tests/test_live_list.py tests that side).
"""

import pytest
from django.test import Client

from notifications.models import Ask, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang(make_person):
    return make_person("tech_group", username="wang", language="en")


READ, TAKE_ON = '>I have read this</button>', '>I am taking this on</button>'


def _client(person):
    client = Client()
    client.force_login(person)
    return client


def test_the_bell_answers_the_unread_count_and_the_latest_notifications_as_json(wang, open_incident):
    open_incident(title="Credit query timeouts")
    response = _client(wang).get("/notifications/bell/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["unread"] == 1
    [latest] = body["latest"]
    assert "Credit query timeouts" in latest["title"] and latest["unread"] is True
    assert latest["url"] == f"/incidents/{Notification.objects.get(person=wang).incident_id}/"
    assert response["ETag"] and "no-cache" in response["Cache-Control"]


def test_an_unchanged_bell_is_a_304_and_a_new_notification_changes_it(wang, open_incident):
    open_incident()
    client = _client(wang)
    etag = client.get("/notifications/bell/")["ETag"]
    assert client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    open_incident(title="Second fault")
    again = client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again.json()["unread"] == 2


def test_reading_elsewhere_changes_the_bell(wang, open_incident):
    open_incident()
    client = _client(wang)
    etag = client.get("/notifications/bell/")["ETag"]
    client.post("/notifications/read/")
    again = client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again.json()["unread"] == 0


def test_the_bell_and_the_list_items_cost_four_queries_and_their_304_three(wang, open_incident, django_assert_num_queries):
    # session, person, the one fingerprint query; the 200 adds the latest notifications.
    for n in range(3):
        open_incident(title=f"fault {n}")
    client = _client(wang)
    with django_assert_num_queries(4):
        etag = client.get("/notifications/bell/")["ETag"]
    with django_assert_num_queries(3):
        assert client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    # The list's items: the same fingerprint, and the 200 reads the list with its incidents in one query.
    with django_assert_num_queries(4):
        etag = client.get("/notifications/items/")["ETag"]
    with django_assert_num_queries(3):
        assert client.get("/notifications/items/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_signed_out_poll_gets_401_not_the_login_page(db):
    assert Client().get("/notifications/bell/").status_code == 401
    assert Client().get("/notifications/items/").status_code == 401


def test_opening_the_list_marks_nothing_read(wang, open_incident):
    open_incident()
    client = _client(wang)
    assert client.get("/notifications/").status_code == 200
    assert client.get("/notifications/items/").status_code == 200
    assert client.get("/notifications/bell/").json()["unread"] == 1
    assert Notification.objects.get(person=wang).read_at is None


def test_the_list_items_update_with_an_etag(wang, open_incident):
    open_incident(title="First fault")
    client = _client(wang)
    first = client.get("/notifications/items/")
    assert "First fault" in first.content.decode()
    assert client.get("/notifications/items/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    open_incident(title="Second fault")
    again = client.get("/notifications/items/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "Second fault" in again.content.decode()
    assert again["ETag"] != client.get("/notifications/bell/")["ETag"], "JSON and HTML never share a tag"


def test_each_notification_offers_reading_and_taking_the_incident_on_named_apart(wang, open_incident):
    incident = open_incident()
    notification = Notification.objects.get(person=wang)
    assert notification.ask in (Ask.ACKNOWLEDGE, Ask.ON_SITE)
    html = _client(wang).get("/notifications/").content.decode()
    assert f'action="/notifications/{notification.pk}/ack/"' in html and READ in html
    assert f'action="/incidents/{incident.pk}/act/acknowledge/"' in html and TAKE_ON in html


def test_the_list_speaks_chinese_to_a_chinese_reader(make_person, open_incident):
    li = make_person("tech_group", language="zh-hans")
    open_incident()
    html = _client(li).get("/notifications/").content.decode()
    assert ">我已阅读</button>" in html and ">由我接手处置</button>" in html and "I have read this" not in html


def test_i_have_read_this_answers_the_message_but_does_not_take_the_incident_on(wang, open_incident):
    incident = open_incident()
    notification = Notification.objects.get(person=wang)
    client = _client(wang)
    assert client.post(f"/notifications/{notification.pk}/ack/").status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None and notification.acknowledged_at is not None
    incident.refresh_from_db()
    assert incident.acknowledged_at is None and incident.status == "reported"
    html = client.get("/notifications/").content.decode()
    assert "Read and confirmed at" in html and READ not in html
    # Still open and nobody has taken it on: taking it on is still offered.
    assert TAKE_ON in html


def test_i_have_read_this_on_a_message_that_asks_nothing_only_marks_it_read(wang, open_incident):
    open_incident()
    notification = Notification.objects.get(person=wang)
    Notification.objects.filter(pk=notification.pk).update(ask=Ask.FYI)
    _client(wang).post(f"/notifications/{notification.pk}/ack/")
    notification.refresh_from_db()
    assert notification.read_at is not None and notification.acknowledged_at is None


def test_the_signed_link_page_says_i_have_read_this(wang, open_incident):
    from notifications.messages import ack_url

    open_incident()
    notification = Notification.objects.get(person=wang)
    path = ack_url(notification).split("://", 1)[1].split("/", 1)[1]
    page = Client().get(f"/{path}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert READ in page and TAKE_ON not in page  # signed out: only reading
    assert ">我已阅读</button>" in Client().get(f"/{path}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
