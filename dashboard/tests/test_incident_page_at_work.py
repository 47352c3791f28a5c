"""The incident page at work (issue 14): the level change confirmed with its consequences, what monitoring
says on top, only the actions the viewer may take with the others explained, and a query count that holds.

The page is routed through dashboard.views.incident_page (the alerts sit above the incidents app), so
its tests live here, through Django's test client against the shipped plan.
"""

import re
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from alerts.integrations import integration_create
from alerts.models import Alert, AlertStatus
from alerts.selectors import monitoring_state
from incidents import services
from incidents.models import TimelineEntry
from notifications.models import DutyShift, Notification

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
_delivery = count(1)


@pytest.fixture
def yellow_system(shipped_plan, make_person):
    coordinator = make_person("office", "leadership", full_name="Coordinator Chen")
    incident = services.log_fault(reporter=coordinator, category="system", level="yellow",
                                  title="Savings host slow")
    return incident, coordinator


def page(client, incident, **headers):
    response = client.get(f"/incidents/{incident.pk}/", **(headers or EN))
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def select_options(html, select_id):
    select = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
    return re.findall(r'value="([a-z]+)"', select)


def action_urls(html):
    return set(re.findall(r'/act/([a-z_]+)/"', html))


def alert(incident, integration, fingerprint, *, status=AlertStatus.FIRING, starts_at, ends_at=None,
          alertname="NodeDown"):
    n = next(_delivery)
    return Alert.objects.create(
        integration=integration, group_key="g1", fingerprint=fingerprint, delivery_key=f"d{n}", status=status,
        starts_at=starts_at, ends_at=ends_at, summary=f"{alertname} on {fingerprint}", category_key="system",
        level_key="yellow", labels={"alertname": alertname}, received_at=ends_at or starts_at, incident=incident,
        processed_at=ends_at or starts_at)


# --- the level change is confirmed, with its consequences -------------------------------------


def test_the_level_select_defaults_to_the_next_level_up_and_the_next_level_down(yellow_system, client):
    incident, coordinator = yellow_system
    client.force_login(coordinator)
    html = page(client, incident)
    assert select_options(html, "escalate-level") == ["orange", "red"]  # the first option is the default
    assert select_options(html, "deescalate-level") == ["blue"]
    services.escalate(incident, level_key="red", actor=coordinator, reason="worse")
    assert select_options(page(client, incident), "deescalate-level") == ["orange", "yellow", "blue"]


def test_raising_the_level_changes_nothing_until_it_is_confirmed(yellow_system, client):
    incident, coordinator = yellow_system
    client.force_login(coordinator)
    entries, notifications = TimelineEntry.objects.count(), Notification.objects.count()
    response = client.post(f"/incidents/{incident.pk}/act/escalate/", {"level": "orange", "reason": "Worse"}, **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Raise the level?" in html and "Nothing has changed yet" in html
    assert "Confirm: raise to Severe (level 2)" in html
    assert re.search(r'name="confirmed" value="1"', html)
    incident.refresh_from_db()
    assert incident.level.key == "yellow"
    assert (TimelineEntry.objects.count(), Notification.objects.count()) == (entries, notifications)

    response = client.post(f"/incidents/{incident.pk}/act/escalate/",
                           {"level": "orange", "reason": "Worse", "confirmed": "1"}, **EN)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.level.key == "orange"
    assert incident.timeline.filter(kind="level_changed").count() == 1


def test_the_confirmation_lists_who_is_told_which_deadlines_start_and_the_approval_needed(
        yellow_system, client, make_person):
    incident, coordinator = yellow_system
    technician = make_person("system_technicians", full_name="Tech Zhou")
    DutyShift.objects.create(role_key="system_technicians", person=technician,
                             starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=7))
    services.propose_plan(incident, actor=coordinator, text="Restart the host")  # yellow needs no approval
    client.force_login(coordinator)
    html = client.post(f"/incidents/{incident.pk}/act/escalate/", {"level": "orange", "reason": "Worse"},
                       **EN).content.decode()
    told = dict(re.findall(r'<li data-role="([a-z_]+)">(.*?)</li>', html, re.S))
    assert {"system_technicians", "office", "leadership", "ops_supervisor"} <= set(told)
    assert "Tech Zhou" in told["system_technicians"] and "on duty, told first" in told["system_technicians"]
    assert "be on site within 30 minutes" in told["system_technicians"]
    assert "Coordinator Chen" in told["leadership"]
    due = (timezone.localtime() + timedelta(minutes=30)).strftime("%H:%M")
    assert re.search(rf"System maintenance technicians must be on site within 30 minutes \(by [0-9-]+ {due}\)", html)
    assert "A response plan must be approved by Emergency leadership group" in html
    assert "is announced to the business departments" in html
    # The yellow level's own deadlines end with the change.
    ending = re.search(r'<ul class="ending-deadlines">(.*?)</ul>', html, re.S).group(1)
    assert "Escalation" in ending and "On site" in ending


