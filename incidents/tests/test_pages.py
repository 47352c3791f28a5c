"""The incident pages through Django's test client, against the shipped plan on real PostgreSQL."""

import re
from datetime import timedelta
from html import escape

import pytest
import time_machine
from django.utils import timezone

from escalation import services as engine
from escalation.models import Deadline, State
from incidents import services
from incidents.models import Incident, PlanStatus, TimelineEntry
from incidents.states import Status

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def plan(shipped_plan):
    return shipped_plan


@pytest.fixture
def signed_in(client, make_person):
    """signed_in("office", "leadership") → (client signed in as a new person with those roles, the person)."""

    def sign_in(*roles, **fields):
        person = make_person(*roles, **fields)
        client.force_login(person)
        return client, person

    return sign_in


def page(client, url, **extra):
    response = client.get(url, **EN, **extra)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def act(client, incident, action, **data):
    if action in {"escalate", "deescalate"}:
        data.setdefault("confirmed", "1")  # a level change is made once confirmed (test_incident_page_at_work.py)
    return client.post(f"/incidents/{incident.pk}/act/{action}/", data, follow=True, **EN)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def action_urls(html):
    return set(re.findall(r'/act/([a-z_]+)/"', html))


# --- log a fault ---------------------------------------------------------------------------


def test_log_fault_page_shows_every_level_with_name_colour_and_criteria(plan, signed_in):
    client, _person = signed_in("duty_staff")
    html = page(client, "/incidents/new/")
    for name in ("Network", "Equipment", "System"):
        assert name in html
    for name, color in (("General (level 4)", "#1f6feb"), ("Serious (level 3)", "#9a6700"),
                        ("Severe (level 2)", "#bc4c00"), ("Most severe (level 1)", "#cf222e")):
        # The colour always comes with the level's name written in it.
        assert re.search(rf'style="background:{color}">{re.escape(name)}</span>', html)
    assert "Heavy use of CPU, memory, network, storage or other resources on the savings host system" in html
    assert 'name="is_drill"' in html and 'name="host_fault"' in html and 'name="affected_system"' in html


def test_duty_staff_logs_a_fault_through_the_page_and_lands_on_the_incident(plan, signed_in):
    client, person = signed_in("duty_staff")
    response = client.post("/incidents/new/", {
        "category": "system", "level": "yellow", "title": "Savings host slow", "description": "CPU at 100%",
        "affected_branches": "3", "total_branches": "10", "affected_system": "core", "host_fault": "on",
        "is_drill": "on",
    }, **EN)
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/"
    assert (incident.category.key, incident.level.key, incident.reporter) == ("system", "yellow", person)
    assert (incident.affected_branches, incident.total_branches, incident.affected_system) == (3, 10, "core")
    assert incident.host_fault and incident.is_drill
    assert incident.deadlines.filter(kind="escalation", target_level_key="orange").exists()
    html = page(client, response["Location"])
    assert "Savings host slow" in html and "DRILL" in html


def test_log_fault_without_title_or_level_names_the_fields_and_keeps_the_input(plan, signed_in):
    client, _person = signed_in("duty_staff")
    response = client.post("/incidents/new/", {"category": "network", "title": "", "description": "Line down"},
                           **EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'<a href="#field-title">Title</a>: a short title is required', html)
    assert re.search(r'<a href="#field-level">Level</a>: choose the warning level', html)
    assert 'value="network" checked' in html and "Line down" in html
    assert not Incident.objects.exists()


def test_more_affected_branches_than_the_area_has_is_refused_by_the_service_naming_the_field(plan, signed_in):
    client, _person = signed_in("duty_staff")
    response = client.post("/incidents/new/", {"category": "network", "level": "blue", "title": "Branch line",
                                               "affected_branches": "7", "total_branches": "5"}, **EN)
    assert response.status_code == 400
    assert re.search(r'Affected branches</a>: cannot exceed the area&#x27;s 5 branches', response.content.decode())
    assert not Incident.objects.exists()


