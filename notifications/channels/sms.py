"""SMS through a generic HTTP gateway; a vendor adapter (Aliyun, Tencent Cloud) can replace it.

The gateway receives ``{"to", "text", "id"}`` as JSON with ``Authorization:
Bearer <secret>`` and ``X-Fenghuo-Delivery`` (the same on every retry) and
answers 2xx when it has accepted the message.
"""

from .base import Channel, one_line, post_json, truncate_bytes

MAX_SMS_BYTES = 400


class SmsGatewayChannel(Channel):
    kind = "sms"

    def send(self, message, *, address="", config=None):
        suffix = f" {message.ack_url or message.link}"
        text = truncate_bytes(f"{one_line(message.title)} {one_line(message.text, MAX_SMS_BYTES)}", MAX_SMS_BYTES,
                              suffix)
        payload = {"to": address, "text": text, "id": message.idempotency_key}
        headers = {"Authorization": f"Bearer {config.secret}", "X-Fenghuo-Delivery": message.idempotency_key}
        result = post_json(config.url, payload, headers=headers)
        if result.ok and not 200 <= (result.http_status or 0) < 300:
            result.ok, result.error = False, f"HTTP {result.http_status}"
        return result