def test_a_level_change_the_service_would_refuse_is_refused_before_the_confirmation(yellow_system, client,
                                                                                     make_person):
    incident, coordinator = yellow_system
    client.force_login(coordinator)
    response = client.post(f"/incidents/{incident.pk}/act/escalate/", {"level": "orange", "reason": " "},
                           follow=True, **EN)
    assert [str(m) for m in response.context["messages"]] == ["Reason: say why the level rises"]
    assert "Raise the level?" not in response.content.decode()
    client.force_login(make_person("network_maintainer"))
    response = client.post(f"/incidents/{incident.pk}/act/escalate/", {"level": "orange", "reason": "x"},
                           follow=True, **EN)
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("cannot escalate: ")
    incident.refresh_from_db()
    assert incident.level.key == "yellow"


def test_lowering_the_level_is_confirmed_too(yellow_system, client):
    incident, coordinator = yellow_system
    services.escalate(incident, level_key="orange", actor=coordinator, reason="worse")
    client.force_login(coordinator)
    html = client.post(f"/incidents/{incident.pk}/act/deescalate/", {"level": "yellow", "reason": "Better"},
                       **EN).content.decode()
    assert "Lower the level?" in html and "Confirm: lower to Serious (level 3)" in html
    assert "Operations supervisor must be on site within 1 hour" in html
    incident.refresh_from_db()
    assert incident.level.key == "orange"
    client.post(f"/incidents/{incident.pk}/act/deescalate/", {"level": "yellow", "reason": "Better", "confirmed": "1"})
    incident.refresh_from_db()
    assert incident.level.key == "yellow"


def test_the_confirmation_is_in_chinese_for_a_chinese_reader(yellow_system, client):
    incident, coordinator = yellow_system
    client.force_login(coordinator)
    html = client.post(f"/incidents/{incident.pk}/act/escalate/", {"level": "orange", "reason": "恶化"},
                       **ZH).content.decode()
    assert "确认：升级为严重预警（二级）" in html
    assert "尚未做任何更改" in html


# --- what monitoring says, at the top ---------------------------------------------------------


def test_the_page_shows_the_alerts_firing_since_the_first_with_their_source(yellow_system, client):
    incident, coordinator = yellow_system
    integration, _token = integration_create(name="Alertmanager", kind="alertmanager")
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=20)
    for n in range(3):
        alert(incident, integration, f"node{n}", starts_at=start + timedelta(minutes=n))
    alert(incident, integration, "disk", starts_at=start + timedelta(minutes=5), alertname="DiskFull")
    # An alert that fired and recovered no longer counts.
    alert(incident, integration, "cpu", starts_at=start - timedelta(minutes=5), alertname="CPUHigh")
    alert(incident, integration, "cpu", status=AlertStatus.RESOLVED, starts_at=start - timedelta(minutes=5),
          ends_at=start, alertname="CPUHigh")
    client.force_login(coordinator)
    html = page(client, incident)
    since = timezone.localtime(start).strftime("%H:%M")
    assert re.search(rf"Firing since {since}</strong>\s*<span class=\"sources\">"
                     r"\(Alertmanager: NodeDown ×3; Alertmanager: DiskFull\)", html)
    assert "CPUHigh" not in html.split('id="monitoring-state"')[1].split("</p>")[0]
    assert html.index('id="monitoring-state"') < html.index('id="actions"')
    assert "告警中，始于 " + since in page(client, incident, **ZH)