def test_person_without_a_plan_role_is_told_why_they_cannot_log(plan, signed_in):
    client, _person = signed_in()
    response = client.post("/incidents/new/", {"category": "network", "level": "blue", "title": "x"}, **EN)
    assert response.status_code == 403
    assert "Your account holds no role in the emergency plan" in response.content.decode()
    assert not Incident.objects.exists()


def test_pages_need_sign_in(plan, client):
    for url in ("/incidents/", "/incidents/new/", "/incidents/mine/", "/incidents/new/preview/?category=x&level=y"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- the preview -----------------------------------------------------------------------------


def test_preview_lists_who_is_told_and_which_deadlines_start(plan, signed_in, make_person):
    client, _person = signed_in("duty_staff")
    make_person("ops_supervisor", full_name="Zhang Supervisor")
    make_person("office", full_name="Li Office")
    make_person("leadership", full_name="Wang Leader")
    html = page(client, "/incidents/new/preview/?category=system&level=yellow")
    told = dict(re.findall(r'<li data-role="([a-z_]+)">(.*?)</li>', html, re.S))
    # On-site roles, notify roles, then the report recipients: the engine's order.
    assert list(told) == ["ops_supervisor", "system_technicians", "office", "leadership"]
    assert "Zhang Supervisor" in told["ops_supervisor"] and "be on site within 1 hour" in told["ops_supervisor"]
    assert "Nobody holds this role" in told["system_technicians"]
    assert "Li Office" in told["office"] and "Wang Leader" in told["leadership"]
    assert "receives the report of Emergency office" in told["leadership"]
    kinds = re.findall(r'<li data-kind="([a-z_]+)">', html)
    assert kinds == ["on_site", "escalation", "report", "report", "report"]
    assert "must be on site within 1 hour" in html
    assert re.search(r"Not resolved within 2 hours .*?rises to.*?Severe \(level 2\)", html, re.S)


def test_preview_shows_the_escalation_condition_and_the_approval(plan, signed_in):
    client, _person = signed_in("duty_staff")
    network_blue = page(client, "/incidents/new/preview/?category=network&level=blue")
    assert re.search(r"only if affected branch ratio (&gt;|>|≥)", network_blue)
    system_orange = page(client, "/incidents/new/preview/?category=system&level=orange")
    assert "must be approved by Emergency leadership group" in system_orange


def test_preview_of_an_unknown_cell_says_so(plan, signed_in):
    client, _person = signed_in("duty_staff")
    response = client.get("/incidents/new/preview/?category=nope&level=blue", **EN)
    assert response.status_code == 404
    assert "no response for this category and level" in response.content.decode()


def test_preview_works_without_javascript_by_submitting_and_logs_nothing(plan, signed_in, make_person):
    client, _person = signed_in("duty_staff")
    make_person("office", full_name="Li Office")
    response = client.post("/incidents/new/", {"category": "system", "level": "orange", "title": "Typed already",
                                               "preview": "1"}, **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Li Office" in html and 'value="Typed already"' in html
    assert "error-summary" not in html
    assert not Incident.objects.exists()


# --- the incident page ------------------------------------------------------------------------


@pytest.fixture
def orange_system(plan, make_person):
    """An orange system fault (plan 4.3.3): approval by the leadership group."""
    coordinator = make_person("office", "leadership", full_name="Coordinator Chen")
    incident = services.log_fault(reporter=coordinator, category="system", level="orange",
                                  title="Savings system blocked")
    return incident, coordinator


def test_incident_page_shows_level_checklist_deadlines_and_timeline(orange_system, signed_in):
    incident, _coordinator = orange_system
    client, _person = signed_in("system_technicians")
    html = page(client, f"/incidents/{incident.pk}/")
    assert "Severe (level 2)" in html and "#bc4c00" in html
    assert "System" in html and "Reported" in html
    assert "The emergency leadership group organises drawing up the response plan" in html
    due = re.findall(r'data-due="([^"]+)"', html)
    assert len(due) == 3  # on site: technicians, office, leadership (30 min each)
    assert all(d.endswith("+00:00") for d in due)
    assert re.search(r"Opened.*?Coordinator Chen", html, re.S)
    assert re.search(r"Roles told</dt><dd>[^<]*Operations supervisor", html)
    assert html.index("kind-notified") < html.index("kind-opened")  # newest first


def test_incident_page_offers_only_the_actions_the_viewer_may_take(orange_system, signed_in, client, make_person):
    incident, _coordinator = orange_system
    technician = make_person("system_technicians")
    client.force_login(technician)
    assert action_urls(page(client, f"/incidents/{incident.pk}/")) == {
        "acknowledge", "check_in", "escalate", "propose_plan"}
    outsider = make_person("network_maintainer")
    client.force_login(outsider)
    html = page(client, f"/incidents/{incident.pk}/")
    assert action_urls(html) == set()
    assert "no action on this incident" in html
    office = make_person("office")
    client.force_login(office)
    assert "deescalate" in action_urls(page(client, f"/incidents/{incident.pk}/"))


def test_escalate_form_offers_only_more_severe_levels(orange_system, signed_in):
    incident, _coordinator = orange_system
    client, _person = signed_in("system_technicians")
    html = page(client, f"/incidents/{incident.pk}/")
    select = re.search(r'<select id="escalate-level".*?</select>', html, re.S).group(0)
    assert re.findall(r'value="([a-z]+)"', select) == ["red"]


def test_drill_banner_and_time_zone(plan, make_person, signed_in, settings):
    coordinator = make_person("office")
    with time_machine.travel("2025-03-01T18:30:00+00:00", tick=False):
        incident = services.log_fault(reporter=coordinator, category="network", level="blue", title="Drill",
                                      is_drill=True)
    client, _person = signed_in("office")
    html = page(client, f"/incidents/{incident.pk}/")
    assert "DRILL" in html
    # 18:30 UTC is 02:30 the next morning in Asia/Shanghai.
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert "2025-03-02 02:30:00" in html and "Asia/Shanghai" in html


def test_missed_deadline_is_marked_in_words_not_only_colour(orange_system, signed_in):
    incident, _coordinator = orange_system
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        engine.sweep()
    assert Deadline.objects.filter(incident=incident, state=State.MISSED).count() == 3
    client, _person = signed_in("office")
    html = page(client, f"/incidents/{incident.pk}/")
    assert html.count('class="missed"') == 3 and "</svg> Missed" in html
    assert "Deadline missed" in html and "Reported to" in html


# --- every action --------------------------------------------------------------------------------


def test_every_action_form_drives_the_incident_from_report_to_archive(orange_system, client, approve_review):
    incident, coordinator = orange_system
    client.force_login(coordinator)

    def ok(action, expect_status, **data):
        response = act(client, incident, action, **data)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == f"/incidents/{incident.pk}/#actions"
        assert [m.level_tag for m in response.context["messages"]] == ["success"], messages_of(response)
        incident.refresh_from_db()
        assert incident.status == expect_status
        return response

    ok("acknowledge", Status.ACKNOWLEDGED)
    ok("check_in", Status.ON_SITE)
    ok("escalate", Status.ON_SITE, level="red", reason="Whole province down")
    assert incident.level.key == "red"
    ok("deescalate", Status.ON_SITE, level="orange", reason="Partly back")
    assert incident.level.key == "orange"
    ok("propose_plan", Status.PLAN_PROPOSED, text="Fail over to the standby host.")
    ok("reject_plan", Status.PLAN_REJECTED, comment="Standby is not ready", confirmed="1")
    ok("propose_plan", Status.PLAN_PROPOSED, text="Restart the host.")
    pending = incident.response_plans.get(status=PlanStatus.PENDING)
    ok("approve_plan", Status.PLAN_APPROVED, plan=str(pending.pk), comment="Go", confirmed="1")
    ok("start_implementing", Status.IMPLEMENTING)
    ok("mark_recovered", Status.RECOVERED, note="Transactions flowing")
    html = page(client, f"/incidents/{incident.pk}/")
    assert "Confirm stability and resolve" in html
    ok("resolve", Status.RESOLVED, summary="Host restarted; stable for 30 minutes.")
    approve_review(incident, writer=coordinator)
    client.post(f"/incidents/{incident.pk}/archive/", {"confirmed": "1"})
    incident.refresh_from_db()
    assert incident.status == Status.ARCHIVED
    kinds = list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))
    for kind in ("acknowledged", "checked_in", "level_changed", "plan_rejected", "plan_approved", "implementing",
                 "recovered", "resolved", "reviewed", "archived"):
        assert kind in kinds
    html = page(client, f"/incidents/{incident.pk}/")
    assert "Standby is not ready" in html and "Host restarted; stable for 30 minutes." in html
    assert action_urls(html) == set()


