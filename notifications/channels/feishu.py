"""Feishu / Lark custom bot (飞书自定义机器人), signed in the JSON body.

Unlike DingTalk: seconds, the HMAC key is ``"{timestamp}\\n{secret}"`` and the
message is empty.
"""

import base64
import hashlib
import hmac
import time

from .base import Channel, check_vendor_code, escape_feishu_markdown, hue, one_line, post_json, truncate_bytes

MAX_TEXT_BYTES = 15000
# Feishu card header templates by hue band (degrees, upper bound exclusive), red wrapping round.
HUE_TEMPLATES = [(15, "red"), (38, "orange"), (70, "yellow"), (165, "green"), (190, "turquoise"), (235, "blue"),
                 (258, "indigo"), (315, "purple"), (345, "carmine"), (360, "red")]


def feishu_template(color):
    degrees = hue(color)
    if degrees is None:
        return "grey"
    return next(template for bound, template in HUE_TEMPLATES if degrees < bound)


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
                           "template": feishu_template(message.color)},
                "elements": [{"tag": "markdown",
                              "content": truncate_bytes(escape_feishu_markdown(message.text), MAX_TEXT_BYTES, links)}],
            },
        }
        return check_vendor_code(post_json(config.url, payload), "code")
