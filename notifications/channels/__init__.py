"""Channel adapters: each turns a ``Message`` into one provider call and reports the answer.

One interface (``Channel.send``) for all of them, so the delivery service
neither knows nor cares how DingTalk signs a URL. Adapters do no database work
and hold no transaction: the caller invokes them after committing its claim.
"""

from .base import Channel, Message, Result
from .dingtalk import DingTalkChannel
from .email import EmailChannel
from .feishu import FeishuChannel
from .sms import SmsGatewayChannel
from .webhook import WebhookChannel
from .wecom import WeComChannel

ADAPTERS = {
    adapter.kind: adapter
    for adapter in (EmailChannel(), SmsGatewayChannel(), WebhookChannel(), DingTalkChannel(), WeComChannel(),
                    FeishuChannel())
}


def adapter_for(kind):
    return ADAPTERS[kind]


__all__ = ["ADAPTERS", "Channel", "Message", "Result", "adapter_for"]