def test_refused_action_shows_the_reason_and_changes_nothing(orange_system, client, make_person):
    incident, _coordinator = orange_system
    client.force_login(make_person("network_maintainer"))
    response = act(client, incident, "acknowledge")
    assert response.status_code == 200
    [message] = messages_of(response)
    assert "cannot acknowledge: your roles have no part in this incident" in message
    assert escape(message) in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED


def test_action_in_the_wrong_state_shows_the_reason(orange_system, client):
    incident, coordinator = orange_system
    client.force_login(coordinator)
    [message] = messages_of(act(client, incident, "resolve", summary="Fixed."))
    assert message.startswith("cannot resolve: ")


def test_bad_input_to_an_action_names_the_field(orange_system, client):
    incident, coordinator = orange_system
    client.force_login(coordinator)
    [message] = messages_of(act(client, incident, "escalate", level="red", reason=" "))
    assert message == "Reason: say why the level rises"
    [message] = messages_of(act(client, incident, "escalate", level="blue", reason="x"))
    assert message.startswith("Level: ")
    [message] = messages_of(act(client, incident, "reject_plan", comment="no"))
    assert message == "Response plan: there is no response plan awaiting a decision"
    incident.refresh_from_db()
    assert incident.level.key == "orange"


def test_unknown_action_is_404_and_actions_need_post(orange_system, client):
    incident, coordinator = orange_system
    client.force_login(coordinator)
    assert client.post(f"/incidents/{incident.pk}/act/explode/").status_code == 404
    assert client.get(f"/incidents/{incident.pk}/act/acknowledge/").status_code == 405
    assert client.post("/incidents/999999/act/acknowledge/").status_code == 404


