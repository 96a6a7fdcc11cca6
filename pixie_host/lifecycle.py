"""Lifecycle events (contract §8): spawned, ready, run_started, run_finished, crashed, restarted, stopped.

The supervisor and the run path publish; ``pixie serve --json`` prints each as one NDJSON line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from pixie_sdk.types import JSONObject

__all__ = ["EventBus", "EventName"]

EventName = Literal["spawned", "ready", "run_started", "run_finished", "crashed", "restarted", "stopped"]
_log = logging.getLogger("pixie.host")


class EventBus:
    """Fan-out of lifecycle events to subscribers (a subscriber that raises is logged and kept)."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[JSONObject], None]] = []

    def subscribe(self, fn: Callable[[JSONObject], None]) -> None:
        self._subscribers.append(fn)

    def emit(self, event: EventName, tool: str, **fields: Any) -> None:
        if not self._subscribers:
            return
        record: JSONObject = {"event": event, "tool": tool, "ts": time.time(), **fields}
        for fn in self._subscribers:
            try:
                fn(record)
            except Exception:
                _log.exception("lifecycle subscriber failed on %s", event)
