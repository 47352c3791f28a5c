"""Turning each monitoring system's JSON into alert records, or saying which field is wrong.

Parsers are pure: they take the decoded body and return ``AlertData`` items, or
raise ``ValidationError({"field.path": [message]})``. Fields we do not know are
ignored, so a newer Alertmanager or a richer PagerDuty client keeps working.
"""

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .models import LEVEL_KEYS, AlertStatus, Integration

SEVERITY_LEVELS = {"critical": "orange", "error": "yellow", "warning": "yellow", "info": "blue"}
EVENTS_SEVERITIES = ("critical", "error", "warning", "info")
EVENT_ACTIONS = {"trigger": AlertStatus.FIRING, "resolve": AlertStatus.RESOLVED,
                 "acknowledge": AlertStatus.ACKNOWLEDGED}
MAX_ALERTS_PER_REQUEST = 1000
# Events and generic alerts carry no start time of their own: an identical body
# within this window is taken as a repeat of the same delivery (a client's retry).
REPEAT_WINDOW = timedelta(minutes=5)


@dataclass
class AlertData:
    group_key: str
    fingerprint: str
    delivery_key: str
    status: str
    starts_at: datetime
    summary: str
    category_key: str
    level_key: str
    ends_at: datetime | None = None
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)
    description: str = ""


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _window(now: datetime) -> int:
    return int(now.timestamp() // REPEAT_WINDOW.total_seconds())


def _fail(path: str, message: str) -> NoReturn:
    raise ValidationError({path: [message]})


def _text(body: dict[str, Any], key: str, path: str, *, required: bool = False, max_length: int = 500) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            _fail(path, _("is required"))
        return ""
    if not isinstance(value, str):
        _fail(path, _("must be a string"))
    if len(value) > max_length:
        _fail(path, _("must be at most %(n)d characters") % {"n": max_length})
    return value


def _object(body: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(path, _("must be an object"))
    return value


def _time(value: Any, path: str) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        _fail(path, _("must be a time in ISO 8601 / RFC 3339 form, e.g. 2024-05-01T08:30:00+08:00"))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt_timezone.utc)
    return parsed


def _level(explicit: Any, severity: Any, default: str) -> str:
    if explicit in LEVEL_KEYS:
        return explicit
    return SEVERITY_LEVELS.get((severity or "").lower(), default)


def _strings(mapping: dict[Any, Any]) -> dict[str, str]:
    """Labels are string → string; keep whatever else arrives as its JSON text."""
    return {str(k): v if isinstance(v, str) else _canonical(v) for k, v in mapping.items()}


# --- Prometheus Alertmanager webhook, version 4 -----------------------------------


def parse_alertmanager(body: Any, *, integration: Integration, categories: Collection[str]) -> list[AlertData]:
    if not isinstance(body, dict):
        _fail("body", _("must be a JSON object (Alertmanager webhook version 4)"))
    group_key = _text(body, "groupKey", "groupKey", required=True, max_length=500)
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        _fail("alerts", _("must be a non-empty list"))
    if len(alerts) > MAX_ALERTS_PER_REQUEST:
        _fail("alerts", _("at most %(n)d alerts per request") % {"n": MAX_ALERTS_PER_REQUEST})
    common_annotations = body.get("commonAnnotations")
    if not isinstance(common_annotations, dict):
        common_annotations = {}
    parsed: list[AlertData] = []
    for i, alert in enumerate(alerts):
        path = f"alerts[{i}]"
        if not isinstance(alert, dict):
            _fail(path, _("must be an object"))
        status = alert.get("status")
        if status not in (AlertStatus.FIRING, AlertStatus.RESOLVED):
            _fail(f"{path}.status", _("must be \"firing\" or \"resolved\""))
        labels = _strings(_object(alert, "labels", f"{path}.labels"))
        annotations = _strings(_object(alert, "annotations", f"{path}.annotations"))
        starts_at = _time(alert.get("startsAt"), f"{path}.startsAt")
        if starts_at is None:
            _fail(f"{path}.startsAt", _("is required"))
        ends_at = _time(alert.get("endsAt"), f"{path}.endsAt")
        if ends_at is not None and ends_at.year < 2:  # Alertmanager's "not ended yet"
            ends_at = None
        fingerprint = _text(alert, "fingerprint", f"{path}.fingerprint", max_length=255)
        if not fingerprint:  # Alertmanager before 0.19 sent none: the label set identifies the alert
            fingerprint = _digest(_canonical(labels))[:16]
        category = labels.get("category", "")
        summary = (annotations.get("summary") or common_annotations.get("summary") or annotations.get("description")
                   or labels.get("alertname") or group_key)
        if labels.get("alertname") and labels["alertname"] not in summary:
            summary = f"{labels['alertname']}: {summary}"
        parsed.append(AlertData(
            group_key=group_key, fingerprint=fingerprint,
            delivery_key=_digest("am", group_key, fingerprint, status, starts_at.isoformat()),
            status=status, starts_at=starts_at, ends_at=ends_at, summary=str(summary)[:300],
            # Labels come from rules we do not control: an unknown value falls back to the default.
            category_key=category if category in categories else integration.default_category,
            level_key=_level(labels.get("level"), labels.get("severity"), integration.default_level),
            labels=labels, annotations=annotations,
            description=annotations.get("description", ""),
        ))
    return parsed


# --- PagerDuty Events API v2 -------------------------------------------------------


def parse_event(body: Any, *, integration: Integration, categories: Collection[str], now: datetime) -> AlertData:
    if not isinstance(body, dict):
        _fail("body", _("must be a JSON object (PagerDuty Events API v2)"))
    action = body.get("event_action")
    if action not in EVENT_ACTIONS:
        _fail("event_action", _("must be one of trigger, acknowledge, resolve"))
    dedup_key = _text(body, "dedup_key", "dedup_key", max_length=255)
    repeat = _digest("ev", _canonical({k: v for k, v in body.items() if k != "routing_key"}), _window(now))
    if action != "trigger":
        if not dedup_key:
            _fail("dedup_key", _("is required to %(action)s an event") % {"action": action})
        payload = body.get("payload")
        if not isinstance(payload, dict):
            payload = {}
        return AlertData(
            group_key=dedup_key, fingerprint=dedup_key, delivery_key=repeat, status=EVENT_ACTIONS[action],
            starts_at=now, summary=str(payload.get("summary") or f"{action}: {dedup_key}")[:300],
            category_key=integration.default_category, level_key=integration.default_level,
        )
    payload = body.get("payload")
    if not isinstance(payload, dict):
        _fail("payload", _("is required for a trigger and must be an object"))
    summary = _text(payload, "summary", "payload.summary", required=True, max_length=1024)
    # Required by the Events API v2, so checked; the summary carries what people read.
    _text(payload, "source", "payload.source", required=True, max_length=255)
    severity = payload.get("severity")
    if severity not in EVENTS_SEVERITIES:
        _fail("payload.severity", _("must be one of critical, error, warning, info"))
    details = _object(payload, "custom_details", "payload.custom_details")
    level = details.get("level")
    if level is not None and level not in LEVEL_KEYS:
        _fail("payload.custom_details.level", _("must be one of %(keys)s") % {"keys": ", ".join(LEVEL_KEYS)})
    category = details.get("category")
    if category is not None and category not in categories:
        _fail("payload.custom_details.category", _("must be one of %(keys)s") % {"keys": ", ".join(categories)})
    _time(payload.get("timestamp"), "payload.timestamp")
    # PagerDuty makes up a key when a trigger has none; ours is derived from the
    # body so that a retried trigger still lands on the same alert.
    dedup_key = dedup_key or repeat[:32]
    labels = {k: payload[k] for k in ("source", "severity", "component", "group", "class")
              if isinstance(payload.get(k), str)}
    return AlertData(
        group_key=dedup_key, fingerprint=dedup_key, delivery_key=repeat, status=AlertStatus.FIRING,
        starts_at=now, summary=summary[:300], category_key=category or integration.default_category,
        level_key=_level(level, severity, integration.default_level), labels=labels,
        annotations={"summary": summary, "custom_details": details}, description=summary if len(summary) > 300 else "",
    )


# --- generic JSON (docs/integrations/README.md) ------------------------------------


def parse_generic(body: Any, *, integration: Integration, categories: Collection[str],
                  now: datetime) -> list[AlertData]:
    if isinstance(body, dict) and "alerts" in body:
        items, prefix = body["alerts"], "alerts"
        if not isinstance(items, list) or not items:
            _fail("alerts", _("must be a non-empty list"))
        if len(items) > MAX_ALERTS_PER_REQUEST:
            _fail("alerts", _("at most %(n)d alerts per request") % {"n": MAX_ALERTS_PER_REQUEST})
    elif isinstance(body, dict):
        items, prefix = [body], ""
    else:
        _fail("body", _("must be a JSON object: one alert, or {\"alerts\": [...]}"))
    parsed: list[AlertData] = []
    for i, item in enumerate(items):
        path = f"{prefix}[{i}]." if prefix else ""
        if not isinstance(item, dict):
            _fail(path.rstrip(".") or "body", _("must be an object"))
        title = _text(item, "title", f"{path}title", required=True, max_length=300)
        status = item.get("status", AlertStatus.FIRING)
        if status not in (AlertStatus.FIRING, AlertStatus.RESOLVED):
            _fail(f"{path}status", _("must be \"firing\" or \"resolved\""))
        dedup_key = _text(item, "dedup_key", f"{path}dedup_key", max_length=255) or title
        group_key = _text(item, "group_key", f"{path}group_key", max_length=500) or dedup_key
        level = item.get("level")
        if level is not None and level not in LEVEL_KEYS:
            _fail(f"{path}level", _("must be one of %(keys)s") % {"keys": ", ".join(LEVEL_KEYS)})
        category = item.get("category")
        if category is not None and category not in categories:
            _fail(f"{path}category", _("must be one of %(keys)s") % {"keys": ", ".join(categories)})
        labels = _strings(_object(item, "labels", f"{path}labels"))
        source = _text(item, "source", f"{path}source", max_length=255)
        if source:
            labels.setdefault("source", source)
        description = _text(item, "description", f"{path}description", max_length=10000)
        starts_at = _time(item.get("starts_at"), f"{path}starts_at")
        parsed.append(AlertData(
            group_key=group_key, fingerprint=dedup_key,
            delivery_key=(_digest("gen", _canonical(item)) if starts_at
                          else _digest("gen", _canonical(item), _window(now))),
            status=status, starts_at=starts_at or now, summary=title,
            category_key=category or integration.default_category, level_key=level or integration.default_level,
            labels=labels, annotations={"description": description} if description else {}, description=description,
        ))
    return parsed