def test_action_forms_carry_csrf_tokens(orange_system, make_person):
    from django.test import Client

    incident, coordinator = orange_system
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(coordinator)
    html = strict.get(f"/incidents/{incident.pk}/", **EN).content.decode()
    assert html.count('name="csrfmiddlewaretoken"') >= len(action_urls(html))
    assert strict.post(f"/incidents/{incident.pk}/act/acknowledge/").status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = strict.post(f"/incidents/{incident.pk}/act/acknowledge/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.ACKNOWLEDGED


# --- lists ---------------------------------------------------------------------------------------


def test_my_incidents_are_those_i_reported_or_my_roles_were_told_about_open_first(plan, client, make_person):
    me = make_person("ops_supervisor")
    other = make_person("office", "leadership")
    reported = services.log_fault(reporter=me, category="network", level="blue", title="Reported by me")
    services.acknowledge(reported, actor=other)
    services.resolve(reported, actor=other, summary="done")
    told = services.log_fault(reporter=other, category="system", level="yellow", title="My role told")
    unrelated = services.log_fault(reporter=other, category="network", level="blue", title="Not mine")
    assert told.notifications.filter(role_key="ops_supervisor").exists()
    assert not unrelated.notifications.filter(role_key="ops_supervisor").exists()
    client.force_login(me)
    html = page(client, "/incidents/mine/")
    assert "My role told" in html and "Reported by me" in html and "Not mine" not in html
    # Open incidents first, the closed one after.
    assert html.index("My role told") < html.index("Reported by me")


def test_my_incidents_include_ones_i_only_acted_on(plan, client, make_person):
    me = make_person("leadership")
    other = make_person("office")
    incident = services.log_fault(reporter=other, category="network", level="blue", title="Acted only")
    services.acknowledge(incident, actor=other)
    services.resolve(incident, actor=other, summary="done")
    assert not incident.notifications.filter(role_key="leadership").exists()
    client.force_login(me)
    assert "Acted only" not in page(client, "/incidents/mine/")
    services.review(incident, actor=me)
    assert "Acted only" in page(client, "/incidents/mine/")


def test_incident_list_filters_by_open_level_and_category(plan, client, make_person):
    office = make_person("office")
    services.log_fault(reporter=office, category="network", level="blue", title="Net blue")
    services.log_fault(reporter=office, category="system", level="yellow", title="Sys yellow")
    closed = services.log_fault(reporter=office, category="system", level="blue", title="Sys closed")
    services.acknowledge(closed, actor=office)
    services.resolve(closed, actor=office, summary="ok")
    client.force_login(office)
    html = page(client, "/incidents/")
    assert all(t in html for t in ("Net blue", "Sys yellow", "Sys closed"))
    html = page(client, "/incidents/?open=true&category=system")
    assert "Sys yellow" in html and "Sys closed" not in html and "Net blue" not in html
    html = page(client, "/incidents/?open=false")
    assert "Sys closed" in html and "Sys yellow" not in html
    html = page(client, "/incidents/?level=blue")
    assert "Net blue" in html and "Sys closed" in html and "Sys yellow" not in html
    html = page(client, "/incidents/?open=perhaps")
    assert "were not understood" in html and "Net blue" in html


def test_incident_list_paginates(plan, client, make_person, monkeypatch):
    from incidents import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    office = make_person("office")
    for n in range(5):
        services.log_fault(reporter=office, category="network", level="blue", title=f"Fault {n}")
    client.force_login(office)
    first = page(client, "/incidents/?category=network")
    assert "Fault 4" in first and "Fault 3" in first and "Fault 2" not in first
    assert "Page 1 of 3" in first and 'href="?category=network&amp;page=2"' in first
    assert "Fault 0" in page(client, "/incidents/?category=network&page=3")


# --- query counts ----------------------------------------------------------------------------------


def _busy(incident, actor, rounds):
    """Grow the timeline, deadlines and response plans of ``incident``."""
    for _ in range(rounds):
        services.escalate(incident, level_key="red", actor=actor, reason="worse")
        services.deescalate(incident, level_key="orange", actor=actor, reason="better")
        plan = services.propose_plan(incident, actor=actor, text="Try again")
        services.reject_plan(plan, actor=actor, comment="no")


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **EN).status_code == 200
    return len(queries)


