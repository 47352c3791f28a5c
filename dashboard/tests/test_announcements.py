"""Announcements to the business departments at orange and red (plan 4.1.3, 4.2.3, 4.3.3)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import Refused
from incidents import services
from incidents.models import TimelineKind
from notifications import announcements
from notifications.models import Announcement, Ask, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(shipped_plan, make_person):
    return make_person("office", username="office", language="en")


@pytest.fixture
def business(make_person):
    return [make_person("business_departments", username=f"biz{i}", language="en") for i in range(2)]


def test_orange_incident_is_announced_once_and_every_business_department_is_told(office, business):
    incident = services.log_fault(reporter=office, category="system", level="orange", title="savings host blocked")
    # Opening at orange announced it; asking again announces nothing more.
    assert announcements.announce_level(incident, at=timezone.now()) is None
    announcement = Announcement.objects.get(incident=incident)

    assert announcement.created_by is None
    [entry] = incident.timeline.filter(kind=TimelineKind.ANNOUNCED)
    assert entry.actor is None and entry.detail["automatic"] and entry.detail["announcement"] == announcement.pk
    assert Announcement.objects.filter(incident=incident).count() == 1
    assert "orange" in announcement.text_en and "严重预警" in announcement.text_zh
    told = Notification.objects.filter(incident=incident, ask=Ask.ANNOUNCE)
    assert sorted(n.person.username for n in told) == ["biz0", "biz1"]


def test_rise_to_red_is_announced_again(office, business):
    incident = services.log_fault(reporter=office, category="system", level="orange", title="down")
    announcements.announce_level(incident, at=timezone.now())
    services.escalate(incident, level_key="red", actor=office, reason="province-wide")
    incident.refresh_from_db()
    announcements.announce_level(incident, at=timezone.now())
    assert list(Announcement.objects.filter(incident=incident).order_by("id").values_list("level_key", flat=True)) == [
        "orange", "red"]


def test_blue_and_yellow_are_not_announced(office, business):
    for level in ("blue", "yellow"):
        incident = services.log_fault(reporter=office, category="system", level=level, title="slow")
        assert announcements.announce_level(incident, at=timezone.now()) is None
    assert not Announcement.objects.exists()
    assert not Notification.objects.filter(ask=Ask.ANNOUNCE).exists()


def test_office_posts_an_announcement_by_hand_from_the_dashboard(office, business, client):
    incident = services.log_fault(reporter=office, category="network", level="yellow", title="trunk line down")
    client.force_login(office)
    response = client.post("/announcements/new/", {"incident": incident.pk, "text_zh": "请各部门注意", "text_en": ""},
                           follow=True)
    assert "Announced to the business departments." in response.content.decode()
    announcement = Announcement.objects.get()
    assert announcement.created_by == office and announcement.level_key == "yellow"
    assert Notification.objects.filter(ask=Ask.ANNOUNCE, person__username="biz0").exists()


def test_an_announcement_by_hand_is_on_the_incidents_timeline_with_who_made_it(office, business):
    incident = services.log_fault(reporter=office, category="network", level="yellow", title="trunk line down")
    announcement = services.announce(incident, author=office, text_zh="请各部门注意")
    [entry] = incident.timeline.filter(kind=TimelineKind.ANNOUNCED)
    assert entry.actor == office
    # Both texts are kept, so each reader gets the announcement in their language (issue 14).
    assert entry.detail == {"announcement": announcement.pk, "level": "yellow", "automatic": False,
                            "text": "请各部门注意", "text_zh": "请各部门注意", "text_en": ""}


def test_only_the_office_or_leadership_announce(office, business, make_person):
    incident = services.log_fault(reporter=office, category="network", level="orange", title="down")
    with pytest.raises(Refused):
        services.announce(incident, author=make_person("duty_staff"), text_en="hello")
    with pytest.raises(ValidationError):
        services.announce(incident, author=office, text_en=" ", text_zh="")
    assert not Announcement.objects.filter(created_by__isnull=False).exists()
    assert not incident.timeline.filter(kind=TimelineKind.ANNOUNCED, actor__isnull=False).exists()


def test_business_departments_read_announcements_after_signing_in(office, business, client):
    incident = services.log_fault(reporter=office, category="system", level="red", title="province-wide outage")
    announcements.announce_level(incident, at=timezone.now())
    assert client.get("/announcements/").status_code == 302
    client.force_login(business[0])
    html = client.get("/announcements/").content.decode()
    assert "province-wide outage" in html and "Most severe" in html and "announced automatically" in html


def test_an_announcement_for_a_superscript_incident_number_asks_for_the_incident(client, make_person, shipped_plan):
    office = make_person("office")
    client.force_login(office)
    response = client.post("/announcements/new/", {"incident": "²", "text_en": "Attention"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert not Announcement.objects.exists()
