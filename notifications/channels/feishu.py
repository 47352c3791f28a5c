"""Feishu / Lark custom bot (飞书自定义机器人), signed in the JSON body.

Unlike DingTalk: seconds, the HMAC key is ``"{timestamp}\\n{secret}"`` and the
message is empty.
"""

import base64
import hashlib
import hmac
import time

from .base import Channel, check_vendor_code, escape_feishu_markdown, one_line, post_json, truncate_bytes

MAX_TEXT_BYTES = 15000
LEVEL_TEMPLATES = {"blue": "blue", "yellow": "yellow", "orange": "orange", "red": "red"}


def feishu_sign(secret, timestamp_s):
    key = f"{timestamp_s}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


class FeishuChannel(Channel):
    kind = "feishu"

    def send(self, message, *, address="", config=None):
        links = f"\n\n[{message.link_label}]({message.link})"
        if message.ack_url:
            links += f"  [{message.ack_label}]({message.ack_url})"
        timestamp = int(time.time())
        payload = {
            "timestamp": str(timestamp),
            "sign": feishu_sign(config.secret, timestamp),
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": one_line(message.title)},
                           "template": LEVEL_TEMPLATES.get(message.level_key, "grey")},
                "elements": [{"tag": "markdown",
                              "content": truncate_bytes(escape_feishu_markdown(message.text), MAX_TEXT_BYTES, links)}],
            },
        }
        return check_vendor_code(post_json(config.url, payload), "code")
