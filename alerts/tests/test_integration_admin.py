"""An integration that sent alerts is disabled, never deleted; its token changes only by rotation."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db.models import ProtectedError

from alerts.models import Alert, AlertGroup, Integration

from .conftest import am_alert, am_webhook

pytestmark = pytest.mark.django_db

AM = "/api/v1/alerts/alertmanager"
CHANGELIST = "/admin/alerts/integration/"


@pytest.fixture
def source(minimal_plan_version, make_integration, bearer):
    integration, token = make_integration(name="prometheus-prod")
    integration.token = token
    return integration


@pytest.fixture
def with_alerts(source, bearer):
    response = bearer(source.token).post(AM, am_webhook("g1", [am_alert("a1")]), format="json")
    assert response.status_code == 202
    assert Alert.objects.filter(integration=source).exists()
    return source


def act(client, action, *integrations):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [i.pk for i in integrations]})


def test_an_integration_with_alerts_cannot_be_deleted_in_the_admin(admin_client, with_alerts):
    page = admin_client.get(f"{CHANGELIST}{with_alerts.pk}/change/").content.decode()
    assert f"{CHANGELIST}{with_alerts.pk}/delete/" not in page
    assert admin_client.post(f"{CHANGELIST}{with_alerts.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Alert.objects.filter(integration=with_alerts).count() == 1


def test_deleting_integrations_in_bulk_keeps_one_with_alerts_and_says_why(admin_client, with_alerts):
    page = admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [with_alerts.pk],
                                          "post": "yes"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>Cannot delete monitoring integration</h1>" in body and "<li>alert</li>" in body
    assert Integration.objects.filter(pk=with_alerts.pk).exists()
    assert Alert.objects.filter(integration=with_alerts).count() == 1


def test_deleting_an_integration_with_alerts_is_refused_by_the_orm(with_alerts):
    with pytest.raises(ProtectedError):
        with_alerts.delete()
    assert Alert.objects.filter(integration=with_alerts).count() == 1


def test_deleting_an_integration_with_alert_groups_is_refused_by_the_orm(source):
    AlertGroup.objects.create(integration=source, key="g1")
    with pytest.raises(ProtectedError):
        source.delete()


def test_an_integration_that_never_sent_an_alert_may_be_deleted(admin_client, source):
    assert admin_client.post(f"{CHANGELIST}{source.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Integration.objects.filter(pk=source.pk).exists()


def test_the_disable_action_records_who_and_the_webhook_then_refuses_the_integration(admin_client, admin_user,
                                                                                     with_alerts, bearer):
    act(admin_client, "disable", with_alerts)
    with_alerts.refresh_from_db()
    assert with_alerts.enabled is False
    latest = with_alerts.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "disabled")
    refused = bearer(with_alerts.token).post(AM, am_webhook("g2", [am_alert("a2")]), format="json")
    assert refused.status_code == 403
    assert "prometheus-prod is disabled" in refused.json()["detail"]
    assert Alert.objects.filter(integration=with_alerts).count() == 1


def test_the_rotate_action_records_who_and_only_the_new_token_works(admin_client, admin_user, source, bearer):
    response = act(admin_client, "rotate_token", source)
    shown = [secret for m in get_messages(response.wsgi_request) for secret in re.findall(r"fhi_[\w-]{40,}", str(m))]
    assert len(shown) == 1
    latest = source.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "token rotated")
    assert bearer(source.token).post(AM, am_webhook("g1", [am_alert("a1")]), format="json").status_code == 401
    assert bearer(shown[0]).post(AM, am_webhook("g1", [am_alert("a1")]), format="json").status_code == 202


def test_reverting_an_integration_to_its_old_token_is_refused(admin_client, admin_user, source, bearer):
    from alerts.integrations import integration_rotate_token

    before = source.history.earliest()
    integration_rotate_token(integration=source, by=admin_user)
    response = admin_client.post(f"{CHANGELIST}{source.pk}/history/{before.history_id}/", {
        "name": source.name, "kind": source.kind, "default_category": source.default_category,
        "default_level": source.default_level, "enabled": "on",
        "rate_limit_per_minute": source.rate_limit_per_minute, "storm_threshold": 20, "storm_window": "00:01:00",
        "storm_quiet": "00:10:00", "group_window": "0"})
    assert bearer(source.token).post(AM, am_webhook("g1", [am_alert("a1")]), format="json").status_code == 401
    assert response.status_code == 403


def test_the_name_and_settings_of_an_integration_stay_editable(admin_client, source):
    response = admin_client.post(f"{CHANGELIST}{source.pk}/change/", {
        "name": "prometheus-dr", "kind": source.kind, "default_category": "system", "default_level": "yellow",
        "enabled": "on", "rate_limit_per_minute": 100, "storm_threshold": 50, "storm_window": "00:02:00",
        "storm_quiet": "00:15:00", "group_by": '["alertname", "site"]', "group_window": "00:30:00"})
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.name, source.default_level, source.rate_limit_per_minute) == ("prometheus-dr", "yellow", 100)
    assert (source.storm_threshold, source.storm_window.total_seconds(), source.storm_quiet.total_seconds()) == (
        50, 120, 900)
    assert (source.group_by, source.group_window.total_seconds()) == (["alertname", "site"], 1800)


def _add_form(**fields):
    return {"name": "zabbix-core", "kind": "generic", "default_category": "network", "default_level": "blue",
            "rate_limit_per_minute": 600, "enabled": "on", "storm_threshold": 5, "storm_window": "00:00:30",
            "storm_quiet": "00:05:00", "group_by": "", "group_window": "0", **fields}


def test_an_integration_added_in_the_admin_is_made_by_the_service_with_a_token_shown_once(admin_client,
                                                                                          minimal_plan_version):
    response = admin_client.post(f"{CHANGELIST}add/", _add_form(), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    integration = Integration.objects.get(name="zabbix-core")
    [message] = [str(m) for m in get_messages(response.wsgi_request) if "shown only this once" in str(m)]
    token = message.rsplit(" ", 1)[-1]
    assert integration.prefix == token[:10] and integration.token_hash
    assert integration.history.count() == 1
    assert (integration.storm_threshold, integration.storm_window.total_seconds()) == (5, 30)


def test_a_storm_quiet_period_under_a_minute_is_refused_naming_the_field(admin_client, minimal_plan_version):
    response = admin_client.post(f"{CHANGELIST}add/", _add_form(storm_quiet="00:00:10"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "storm_quiet" in response.context["adminform"].form.errors
    assert not Integration.objects.filter(name="zabbix-core").exists()


def test_the_admin_refuses_a_new_integration_the_service_would_refuse(admin_client, minimal_plan_version):
    response = admin_client.post(f"{CHANGELIST}add/", _add_form(default_category="printers"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "must be one of the plan&#x27;s categories" in response.content.decode()
    assert not Integration.objects.filter(name="zabbix-core").exists()