def test_incident_page_queries_do_not_grow_with_timeline_or_deadlines(orange_system, client,
                                                                      django_assert_max_num_queries):
    quiet, coordinator = orange_system
    busy = services.log_fault(reporter=coordinator, category="system", level="orange", title="Busy")
    services.acknowledge(busy, actor=coordinator)
    _busy(busy, coordinator, rounds=4)
    assert busy.timeline.count() > 4 * quiet.timeline.count()
    client.force_login(coordinator)
    baseline = _count_queries(client, f"/incidents/{quiet.pk}/")
    assert _count_queries(client, f"/incidents/{busy.pk}/") == baseline
    with django_assert_max_num_queries(21):
        client.get(f"/incidents/{busy.pk}/", **EN)


def test_incident_list_queries_do_not_grow_with_the_number_of_incidents(plan, client, make_person,
                                                                         django_assert_max_num_queries):
    office = make_person("office")
    services.log_fault(reporter=office, category="network", level="blue", title="One")
    client.force_login(office)
    baseline = _count_queries(client, "/incidents/")
    for n in range(12):
        services.log_fault(reporter=make_person("duty_staff"), category="system", level="blue", title=f"n{n}")
    assert _count_queries(client, "/incidents/") == baseline
    assert _count_queries(client, "/incidents/mine/") <= baseline
    with django_assert_max_num_queries(9):
        client.get("/incidents/?open=true&level=blue", **EN)


