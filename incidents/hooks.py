"""What the apps above the incident workflow do when an incident reaches a level, resolves or is archived.

The incidents layer may not import the apps of the plan's before and after
(reviews, outside parties, drills...), yet they act on its changes: a review is
drafted at resolution, the People's Bank's reporting clock starts at orange.
Each registers a function here in its ``AppConfig.ready()``; the services call
them inside the transaction that made the change, after its timeline rows, so
the hook's rows commit with the change or not at all. A hook that raises aborts
the change: hooks write their own rows and deadlines, nothing slow.

Events and their arguments:

- ``level_started``: ``fn(incidents: list[Incident], *, at)``: opened, escalated or lowered; each
  incident's ``level`` is the one reached.
- ``resolved``: ``fn(incident, *, at, actor)``.
- ``archived``: ``fn(incident, *, at, actor)``.
"""

from collections.abc import Callable
from typing import Any

EVENTS = ("level_started", "resolved", "archived")

_hooks: dict[str, list[Callable[..., Any]]] = {event: [] for event in EVENTS}


def on(event: str, fn: Callable[..., Any]) -> None:
    """Call ``fn`` at ``event`` (one of ``EVENTS``); registering the same function twice calls it once."""
    if event not in _hooks:
        raise ValueError(f"unknown incident event {event!r} (one of {', '.join(EVENTS)})")
    if fn not in _hooks[event]:
        _hooks[event].append(fn)


def run(event: str, *args: Any, **kwargs: Any) -> None:
    for fn in _hooks[event]:
        fn(*args, **kwargs)
