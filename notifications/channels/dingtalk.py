"""DingTalk custom robot (钉钉自定义机器人), with 加签 signing.

The signature goes in the URL: timestamp in milliseconds, HMAC-SHA256 keyed
with the secret over ``"{timestamp}\\n{secret}"``, base64, then URL-encoded
exactly once.
"""

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

from .base import Channel, check_vendor_code, escape_dingtalk_markdown, one_line, post_json, truncate_bytes

MAX_TEXT_BYTES = 18000


def dingtalk_sign(secret, timestamp_ms):
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(url, secret, timestamp_ms):
    return f"{url}&timestamp={timestamp_ms}&sign={quote_plus(dingtalk_sign(secret, timestamp_ms))}"


class DingTalkChannel(Channel):
    kind = "dingtalk"

    def send(self, message, *, address="", config=None):
        color = message.color or "#000000"
        title = one_line(message.title)
        header = f'### <font color="{color}">{escape_dingtalk_markdown(title)}</font>\n\n'
        links = f"\n\n[{message.link_label}]({message.link})"
        if message.ack_url:
            links += f" · [{message.ack_label}]({message.ack_url})"
        mentions = "".join(f" @{phone}" for phone in message.mentions)
        text = truncate_bytes(header + escape_dingtalk_markdown(message.text), MAX_TEXT_BYTES,
                              links + ("\n\n" + mentions if mentions else ""))
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": one_line(title, 60), "text": text},
            "at": {"atMobiles": list(message.mentions), "isAtAll": False},
        }
        timestamp_ms = int(time.time() * 1000)
        return check_vendor_code(post_json(signed_url(config.url, config.secret, timestamp_ms), payload), "errcode")
