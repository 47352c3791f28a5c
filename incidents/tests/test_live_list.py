"""The incident list updates itself (GET /incidents/rows/ with an ETag), and "I am taking this on".

Taking an incident on (the incident's acknowledge action, from its page, the notification list or
the API) also answers the taker's notifications about it; reading a notification does not take the
incident on (notifications/tests/test_live_bell.py).
"""

import pytest
from django.test import Client

from incidents import services
from notifications.models import Notification

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def office(shipped_plan, make_person):
    return make_person("office", username="office-li")


def _client(person):
    client = Client()
    client.force_login(person)
    return client


def _log(title, level="yellow", category="system"):
    return services.log_fault(reporter=None, category=category, level=level, title=title)


def test_the_rows_fragment_has_the_lists_rows_and_a_304_while_nothing_changes(office):
    incident = _log("Savings host slow")
    client = _client(office)
    first = client.get("/incidents/rows/", **EN)
    assert first.status_code == 200 and first["ETag"]
    html = first.content.decode()
    assert f"#{incident.pk} Savings host slow" in html and "<html" not in html
    assert client.get("/incidents/rows/", HTTP_IF_NONE_MATCH=first["ETag"], **EN).status_code == 304


def test_a_new_incident_changes_the_rows(office):
    _log("First")
    client = _client(office)
    etag = client.get("/incidents/rows/", **EN)["ETag"]
    second = _log("Second")
    again = client.get("/incidents/rows/", HTTP_IF_NONE_MATCH=etag, **EN)
    assert again.status_code == 200 and f"#{second.pk} Second" in again.content.decode()


def test_a_change_of_status_changes_the_rows(office):
    incident = _log("First")
    client = _client(office)
    etag = client.get("/incidents/rows/", **EN)["ETag"]
    services.acknowledge(incident, actor=office)
    again = client.get("/incidents/rows/", HTTP_IF_NONE_MATCH=etag, **EN)
    assert again.status_code == 200 and "Acknowledged" in again.content.decode()


def test_the_rows_follow_the_lists_filters(office):
    _log("Yellow fault", level="yellow")
    _log("Blue fault", level="blue", category="network")
    html = _client(office).get("/incidents/rows/?level=blue", **EN).content.decode()
    assert "Blue fault" in html and "Yellow fault" not in html
    page = _client(office).get("/incidents/?level=blue", **EN).content.decode()
    assert 'data-live-url="/incidents/rows/?level=blue"' in page


def test_the_rows_etag_depends_on_the_filters_and_the_language(office):
    _log("First")
    client = _client(office)
    tags = {client.get("/incidents/rows/", **EN)["ETag"],
            client.get("/incidents/rows/?open=true", **EN)["ETag"],
            client.get("/incidents/rows/", HTTP_ACCEPT_LANGUAGE="zh-hans")["ETag"]}
    assert len(tags) == 3


def test_a_poll_without_a_session_gets_401_and_without_access_403(office, make_person):
    assert Client().get("/incidents/rows/").status_code == 401
    assert _client(make_person()).get("/incidents/rows/").status_code == 403


def test_the_rows_cost_a_fixed_number_of_queries_and_the_304_one_more_than_the_session(
        office, django_assert_num_queries):
    for n in range(5):
        _log(f"fault {n}")
    client = _client(office)
    # session, person, roles (may read incidents), the fingerprint; the 200 adds the count and the page.
    with django_assert_num_queries(6):
        etag = client.get("/incidents/rows/", **EN)["ETag"]
    with django_assert_num_queries(4):
        assert client.get("/incidents/rows/", HTTP_IF_NONE_MATCH=etag, **EN).status_code == 304


def test_taking_the_incident_on_from_the_notification_list_acknowledges_it_and_reads_the_notification(
        shipped_plan, make_person):
    responder = make_person("ops_supervisor", language="en")
    incident = _log("Savings host slow")
    notification = Notification.objects.get(person=responder, incident=incident)
    client = _client(responder)
    html = client.get("/notifications/").content.decode()
    assert f'action="/incidents/{incident.pk}/act/acknowledge/"' in html

    response = client.post(f"/incidents/{incident.pk}/act/acknowledge/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.acknowledged_by == responder
    notification.refresh_from_db()
    assert notification.read_at is not None and notification.acknowledged_at is not None
    after = client.get("/notifications/").content.decode()
    assert ">I am taking this on</button>" not in after, "nobody is offered to take on a taken incident"


def test_taking_the_incident_on_through_the_api_answers_the_takers_notifications(
        shipped_plan, make_person, api_client_for):
    responder = make_person("ops_supervisor")
    incident = _log("Savings host slow")
    assert api_client_for(responder).post(f"/api/v1/incidents/{incident.pk}/acknowledge/").status_code == 200
    assert not Notification.objects.filter(person=responder, incident=incident, acknowledged_at__isnull=True).exists()


def test_checking_in_on_site_answers_the_persons_notifications_about_the_incident(
        shipped_plan, make_person, api_client_for):
    responder = make_person("ops_supervisor")
    incident = _log("Savings host slow")
    api = api_client_for(responder)
    assert api.post(f"/api/v1/incidents/{incident.pk}/acknowledge/").status_code == 200
    services.escalate(incident, level_key="orange", actor=make_person("office"), reason="spreading")
    assert Notification.objects.filter(person=responder, incident=incident, acknowledged_at__isnull=True).exists()
    assert api.post(f"/api/v1/incidents/{incident.pk}/check-in/").status_code == 200
    assert not Notification.objects.filter(person=responder, incident=incident, acknowledged_at__isnull=True).exists()


def test_the_incident_page_says_i_am_taking_this_on(shipped_plan, make_person):
    responder = make_person("ops_supervisor")
    incident = _log("Savings host slow")
    client = _client(responder)
    assert "I am taking this on" in client.get(f"/incidents/{incident.pk}/", **EN).content.decode()
    assert "由我接手处置" in client.get(f"/incidents/{incident.pk}/",
                                       HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_the_rows_answer_nonsense_filters_like_the_list_never_with_a_500(office):
    _log("First")
    client = _client(office)
    for query in ("page=zz", "page=999", "level=%3Cscript%3E&open=maybe", "category=" + "x" * 500):
        response = client.get(f"/incidents/rows/?{query}", **EN)
        assert response.status_code == 200, query
