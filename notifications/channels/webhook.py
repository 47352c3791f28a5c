"""Generic webhook: the message as JSON, signed with HMAC-SHA256 so the receiver can trust it.

Headers: ``X-Fenghuo-Timestamp`` (Unix seconds), ``X-Fenghuo-Signature``
(``sha256=`` + hex HMAC of ``"{timestamp}." + body`` with the channel's secret)
and ``X-Fenghuo-Delivery`` (the idempotency key: the same on every retry).
"""

import hashlib
import hmac
import json
import time

from .base import Channel, one_line, post_json


def webhook_signature(secret, timestamp, body):
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookChannel(Channel):
    kind = "webhook"

    def send(self, message, *, address="", config=None):
        payload = {
            "id": message.idempotency_key,
            "incident": message.incident_id,
            "event": message.event,
            "level": message.level_key,
            "level_name": message.level_name,
            "color": message.color,
            "drill": message.is_drill,
            "title": one_line(message.title),
            "text": message.text,
            "link": message.link,
            "ack_url": message.ack_url,
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "X-Fenghuo-Timestamp": timestamp,
            "X-Fenghuo-Signature": webhook_signature(config.secret, timestamp, body),
            "X-Fenghuo-Delivery": message.idempotency_key,
        }
        result = post_json(config.url, None, headers=headers, body=body)
        if result.ok and not 200 <= (result.http_status or 0) < 300:
            result.ok, result.error = False, f"HTTP {result.http_status}"
        return result
