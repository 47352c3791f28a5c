"""A level's meaning comes from the plan: announced, urgent, repeat interval, robot colour. No level key in code."""

import datetime as dt
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications import answers
from notifications.channels.base import Message
from notifications.channels.feishu import feishu_template
from notifications.channels.wecom import wecom_colour
from notifications.delivery import deliver_due
from notifications.models import Announcement, Delivery, LevelPolicy, Notification, Preference
from plan.services import load_plan_text
from plan.tests.documents import as_yaml, minimal_plan


@pytest.fixture
def plan_where_yellow(minimal_plan_version):
    """plan_where_yellow(announce=True, ...) → a new active plan whose yellow level means that."""
    def load(**meaning):
        doc = minimal_plan()
        doc["levels"][1].update(meaning)
        return load_plan_text(as_yaml(doc), source="yellow-means")

    return load


def test_a_plan_that_announces_yellow_gets_yellow_announced(plan_where_yellow, open_incident):
    plan_where_yellow(announce=True)
    incident = open_incident(level="yellow")
    assert Announcement.objects.filter(incident=incident, level_key="yellow", created_by=None).exists()


def test_yellow_is_not_announced_under_a_plan_that_says_nothing(open_incident):
    assert not Announcement.objects.filter(incident=open_incident(level="yellow")).exists()


def test_a_plan_that_makes_orange_not_urgent_holds_it_through_quiet_hours(minimal_plan_version, make_person,
                                                                          open_incident, time_machine):
    doc = minimal_plan()
    doc["levels"][2]["urgent"] = False
    load_plan_text(as_yaml(doc), source="orange-not-urgent")
    time_machine.move_to(dt.datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    person = make_person("tech_group")
    Preference.objects.create(person=person, channels=["email"], quiet_start=dt.time(22), quiet_end=dt.time(7))
    orange = open_incident(level="orange")
    assert Delivery.objects.get(notification__incident=orange).next_attempt_at == dt.datetime(
        2026, 3, 3, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_plan_that_makes_yellow_urgent_sends_it_on_every_channel(plan_where_yellow, make_person, open_incident,
                                                                   receiver):
    from notifications.models import ChannelConfig

    plan_where_yellow(urgent=True)
    ChannelConfig.objects.create(name="gw", kind="sms", url=receiver("sms", secret="s" * 16).base + "/send",
                                 secret="s" * 16)
    person = make_person("tech_group", phone="13800000001")
    Preference.objects.create(person=person, channels=["sms", "email"])
    yellow = open_incident(level="yellow")
    assert sorted(Delivery.objects.filter(notification__incident=yellow).values_list("kind", flat=True)) == [
        "email", "sms"]


def test_an_unanswered_message_repeats_at_the_interval_the_plan_gives_its_level(plan_where_yellow, make_person,
                                                                                open_incident, mailoutbox):
    plan_where_yellow(repeat={"every": "7m", "times": 1})
    make_person("tech_group")
    make_person("office")
    open_incident(level="yellow")
    start = timezone.now()
    deliver_due()
    assert answers.follow_up(now=start + timedelta(minutes=6)) == (0, 0)
    assert answers.follow_up(now=start + timedelta(minutes=8)) == (1, 0)
    assert answers.follow_up(now=start + timedelta(minutes=16)) == (0, 1)


def test_a_level_policy_set_in_the_admin_overrides_the_plans_repeat(plan_where_yellow, make_person, open_incident):
    plan_where_yellow(repeat={"every": "7m", "times": 1})
    LevelPolicy.objects.create(level_key="yellow", repeat_every=timedelta(minutes=20), max_repeats=1)
    make_person("tech_group")
    open_incident(level="yellow")
    start = timezone.now()
    assert answers.follow_up(now=start + timedelta(minutes=8)) == (0, 0)
    assert answers.follow_up(now=start + timedelta(minutes=21)) == (1, 0)


def test_a_notification_keeps_what_its_level_meant_when_it_was_sent(plan_where_yellow, make_person, open_incident):
    make_person("tech_group")
    incident = open_incident(level="yellow")
    plan_where_yellow(urgent=True, repeat={"every": "3m", "times": 5})  # a later plan does not change it
    sent = Notification.objects.get(incident=incident)
    assert (sent.urgent, sent.repeat_every, sent.repeat_times) == (False, timedelta(minutes=30), 2)


@pytest.mark.parametrize(("color", "template"), [
    ("#1f6feb", "blue"), ("#9a6700", "yellow"), ("#bc4c00", "orange"), ("#cf222e", "red"),  # the shipped plan
    ("#2da44e", "green"), ("#8250df", "purple"), ("#777777", "grey"), ("", "grey"), ("#zzzzzz", "grey"),
])
def test_a_feishu_card_takes_the_template_nearest_the_levels_colour(color, template):
    assert feishu_template(color) == template


@pytest.mark.parametrize(("color", "urgent", "colour"), [
    ("#1f6feb", False, "comment"), ("#9a6700", False, "comment"), ("#bc4c00", True, "warning"),
    ("#cf222e", True, "warning"), ("#cf222e", False, "warning"), ("#2da44e", False, "info"), ("#2da44e", True, "warning"),
])
def test_a_wecom_title_is_warning_for_an_urgent_or_red_orange_level(color, urgent, colour):
    assert wecom_colour(Message(title="t", text="x", link="/", color=color, urgent=urgent)) == colour