# --- the permission table, walked through the pages ---------------------------------------------

PAGE_ACTION_INPUT = {
    "acknowledge": {}, "check_in": {}, "escalate": {"level": "red", "reason": "worse"},
    "propose_plan": {"text": "Fail over."}, "approve_plan": {"comment": "Go", "confirmed": "1"},
    "reject_plan": {"comment": "No", "confirmed": "1"},
    "resolve": {"summary": "Fixed."}, "deescalate": {"level": "yellow", "reason": "better"},
}


@pytest.mark.parametrize("action", [*PAGE_ACTION_INPUT, "log"])
def test_permission_table_holds_on_the_pages(action, plan, client, make_person):
    """Every role × action of incidents/tests/permission_table.py: the page offers the form iff the
    table allows it, and posting it succeeds iff allowed, else shows the refusal."""
    from incidents.tests import permission_table as table

    coordinator = make_person("office", "leadership")
    shown_to = table.prepare(action, coordinator=coordinator)[0]
    for role in table.ROLES:
        allowed = role in table.ALLOWED[action]
        person = make_person(*([role] if role else []))
        client.force_login(person)
        if action == "log":
            response = client.post("/incidents/new/", {"category": table.CATEGORY, "level": table.LEVEL,
                                                       "title": "Core system down"}, **EN)
            assert response.status_code == (302 if allowed else 403), role
            continue
        if not role:
            # No role at all: not even the incident page (people/access.py), so no form to offer.
            assert client.get(f"/incidents/{shown_to.pk}/", **EN).status_code == 403
            continue
        assert (action in action_urls(page(client, f"/incidents/{shown_to.pk}/"))) == allowed, role
        # A fresh incident per allowed role: the action changes its state.
        incident = table.prepare(action, coordinator=coordinator)[0] if allowed else shown_to
        response = act(client, incident, action, **PAGE_ACTION_INPUT[action])
        [message] = list(response.context["messages"])
        if allowed:
            assert message.level_tag == "success", (role, str(message))
        else:
            assert str(message).startswith("cannot "), (role, str(message))


# --- numbers at the boundary (issue 13, finding 9) -----------------------------------------------


def test_a_branch_count_beyond_the_database_integer_is_refused_on_the_page_form_naming_the_field(plan, signed_in):
    client, _person = signed_in("duty_staff")
    response = client.post("/incidents/new/", {"category": "network", "level": "blue", "title": "Branch line",
                                               "affected_branches": "1", "total_branches": "9" * 20}, **EN)
    assert response.status_code == 400
    assert "The area&#x27;s branches" in response.content.decode()
    assert not Incident.objects.exists()


def test_a_superscript_digit_as_the_plan_of_a_decision_is_not_taken_for_a_number(orange_system, client):
    incident, coordinator = orange_system
    pending = services.propose_plan(incident, actor=coordinator, text="Fail over to the standby host.")
    client.force_login(coordinator)
    response = act(client, incident, "approve_plan", plan="²", comment="Go", confirmed="1")
    assert response.status_code == 200
    # "²" names no plan, so the decision falls to the one pending plan, as with no plan given.
    pending.refresh_from_db()
    assert pending.status == PlanStatus.APPROVED
