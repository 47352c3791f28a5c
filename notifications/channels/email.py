"""Email through Django's configured backend (EMAIL_URL or EMAIL_* settings)."""

import time

from django.conf import settings
from django.core.mail import EmailMessage

from .base import Channel, Result, one_line


class EmailChannel(Channel):
    kind = "email"

    def send(self, message, *, address="", config=None):
        lines = [message.text, "", f"{message.link_label}: {message.link}"]
        if message.ack_url:
            lines.append(f"{message.ack_label}: {message.ack_url}")
        email = EmailMessage(
            subject=one_line(message.title, 200), body="\n".join(lines), from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            # A stable Message-ID lets mail systems drop a duplicate if a retry follows a lost answer.
            headers={"Message-ID": f"<{message.idempotency_key.replace(':', '.')}@fenghuo>",
                     "X-Fenghuo-Level": message.level_key},
        )
        started = time.monotonic()
        try:
            sent = email.send(fail_silently=False)
        except Exception as exc:  # noqa: BLE001 - every SMTP failure is recorded on the attempt
            return Result(ok=False, error=f"{type(exc).__name__}: {exc}",
                          latency_ms=int((time.monotonic() - started) * 1000))
        return Result(ok=bool(sent), response=f"accepted by {settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
                      error="" if sent else "backend sent nothing", latency_ms=int((time.monotonic() - started) * 1000))
