"""The SDK app's in-process registry of runs: event logs for ``/stream``, cancel flags for ``/cancel``.

A tool process only remembers recent runs, briefly: the host's run store is the record.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from pixie_sdk.context import RunContext
from pixie_sdk.stream import HEARTBEAT, StreamEvent, apply_value, encode_sse
from pixie_sdk.types import JSON, JSONObject

__all__ = ["FINISHED_RUN_TTL_SECONDS", "HEARTBEAT_SECONDS", "LiveRun", "RunRegistry"]

#: How long a finished run's events stay replayable: a relay that opens /stream late still gets them.
FINISHED_RUN_TTL_SECONDS = 300.0
#: Finished runs kept at most, whatever their age, so a busy tool's memory stays flat.
MAX_FINISHED_RUNS = 256
#: Seconds between SSE heartbeat comments on a quiet stream (well under common proxy idle timeouts).
HEARTBEAT_SECONDS = 10.0


class LiveRun:
    """One run: its context, its events so far, and its output state."""

    def __init__(
        self,
        run_id: str,
        types: dict[str, str],
        loop: asyncio.AbstractEventLoop,
        on_finish: Callable[[LiveRun], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self._on_finish = on_finish
        self.types = types
        self.events: list[StreamEvent] = []
        self.state: JSONObject = {}
        self.finished_at: float | None = None
        self.task: asyncio.Task[object] | None = None
        self.ctx: RunContext | None = None
        self._loop = loop
        self._changed = asyncio.Event()

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    def publish(self, output_key: str, value: JSON) -> None:
        """Record an event; safe from any thread."""
        if self._loop.is_running() and not _on_loop(self._loop):
            self._loop.call_soon_threadsafe(self._push, output_key, value)
        else:
            self._push(output_key, value)

    def _push(self, output_key: str, value: JSON) -> None:
        if self.done:
            return
        self.state[output_key] = apply_value(self.types[output_key], self.state.get(output_key), value)
        self.events.append(StreamEvent(output_key=output_key, value=value))
        self._changed.set()

    def finish(self, final: StreamEvent) -> None:
        """Record the terminal event; later events are ignored."""
        if self.done:
            return
        self.events.append(final)
        self.finished_at = time.monotonic()
        self.task = None  # the task refers back to this run through its coroutine: no cycle left behind
        self._changed.set()
        if self._on_finish is not None:
            self._on_finish(self)

    async def sse(self) -> AsyncIterator[bytes]:
        """Every event from the first, then new ones as they come, heartbeats between; ends after ``done``."""
        sent = 0
        while True:
            while sent < len(self.events):
                event = self.events[sent]
                sent += 1
                yield encode_sse(event)
                if event.done:
                    return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield HEARTBEAT


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class RunRegistry:
    """Runs by id: live ones, and finished ones until they expire (O(1) per run on the hot path)."""

    def __init__(self) -> None:
        self._runs: dict[str, LiveRun] = {}
        self._finished: deque[LiveRun] = deque()

    def get(self, run_id: str) -> LiveRun | None:
        return self._runs.get(run_id)

    def live(self) -> list[LiveRun]:
        """Runs not finished yet."""
        return [r for r in self._runs.values() if not r.done]

    def add(self, run: LiveRun) -> None:
        self._expire()
        self._runs[run.run_id] = run

    def finished(self, run: LiveRun) -> None:
        """Called by a run as it finishes: it joins the queue of finished runs, oldest first."""
        self._finished.append(run)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._finished:
            oldest = self._finished[0]
            assert oldest.finished_at is not None
            if len(self._finished) <= MAX_FINISHED_RUNS and now - oldest.finished_at <= FINISHED_RUN_TTL_SECONDS:
                break
            self._finished.popleft()
            if self._runs.get(oldest.run_id) is oldest:  # a run id reused later keeps its newer run
                del self._runs[oldest.run_id]