def test_the_page_says_recovered_at_source_once_every_alert_is_resolved(yellow_system, client):
    incident, coordinator = yellow_system
    integration, _token = integration_create(name="Alertmanager", kind="alertmanager")
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=40)
    for n in range(2):
        alert(incident, integration, f"node{n}", starts_at=start)
        alert(incident, integration, f"node{n}", status=AlertStatus.RESOLVED, starts_at=start,
              ends_at=start + timedelta(minutes=10 + n))
    state = monitoring_state(incident)
    assert (state.state, state.since) == ("recovered", start + timedelta(minutes=11))
    client.force_login(coordinator)
    since = timezone.localtime(start + timedelta(minutes=11)).strftime("%H:%M")
    assert f"Recovered at source since {since}" in page(client, incident)
    assert f"监控源已恢复，始于 {since}" in page(client, incident, **ZH)
    # A new firing of one of them: firing again, since it started.
    alert(incident, integration, "node0", starts_at=start + timedelta(minutes=30))
    assert re.search(r"Firing since [0-9:]+</strong>\s*<span class=\"sources\">\(Alertmanager: NodeDown\)",
                     page(client, incident))


def test_an_incident_without_alerts_shows_no_monitoring_state(yellow_system, client):
    incident, coordinator = yellow_system
    client.force_login(coordinator)
    assert monitoring_state(incident) is None
    html = page(client, incident)
    assert 'id="monitoring-state"' not in html and "Firing since" not in html


# --- only the actions offered, the others explained -------------------------------------------


def test_actions_the_viewer_may_not_take_are_listed_with_the_reason_not_as_buttons(yellow_system, client,
                                                                                    make_person):
    incident, _coordinator = yellow_system
    client.force_login(make_person("system_technicians"))
    html = page(client, incident)
    assert "deescalate" not in action_urls(html)
    unavailable = re.search(r'<div class="unavailable">(.*?)</div>', html, re.S).group(1)
    assert "Not available to you" in unavailable and "<button" not in unavailable and "<form" not in unavailable
    lowered = re.search(r'data-action="deescalate">(.*?)</li>', unavailable, re.S).group(1)
    assert "Lower the level" in lowered and "only Main leaders, Emergency leadership group, Emergency office may do this" \
        in lowered
    assert 'data-action="review"' not in unavailable  # not an action of the current state

    client.force_login(make_person("network_maintainer"))
    html = page(client, incident)
    assert action_urls(html) == set()
    reasons = dict(re.findall(r'data-action="([a-z_]+)"><span class="action-label">[^<]*</span>: '
                              r'<span class="reason">([^<]*)</span>', html))
    assert reasons["acknowledge"] == "your roles have no part in this incident&#x27;s response"
    assert set(reasons) == {"acknowledge", "check_in", "escalate", "propose_plan", "deescalate"}
    assert "您的角色不参与此事件的应急响应" in page(client, incident, **ZH).split('class="unavailable"')[1]


# --- the query pin -------------------------------------------------------------------------


def test_the_incident_page_with_its_monitoring_state_keeps_its_query_pin(yellow_system, client,
                                                                         django_assert_max_num_queries):
    incident, coordinator = yellow_system
    integration, _token = integration_create(name="Alertmanager", kind="alertmanager")
    start = timezone.now() - timedelta(minutes=5)
    alert(incident, integration, "a", starts_at=start)
    client.force_login(coordinator)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page(client, incident)  # the first request of a session reads a little more
    with CaptureQueriesContext(connection) as few:
        page(client, incident)
    for n in range(30):
        alert(incident, integration, f"n{n}", starts_at=start, alertname=f"Alert{n % 4}")
        services.record_alerts([(incident, "Alertmanager", {"integration": "Alertmanager", "count": 1})],
                               at=start)
    with django_assert_max_num_queries(21), CaptureQueriesContext(connection) as many:
        page(client, incident)
    assert len(many) == len(few)  # one query for the monitoring state, however many alerts and entries


def test_implementing_before_the_approval_the_plan_asks_is_explained_not_offered(shipped_plan, client, make_person):
    coordinator = make_person("office", "leadership")
    incident = services.log_fault(reporter=coordinator, category="system", level="orange", title="Blocked")
    services.acknowledge(incident, actor=coordinator)
    client.force_login(coordinator)
    html = page(client, incident)
    assert "start_implementing" not in action_urls(html)
    why = re.search(r'data-action="start_implementing">(.*?)</li>', html, re.S).group(1)
    assert "the plan requires Emergency leadership group to approve a response plan first" in why
    assert "预案要求先由应急领导小组批准处置方案" in page(client, incident, **ZH)
