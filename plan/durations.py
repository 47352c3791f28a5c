"""Plan durations: ``<number><unit>`` with unit s, m, h or d."""

import re
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: Any) -> timedelta:
    """Return a timedelta, or raise ValueError with a message a plan author can act on."""
    if not isinstance(text, str):
        raise ValueError(f"must be a duration such as 30m or 2h, not {text!r}")
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration: write <number><unit> with unit s, m, h or d (e.g. 30m, 2h)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def format_duration(delta: timedelta) -> str:
    """The canonical spelling: the largest unit that divides exactly (7200 s → 2h)."""
    seconds = int(delta.total_seconds())
    for unit, size in _UNITS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")
