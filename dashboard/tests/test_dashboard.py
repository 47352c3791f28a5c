"""The office dashboard: what it shows, its filters, its cheap polling and what makes it sound."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from escalation import services as engine
from incidents import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(shipped_plan, make_person, client):
    person = make_person("office", username="office", language="en")
    client.force_login(person)
    return person


@pytest.fixture
def duty(make_person):
    return make_person("duty_staff", username="duty")


def log(duty, category="system", level="yellow", title="slow branch transactions", **extra):
    return services.log_fault(reporter=duty, category=category, level=level, title=title, **extra)


def rows(response):
    """(incident id, level key) of every row, in page order."""
    import re

    return [(int(i), level) for i, level in
            re.findall(r'data-incident-id="(\d+)" data-level="(\w+)"', response.content.decode())]


def test_dashboard_lists_open_incidents_red_first_with_level_names_and_counts(office, duty, client):
    blue = log(duty, level="blue", title="one line down")
    red = log(duty, level="red", title="province-wide outage")
    yellow = log(duty, level="yellow", title="host loaded")
    closed = log(duty, level="red", title="already over")
    services.acknowledge(closed, actor=office)
    services.resolve(closed, actor=office, summary="fixed")

    response = client.get("/dashboard/")

    assert response.status_code == 200
    assert rows(response) == [(red.pk, "red"), (yellow.pk, "yellow"), (blue.pk, "blue")]
    html = response.content.decode()
    assert "Most severe" in html and "General" in html  # the level's name beside its colour
    assert 'data-level-count="red"' in html
    assert "3 open incidents" in html
    assert f'href="/incidents/{red.pk}/"' in html
    assert 'aria-live="polite"' in html


def test_dashboard_shows_next_deadline_as_absolute_time_for_the_countdown(office, duty, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        incident = log(duty, category="system", level="yellow")
    response = client.get("/dashboard/fragment/")
    on_site = incident.deadlines.get(kind="on_site")
    assert f'data-due="{on_site.due_at.isoformat()}"' in response.content.decode()
    assert on_site.due_at == start + timedelta(hours=1)


def test_missed_deadline_and_people_on_site_are_shown(office, duty, make_person, client):
    supervisor = make_person("ops_supervisor", username="zhang", full_name="Zhang Wei")
    start = timezone.now() - timedelta(hours=1, minutes=1)
    with time_machine.travel(start, tick=False):
        missed = log(duty, title="nobody came")
        arrived = log(duty, title="someone came")
    services.check_in(arrived, actor=supervisor)
    engine.sweep()

    html = client.get("/dashboard/").content.decode()

    row_missed = html.split(f'data-incident-id="{missed.pk}"')[1].split("</tr>")[0]
    row_arrived = html.split(f'data-incident-id="{arrived.pk}"')[1].split("</tr>")[0]
    assert "data-missed-deadline" in row_missed and "has-missed" not in row_arrived
    assert 'data-on-site="zhang"' in row_arrived and "Zhang Wei" in row_arrived
    assert "data-on-site" not in row_missed


def test_pending_approval_is_shown_with_the_approver_role(office, duty, make_person, client):
    incident = log(duty, category="system", level="orange")
    plan = services.propose_plan(incident, actor=office, text="switch to the standby host")
    html = client.get("/dashboard/").content.decode()
    assert f'data-pending-plan="{plan.pk}"' in html
    assert "Awaiting Leadership group" in html or "Awaiting" in html and "leadership" in html.lower()


def test_filters_by_category_level_and_drill(office, duty, client):
    network = log(duty, category="network", level="blue", title="line down")
    system = log(duty, category="system", level="yellow", title="slow")
    drill = log(duty, category="system", level="blue", title="drill", is_drill=True)

    assert [i for i, _ in rows(client.get("/dashboard/?category=network"))] == [network.pk]
    assert [i for i, _ in rows(client.get("/dashboard/?level=yellow"))] == [system.pk]
    assert [i for i, _ in rows(client.get("/dashboard/?drill=1"))] == [drill.pk]
    assert sorted(i for i, _ in rows(client.get("/dashboard/?drill=0"))) == sorted([network.pk, system.pk])
    # The fragment the page polls keeps the page's filters.
    assert 'data-fragment-url="/dashboard/fragment/?category=network"' in \
        client.get("/dashboard/?category=network").content.decode()


def test_wall_screen_has_no_navigation_but_keeps_the_alarm_controls(office, client):
    html = client.get("/dashboard/?wall=1").content.decode()
    assert 'class="topbar"' not in html
    assert "wall" in html.split("<body", 1)[1].split(">", 1)[0]
    assert 'id="alarm-arm"' in html and 'id="alarm-silence"' in html


def test_dashboard_needs_sign_in(shipped_plan, client):
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/fragment/").status_code == 401


def test_fragment_answers_304_until_something_changes(office, duty, client):
    incident = log(duty)
    first = client.get("/dashboard/fragment/")
    etag = first["ETag"]
    assert first.status_code == 200 and etag

    assert client.get("/dashboard/fragment/", HTTP_IF_NONE_MATCH=etag).status_code == 304

    services.acknowledge(incident, actor=office)
    changed = client.get("/dashboard/fragment/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "Acknowledged" in changed.content.decode()


def test_fragment_etag_differs_per_language_and_filter(office, duty, client):
    log(duty)
    english = client.get("/dashboard/fragment/")["ETag"]
    filtered = client.get("/dashboard/fragment/?category=network")["ETag"]
    office.language = "zh-hans"
    office.save()
    chinese = client.get("/dashboard/fragment/")["ETag"]
    assert len({english, filtered, chinese}) == 3


def test_fragment_etag_moves_when_an_incident_closes_or_a_deadline_is_missed(office, duty, client):
    start = timezone.now() - timedelta(hours=1, minutes=1)
    with time_machine.travel(start, tick=False):
        incident = log(duty)
    etag = client.get("/dashboard/fragment/")["ETag"]
    engine.sweep()  # the on-site deadline is missed
    after_miss = client.get("/dashboard/fragment/", HTTP_IF_NONE_MATCH=etag)
    assert after_miss.status_code == 200
    services.acknowledge(incident, actor=office)
    etag = client.get("/dashboard/fragment/")["ETag"]
    services.resolve(incident, actor=office, summary="fixed")
    assert client.get("/dashboard/fragment/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def alarm(response):
    import re

    html = response.content.decode()
    key = int(re.search(r'data-alarm-key="(\d+)"', html).group(1))
    level = re.search(r'data-alarm-level="(\w*)"', html).group(1)
    return key, level


def test_alarm_key_moves_on_a_new_incident_and_on_a_level_rise_but_not_on_lowering(office, duty, client):
    assert alarm(client.get("/dashboard/fragment/")) == (0, "")
    incident = log(duty, level="yellow")
    opened_key, level = alarm(client.get("/dashboard/fragment/"))
    assert opened_key > 0 and level == "yellow"

    services.escalate(incident, level_key="red", actor=office, reason="province-wide now")
    raised_key, level = alarm(client.get("/dashboard/fragment/"))
    assert raised_key > opened_key and level == "red"

    services.deescalate(incident, level_key="orange", actor=office, reason="partly restored")
    assert alarm(client.get("/dashboard/fragment/")) == (raised_key, "red")


def test_dashboard_query_count_does_not_depend_on_the_number_of_incidents(
        office, duty, make_person, client, django_assert_num_queries):
    supervisor = make_person("ops_supervisor")

    def busy_incident(level):
        incident = log(duty, level=level)
        services.check_in(incident, actor=supervisor) if level == "yellow" else None
        if level == "orange":
            services.propose_plan(incident, actor=office, text="plan")
        return incident

    for level in ("yellow", "orange"):
        busy_incident(level)
    client.get("/dashboard/")  # warm the session
    cache.clear()  # a render, not the cached fragment
    # session, person, the ETag, active levels, active categories, incidents, deadlines, check-ins, pending
    # plans, roles, levels (of the incidents' plan versions), alarm events, announcements, the person's roles,
    # the active plan version (whose roles may announce), the bell's unread count.
    with django_assert_num_queries(16) as few:
        client.get("/dashboard/")
    for level in ("yellow", "orange", "red", "blue") * 3:
        busy_incident(level)
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/dashboard/")
    assert len(rows(response)) == 14


def test_screens_polling_after_a_change_share_one_render(office, duty, client, django_assert_max_num_queries):
    log(duty)
    client.get("/dashboard/fragment/")
    # Another screen with the same language and filters: the fingerprint, not a render.
    with django_assert_max_num_queries(4):
        again = client.get("/dashboard/fragment/")
    assert again.status_code == 200 and "slow branch transactions" in again.content.decode()


def test_row_texts_are_escaped(office, duty, make_person, client):
    supervisor = make_person("ops_supervisor", username="o'brien", full_name="<b>Bold</b> & co")
    incident = log(duty, title='<script>alert("x")</script> & more')
    services.check_in(incident, actor=supervisor)

    html = client.get("/dashboard/").content.decode()

    row = html.split(f'data-incident-id="{incident.pk}"')[1].split("</tr>")[0]
    assert "<script>" not in row and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in row
    assert 'data-on-site="o&#x27;brien"' in row and "</svg> &lt;b&gt;Bold&lt;/b&gt; &amp; co" in row
