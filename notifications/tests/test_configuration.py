"""Misconfigured channels are refused when saved, with the reason; provider errors show in the admin."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from notifications.admin import ChannelConfigForm
from notifications.models import ChannelConfig, Delivery, DeliveryAttempt, Preference

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kind", "url", "secret", "field", "reason"), [
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=T", "", "secret", "加签"),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send", "SECabc", "url", "access_token"),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/X", "", "secret", "secret"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "", "secret", "key"),
    ("webhook", "ftp://example.test/hook", "0123456789abcdef", "url", "http"),
    ("webhook", "https://example.test/hook", "short", "secret", "16"),
])
def test_a_misconfigured_channel_is_refused_with_the_reason(kind, url, secret, field, reason):
    channel = ChannelConfig(name="x", kind=kind, url=url, secret=secret)
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            channel.full_clean()
        assert reason in " ".join(refused.value.message_dict[field])


def test_the_admin_form_refuses_a_dingtalk_robot_without_a_secret():
    form = ChannelConfigForm(data={"name": "值班群", "kind": "dingtalk", "language": "zh-hans", "is_active": "on",
                                   "url": "https://oapi.dingtalk.com/robot/send?access_token=T", "secret": ""})
    assert not form.is_valid()
    assert "secret" in form.errors


def test_the_admin_form_keeps_the_stored_secret_when_left_empty():
    channel = ChannelConfig.objects.create(name="hook", kind="webhook", url="https://example.test/h",
                                           secret="0123456789abcdef0123")
    form = ChannelConfigForm(instance=channel, data={"name": "hook", "kind": "webhook", "language": "zh-hans",
                                                     "url": "https://example.test/h", "secret": "",
                                                     "is_active": "on"})
    assert form.is_valid(), form.errors
    assert form.save().secret == "0123456789abcdef0123"


def test_unknown_preferred_channels_are_refused(make_person):
    with pytest.raises(ValidationError):
        Preference(person=make_person(), channels=["pager"]).full_clean()


def test_the_admin_attempt_list_shows_the_providers_answer(make_person, open_incident):
    admin = make_person(username="admin", is_staff=True, is_superuser=True)
    open_incident()
    delivery = Delivery.objects.create(notification_id=open_incident().notifications.first().pk, kind="webhook",
                                       idempotency_key="k")
    DeliveryAttempt.objects.create(delivery=delivery, ok=False, http_status=200,
                                   response='{"errcode":310000,"errmsg":"sign not match"}', error="errcode=310000")
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/notifications/deliveryattempt/")
    assert page.status_code == 200
    assert "sign not match" in page.content.decode()
