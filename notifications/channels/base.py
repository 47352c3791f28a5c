"""The channel interface, and the small HTTP client the robot adapters share."""

import json
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings

from . import keepalive


@dataclass
class Message:
    """What one delivery says, already in the reader's language."""

    title: str
    text: str
    link: str
    ack_url: str = ""
    level_key: str = ""
    level_name: str = ""
    color: str = ""  # the plan level's colour, "#rrggbb"
    urgent: bool = False  # the plan level is urgent (orange and red in the shipped plan)
    is_drill: bool = False
    # Phones to @-mention in a group chat (DingTalk requires them in the text too).
    mentions: list = field(default_factory=list)
    # Labels in the reader's language, so adapters need no translation machinery.
    link_label: str = "Open"
    ack_label: str = "I have read this"
    idempotency_key: str = ""
    incident_id: int | None = None
    event: str = ""


@dataclass
class Result:
    ok: bool
    http_status: int | None = None
    response: str = ""
    error: str = ""
    latency_ms: int = 0
    # False when trying again cannot help (the provider refused the request itself).
    retryable: bool = True


class Channel:
    kind = ""

    def send(self, message, *, address="", config=None):
        """Deliver ``message``; return a ``Result``. Never raises for a provider's failure."""
        raise NotImplementedError


_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\ufeff]+")


def one_line(text, limit=200):
    """A subject or title safe in any header or chat title: control characters and line breaks become one space.

    Alert summaries (Alertmanager, Zabbix) are often multi-line; a line break in an email subject raises
    BadHeaderError and in a robot title breaks the card, so every channel flattens titles through here.
    """
    flat = _CONTROL_OR_SPACE.sub(" ", str(text or "")).strip()
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


# Characters that make links, emphasis, headings, lists, code or HTML in each robot's markdown. Text from outside
# (titles, alert summaries, notes, names) is escaped with its robot's helper; links the product builds are added
# after escaping and so stay links.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]{}()#+\-.!|~>])")


def _escape_markdown(text):
    # < and & as entities: DingTalk, WeCom and Feishu render <font> and friends, so a raw < could open a tag.
    text = str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def escape_dingtalk_markdown(text):
    return _escape_markdown(text)


def escape_wecom_markdown(text):
    return _escape_markdown(text)


def escape_feishu_markdown(text):
    return _escape_markdown(text)


def truncate_bytes(text, limit, suffix=""):
    """Cut ``text`` so that it plus ``suffix`` fits in ``limit`` UTF-8 bytes, never inside a character."""
    encoded_suffix = suffix.encode("utf-8")
    if len(text.encode("utf-8")) + len(encoded_suffix) <= limit:
        return text + suffix
    marker = "…"
    room = limit - len(encoded_suffix) - len(marker.encode("utf-8"))
    cut = text.encode("utf-8")[:max(room, 0)].decode("utf-8", errors="ignore")
    return cut + marker + suffix


def http_timeout():
    return settings.NOTIFICATIONS_HTTP_TIMEOUT


def post_json(url, payload, *, headers=None, body=None):
    """POST JSON and return a Result with the status and body, whatever happened.

    On a kept-alive connection (``keepalive.py``); through ``urllib`` when the environment names a proxy for the URL.
    """
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    if keepalive.proxied(url):
        return _post_through_urllib(url, data, all_headers)
    started = time.monotonic()
    try:
        answer = keepalive.post(url, data, all_headers, timeout=http_timeout())
    except keepalive.ConnectError as exc:
        return Result(ok=False, error=f"URLError: {exc.reason}", latency_ms=_ms(started))
    except (socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        return Result(ok=False, error=f"{type(exc).__name__}: {exc}", latency_ms=_ms(started))
    text = answer.body.decode("utf-8", errors="replace")
    if not 200 <= answer.status < 300:
        # A redirect is not followed: following a POST's redirect would send a GET without the message.
        return _refused(answer.status, text, started)
    return Result(ok=True, http_status=answer.status, response=text, latency_ms=_ms(started))


def _refused(status, text, started):
    # 4xx other than 408/429 means the request itself is wrong: repeating it cannot help.
    retryable = status >= 500 or status in (408, 429)
    return Result(ok=False, http_status=status, response=text, error=f"HTTP {status}", latency_ms=_ms(started),
                  retryable=retryable)


def _post_through_urllib(url, data, headers):
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=http_timeout()) as answer:  # noqa: S310 - URL validated on save
            status, text = answer.status, answer.read(8192).decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        text = exc.read(8192).decode("utf-8", errors="replace") if exc.fp else ""
        return _refused(exc.code, text, started)
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Result(ok=False, error=f"{type(exc).__name__}: {reason}", latency_ms=_ms(started))
    return Result(ok=True, http_status=status, response=text, latency_ms=_ms(started))


def check_vendor_code(result, key):
    """Vendors answer errors with HTTP 200 and a non-zero code in the body: read it."""
    if not result.ok:
        return result
    try:
        code = json.loads(result.response or "{}").get(key)
    except (ValueError, AttributeError):
        result.ok, result.error = False, "answer is not JSON"
        return result
    if code not in (0, None):
        result.ok, result.error = False, f"{key}={code}"
    elif code is None:
        result.ok, result.error = False, f"answer has no {key}"
    return result


def _ms(started):
    return int((time.monotonic() - started) * 1000)


def hue(color: str) -> float | None:
    """The hue in degrees (0 red, 120 green, 240 blue) of "#rrggbb", or None for a grey or a malformed value.

    Robots offer a few named colours, not any colour: a level's colour from the
    plan is matched to the nearest by its hue (the plan is data; no level key here).
    """
    if not isinstance(color, str) or len(color) != 7 or not color.startswith("#"):
        return None
    try:
        r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    except ValueError:
        return None
    high, low = max(r, g, b), min(r, g, b)
    if high == 0 or (high - low) / high < 0.25:
        return None
    span = high - low
    if high == r:
        degrees = 60 * (((g - b) / span) % 6)
    elif high == g:
        degrees = 60 * ((b - r) / span + 2)
    else:
        degrees = 60 * ((r - g) / span + 4)
    return degrees % 360

