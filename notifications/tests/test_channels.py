"""Each channel against a receiver on loopback that checks the vendor's format and signature."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from notifications.channels.base import truncate_bytes
from notifications.channels.dingtalk import dingtalk_sign, signed_url
from notifications.channels.feishu import feishu_sign
from notifications.delivery import deliver_due
from notifications.models import ChannelConfig, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.recipients import notify_roles

pytestmark = pytest.mark.django_db

DING_SECRET = "SECtestsecret0123456789"
WEBHOOK_SECRET = "webhook-secret-0123456789"


def test_dingtalk_signature_matches_the_spec_test_vector():
    assert dingtalk_sign(DING_SECRET, 1700000000000) == "zrLWzK97t62y5CpqN8Ok9UIdPvX+jL1PNoW8nKT5a9k="


def test_dingtalk_signature_is_url_encoded_exactly_once():
    url = signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", DING_SECRET, 1700000000000)
    assert url.endswith("&timestamp=1700000000000&sign=zrLWzK97t62y5CpqN8Ok9UIdPvX%2BjL1PNoW8nKT5a9k%3D")
    assert parse_qs(urlsplit(url).query)["sign"] == ["zrLWzK97t62y5CpqN8Ok9UIdPvX+jL1PNoW8nKT5a9k="]


def test_feishu_signature_matches_the_spec_test_vector():
    assert feishu_sign("test-secret", 1599360473) == "wSds2BzzFIIGf/WrhUO+NI1q/9j+FRJd3JNHKAq0NZY="


def test_truncation_never_cuts_a_chinese_character_and_keeps_the_link():
    text = truncate_bytes("严重预警" * 100, 50, " https://x.test/1/")
    assert len(text.encode("utf-8")) <= 50
    assert text.endswith("… https://x.test/1/")


def _robot(kind, url, secret="", role_key="tech_group", **extra):
    return ChannelConfig.objects.create(name=f"{kind} robot", kind=kind, url=url, secret=secret, role_key=role_key,
                                        **extra)


def test_dingtalk_robot_posts_signed_markdown_that_mentions_the_people_told(make_person, open_incident, receiver):
    ding = receiver("dingtalk", secret=DING_SECRET)
    _robot("dingtalk", f"{ding.base}/robot/send?access_token=T", DING_SECRET)
    make_person("tech_group", username="wang", full_name="王工", phone="13800000001")
    incident = open_incident(level="orange")
    deliver_due()
    robot = Delivery.objects.get(kind="dingtalk")
    assert robot.status == DeliveryStatus.SENT, robot.last_error
    [doc] = ding.accepted
    assert doc["at"]["atMobiles"] == ["13800000001"]
    assert "王工" in doc["markdown"]["text"]
    assert f"https://fenghuo.example.test/incidents/{incident.pk}/" in doc["markdown"]["text"]
    assert "#d1570a" in doc["markdown"]["text"]


def test_dingtalk_robot_with_a_wrong_secret_records_the_vendors_error_and_retries(make_person, open_incident,
                                                                                  receiver):
    ding = receiver("dingtalk", secret=DING_SECRET)
    _robot("dingtalk", f"{ding.base}/robot/send?access_token=T", "SECsomethingelse")
    open_incident()
    deliver_due()
    robot = Delivery.objects.get(kind="dingtalk")
    assert robot.status == DeliveryStatus.PENDING
    attempt = DeliveryAttempt.objects.get(delivery=robot)
    assert not attempt.ok and attempt.http_status == 200
    assert "310000" in attempt.response and attempt.error == "errcode=310000"


def test_wecom_robot_posts_markdown_with_the_key_in_the_url(make_person, open_incident, receiver):
    wecom = receiver("wecom")
    _robot("wecom", f"{wecom.base}/cgi-bin/webhook/send", secret="KEY-693a91f6")
    make_person("tech_group")
    open_incident(level="red", drill=True)
    deliver_due()
    assert Delivery.objects.get(kind="wecom").status == DeliveryStatus.SENT
    [request] = wecom.requests
    assert parse_qs(urlsplit(request["path"]).query)["key"] == ["KEY-693a91f6"]
    content = json.loads(request["body"])["markdown"]["content"]
    assert '<font color="warning">' in content
    assert "演练" in content or "DRILL" in content


def test_feishu_bot_posts_a_signed_card_in_the_level_colour(make_person, open_incident, receiver):
    feishu = receiver("feishu", secret="test-secret")
    _robot("feishu", f"{feishu.base}/open-apis/bot/v2/hook/HOOK", "test-secret")
    open_incident(level="yellow")
    deliver_due()
    assert Delivery.objects.get(kind="feishu").status == DeliveryStatus.SENT
    [card] = feishu.accepted
    assert card["card"]["header"]["template"] == "yellow"


def test_feishu_bad_signature_answer_is_recorded(open_incident, receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    feishu = receiver("feishu", secret="test-secret")
    _robot("feishu", f"{feishu.base}/open-apis/bot/v2/hook/HOOK", "not-the-secret")
    open_incident()
    deliver_due()
    robot = Delivery.objects.get(kind="feishu")
    assert robot.status == DeliveryStatus.FAILED
    assert "19021" in robot.last_error


def test_webhook_is_signed_with_hmac_sha256_over_timestamp_and_body(make_person, open_incident, receiver):
    hook = receiver("webhook", secret=WEBHOOK_SECRET)
    _robot("webhook", f"{hook.base}/hooks/fenghuo", WEBHOOK_SECRET, role_key="tech_group")
    incident = open_incident(level="orange")
    deliver_due()
    [doc] = hook.accepted
    assert doc["incident"] == incident.pk and doc["level"] == "orange" and doc["color"] == "#d1570a"
    assert doc["link"] == f"https://fenghuo.example.test/incidents/{incident.pk}/"
    assert hook.requests[0]["headers"]["X-Fenghuo-Delivery"] == doc["id"]


@pytest.mark.parametrize("failure", [(500, {"error": "boom"}), "hang", {"errcode": 45009, "errmsg": "limit"}],
                         ids=["http-500", "timeout", "errcode-in-200"])
def test_a_failing_receiver_is_retried_and_then_recorded_as_failed(open_incident, receiver, settings, failure):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    kind = "dingtalk" if isinstance(failure, dict) else "webhook"
    secret = DING_SECRET if kind == "dingtalk" else WEBHOOK_SECRET
    hook = receiver(kind, secret=secret, answers=[failure])
    url = f"{hook.base}/robot/send?access_token=T" if kind == "dingtalk" else f"{hook.base}/hook"
    _robot(kind, url, secret)
    open_incident()
    deliver_due()
    delivery = Delivery.objects.get(kind=kind)
    for _attempt in range(2):
        assert delivery.status == DeliveryStatus.PENDING
        deliver_due(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3 and len(hook.requests) == 3
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert len(attempts) == 3 and not any(a.ok for a in attempts)
    assert delivery.last_error


def test_a_retry_after_a_500_delivers_exactly_once_with_the_same_delivery_id(open_incident, receiver):
    hook = receiver("webhook", secret=WEBHOOK_SECRET, answers=[(500, {"error": "boom"}), (200, {"ok": True})])
    _robot("webhook", f"{hook.base}/hook", WEBHOOK_SECRET)
    open_incident()
    deliver_due()
    delivery = Delivery.objects.get(kind="webhook")
    deliver_due(now=delivery.next_attempt_at)
    deliver_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(hook.accepted) == 1
    ids = {r["headers"]["X-Fenghuo-Delivery"] for r in hook.requests}
    assert ids == {delivery.idempotency_key} and len(hook.requests) == 2


def test_sms_gateway_gets_the_phone_the_text_and_the_ack_link(make_person, open_incident, receiver):
    from notifications.models import Preference

    gateway = receiver("sms", secret="gateway-token-0123456789")
    ChannelConfig.objects.create(name="gw", kind="sms", url=f"{gateway.base}/send",
                                 secret="gateway-token-0123456789")
    person = make_person("tech_group", phone="13800000001", language="en")
    Preference.objects.create(person=person, channels=["sms"])
    open_incident(level="yellow")
    deliver_due()
    [doc] = gateway.accepted
    assert doc["to"] == "13800000001"
    assert "/notifications/ack/" in doc["text"] and len(doc["text"].encode()) <= 400


def test_over_the_robot_limit_an_incidents_updates_are_coalesced_into_one_message(open_incident, receiver):
    from notifications.models import Ask

    hook = receiver("wecom")
    _robot("wecom", f"{hook.base}/cgi-bin/webhook/send?key=K", per_minute=2, role_key="")
    incident = open_incident()
    for n in range(4):
        notify_roles(incident, role_keys=["tech_group"], event=f"update:{n}", ask=Ask.FYI, note=f"update {n}")
    deliver_due()
    assert len(hook.requests) == 1
    content = json.loads(hook.requests[0]["body"])["markdown"]["content"]
    assert "5" in content and "update 3" in content
    statuses = sorted(Delivery.objects.filter(kind="wecom").values_list("status", flat=True))
    assert statuses == ["coalesced"] * 4 + ["sent"]


def test_over_the_robot_limit_other_incidents_wait_for_the_next_minute(open_incident, receiver):
    hook = receiver("wecom")
    _robot("wecom", f"{hook.base}/cgi-bin/webhook/send?key=K", per_minute=1, role_key="")
    open_incident(title="first")
    open_incident(title="second")
    deliver_due()
    assert len(hook.requests) == 1
    waiting = Delivery.objects.get(kind="wecom", status=DeliveryStatus.PENDING)
    deliver_due(now=waiting.next_attempt_at)
    assert len(hook.requests) == 2


def test_a_long_message_is_cut_to_the_wecom_limit_and_keeps_the_link(open_incident, receiver):
    from notifications.models import Ask

    hook = receiver("wecom")
    _robot("wecom", f"{hook.base}/cgi-bin/webhook/send?key=K", role_key="office")
    incident = open_incident()
    notify_roles(incident, role_keys=["office"], event="long", ask=Ask.FYI, note="系统日志" * 2000)
    deliver_due()
    assert Delivery.objects.get(kind="wecom").status == DeliveryStatus.SENT
    content = hook.accepted[0]["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith(f"(https://fenghuo.example.test/incidents/{incident.pk}/)")


def test_sms_beyond_the_daily_cap_for_a_number_is_suppressed_not_sent(make_person, open_incident, receiver,
                                                                      settings):
    from notifications.models import Ask, Preference

    settings.NOTIFICATIONS_SMS_DAILY_CAP = 2
    gateway = receiver("sms", secret="gateway-token-0123456789")
    ChannelConfig.objects.create(name="gw", kind="sms", url=f"{gateway.base}/send",
                                 secret="gateway-token-0123456789")
    person = make_person("tech_group", phone="13800000001")
    Preference.objects.create(person=person, channels=["sms"])
    incident = open_incident()
    for n in range(3):
        notify_roles(incident, role_keys=["tech_group"], event=f"update:{n}", ask=Ask.FYI)
    deliver_due()
    assert len(gateway.accepted) == 2
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["sent", "sent", "suppressed", "suppressed"]
