"""Reading incidents needs a plan role, staff status or the auditor permission (issue 13, finding 8)."""

import pytest
from django.contrib.auth.models import Permission

from incidents.models import Incident, Source

PAGES = ["/dashboard/", "/incidents/", "/incidents/mine/", "/approvals/", "/announcements/", "/notifications/",
         "/notifications/roster/", "/incidents/new/"]


@pytest.fixture
def incident(shipped_plan, make_person):
    from incidents import services

    return services.log_fault(reporter=make_person("duty_staff"), plan_version=shipped_plan,
                              category="network", level="blue", title="核心交换机端口闪断", source=Source.MANUAL)


def test_an_account_with_no_plan_role_is_refused_every_incident_api_endpoint(incident, make_person, api_client_for):
    client = api_client_for(make_person())
    for url in ("/api/v1/incidents/", f"/api/v1/incidents/{incident.pk}/", f"/api/v1/incidents/{incident.pk}/timeline/",
                "/api/v1/notifications/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403, url
        assert response.json()["code"] == "no_plan_role"
        assert "no role in the emergency plan" in response.json()["detail"]
    assert client.post(f"/api/v1/incidents/{incident.pk}/acknowledge/", {}, format="json").status_code == 403


def test_the_refusal_is_in_the_callers_language(incident, make_person, api_client_for):
    client = api_client_for(make_person(language="zh-hans"))
    response = client.get("/api/v1/incidents/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    assert "应急预案" in response.json()["detail"]


def test_an_anonymous_caller_still_gets_401_not_403(incident, client):
    assert client.get("/api/v1/incidents/").status_code == 401


@pytest.mark.parametrize("language, expected", [("en", "No access yet"), ("zh-hans", "暂无访问权限")])
def test_an_account_with_no_plan_role_gets_a_polite_page_on_every_incident_page(
        incident, make_person, client, language, expected):
    client.force_login(make_person(language=language))
    for url in PAGES + [f"/incidents/{incident.pk}/"]:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 403, url
        page = response.content.decode()
        assert expected in page, url
        assert incident.title not in page, url


def test_the_dashboard_poll_of_an_account_with_no_role_is_403(incident, make_person, client):
    client.force_login(make_person())
    assert client.get("/dashboard/fragment/").status_code == 403


@pytest.mark.parametrize("how", ["role", "staff", "auditor"])
def test_a_plan_role_staff_status_or_the_auditor_permission_each_grant_reading(
        incident, make_person, api_client_for, client, how):
    if how == "role":
        person = make_person("duty_staff")
    elif how == "staff":
        person = make_person(is_staff=True)
    else:
        person = make_person()
        person.user_permissions.add(Permission.objects.get(codename="audit", content_type__app_label="people"))
    response = api_client_for(person).get(f"/api/v1/incidents/{incident.pk}/")
    assert response.status_code == 200
    assert response.json()["title"] == incident.title
    client.force_login(person)
    assert incident.title in client.get(f"/incidents/{incident.pk}/").content.decode()


def test_an_auditor_reads_but_may_not_act(incident, make_person, api_client_for):
    auditor = make_person()
    auditor.user_permissions.add(Permission.objects.get(codename="audit", content_type__app_label="people"))
    response = api_client_for(auditor).post(f"/api/v1/incidents/{incident.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None
