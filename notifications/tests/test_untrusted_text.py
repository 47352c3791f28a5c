"""Text from outside (alert summaries, titles) must not break a channel, and a broken channel must not drop mail."""

import email
import email.header
import json
import logging

import pytest

from notifications.channels import ADAPTERS
from notifications.delivery import deliver_due
from notifications.models import ChannelConfig, Delivery, DeliveryAttempt, DeliveryStatus

EVIL = "[click](http://evil.example) **x** <font color=red>"


def test_email_subject_is_one_line_when_title_has_line_breaks(make_person, open_incident, smtp):
    make_person("tech_group", email="wang@example.test")
    open_incident(title="line1\nline2")
    deliver_due()
    delivery = Delivery.objects.get(kind="email")
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    [envelope] = smtp.messages
    raw = email.message_from_bytes(envelope.content)["Subject"]
    subject = str(email.header.make_header(email.header.decode_header(raw)))
    assert "line1 line2" in subject and "\n" not in subject and "\r" not in subject


def test_an_unexpected_exception_in_a_channel_fails_the_delivery_and_schedules_a_retry(
        make_person, open_incident, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("adapter bug")

    make_person("tech_group", email="wang@example.test")
    open_incident()
    monkeypatch.setattr(ADAPTERS["email"], "send", explode)
    with caplog.at_level(logging.ERROR, logger="notifications.delivery"):
        deliver_due()
    delivery = Delivery.objects.get(kind="email")
    assert delivery.status == DeliveryStatus.PENDING and delivery.sent_at is None
    assert "RuntimeError: adapter bug" in delivery.last_error
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert not attempt.ok and delivery.attempts == 1 and delivery.next_attempt_at > attempt.at
    assert any("adapter bug" in r.getMessage() or r.exc_info for r in caplog.records)


@pytest.mark.parametrize("kind, path, secret", [
    ("dingtalk", "/robot/send?access_token=T", "SECtestsecret0123456789"),
    ("wecom", "/cgi-bin/webhook/send", "KEY-693a91f6"),
    ("feishu", "/open-apis/bot/v2/hook/HOOK", "test-secret"),
])
def test_robot_messages_show_injected_markdown_literally(make_person, open_incident, receiver, kind, path, secret):
    hook = receiver(kind, secret=secret)
    ChannelConfig.objects.create(name=f"{kind} robot", kind=kind, url=f"{hook.base}{path}", secret=secret,
                                 role_key="tech_group")
    # Outside text in the markdown itself: the title (DingTalk, WeCom) and the names of who was told (all three;
    # Feishu shows the title in its plain-text header, so the name is what reaches its markdown).
    make_person("tech_group", full_name=EVIL)
    incident = open_incident(title=EVIL)
    deliver_due()
    robot = Delivery.objects.get(kind=kind)
    assert robot.status == DeliveryStatus.SENT, robot.last_error
    [request] = hook.requests
    doc = json.loads(request["body"])
    body = {"dingtalk": lambda: doc["markdown"]["text"], "wecom": lambda: doc["markdown"]["content"],
            "feishu": lambda: doc["card"]["elements"][0]["content"]}[kind]()
    assert "](http://evil.example)" not in body
    assert "<font color=red>" not in body and "**x**" not in body
    # Shown literally: escaped, not dropped.
    assert "\\[click\\]\\(http://evil\\.example\\)" in body
    assert "&lt;font color=red&gt;" in body
    assert f"(https://fenghuo.example.test/incidents/{incident.pk}/)" in body
