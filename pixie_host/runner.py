"""Where a tool process runs, behind one small interface: start, wait until ready, call, cancel, stop.

The supervisor only ever talks to a ``ToolRunner``. ``LocalProcessRunner`` is a subprocess on
this machine (the validator's launcher recipe); a runner that places the tool on a
distributed engine (a Ray Serve deployment, say) implements the same methods and nothing
above it changes: the run path, the limits and the run store stay where they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Protocol

import psutil

from pixie_host.toolclient import ToolConnection, ToolReply
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import RunRequest
from pixie_sdk.stream import StreamEvent
from pixie_sdk.types import JSON
from pixie_validate.launcher import LaunchSpec, StopResult, ToolProcess

__all__ = ["CANCEL_KILL_GRACE_SECONDS", "LocalProcessRunner", "ToolRunner"]

#: After a run ignored /cancel for the whole cancel grace, SIGTERM gets only this long before
#: SIGKILL: the process already had its chance to stop the work, and a stuck handler would hold
#: a graceful drain open for its full length.
CANCEL_KILL_GRACE_SECONDS = 0.3
#: Poll interval while waiting for a dying process to be gone.
SETTLE_POLL_SECONDS = 0.01
#: How often the list of a tool's child processes is refreshed for the memory watch.
CHILDREN_REFRESH_SECONDS = 1.0
#: Output silent this long counts as finished (a traceback is written in one burst).
QUIET_OUTPUT_SECONDS = 0.05


class ToolRunner(Protocol):
    """One tool's process, wherever it runs."""

    @property
    def alive(self) -> bool: ...

    @property
    def pid(self) -> int | None: ...

    def output_tail(self, limit: int | None = None) -> str:
        """The last of what the process wrote (stdout and stderr), unmasked."""
        ...

    async def start(self) -> None: ...

    async def wait_ready(self, deadline_seconds: float) -> float:
        """Wait for ``/healthz``; milliseconds since start. Raises ``ToolStartError``."""
        ...

    async def call(self, request: RunRequest) -> ToolReply: ...

    def events(self, run_id: str, manifest: ToolManifest) -> AsyncIterator[StreamEvent]: ...

    async def cancel(self, run_id: str) -> bool: ...

    async def suggest(self, endpoint: str, query: str) -> list[dict[str, JSON]]:
        """Autocomplete suggestions from the tool (``provides_autocomplete``)."""
        ...

    async def stop(self, grace_seconds: float) -> StopResult: ...

    async def settle(self, timeout: float) -> None:
        """After a dropped connection: wait up to ``timeout`` for a dying process to exit and its output to be read."""
        ...

    async def quiet_output(self, timeout: float) -> None:
        """After a 5xx: wait up to ``timeout`` for the traceback a server logs after replying to be written."""
        ...

    def kill(self) -> None:
        """Stop the process now, without grace (a limit was crossed)."""
        ...

    def rss_bytes(self) -> int | None:
        """Resident memory of the whole process tree, or None when it is not running here."""
        ...


class LocalProcessRunner:
    """A tool as a subprocess of the host: ``ToolProcess`` for the process, ``ToolConnection`` for HTTP."""

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        log_file: Path | None = None,
        on_exit: Callable[[int | None], None] | None = None,
        log_filter: Callable[[str], str] | None = None,
    ) -> None:
        self.spec = spec
        self.process = ToolProcess(spec, log_file=log_file, on_exit=on_exit, log_filter=log_filter)
        self.connection = ToolConnection(spec.url, alive=lambda: self.process.alive)
        self._ps: psutil.Process | None = None
        self._children: list[psutil.Process] = []
        self._children_at = 0.0

    @property
    def alive(self) -> bool:
        return self.process.alive

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def output_tail(self, limit: int | None = None) -> str:
        return self.process.output.text(limit)

    async def start(self) -> None:
        self.process.start()

    async def wait_ready(self, deadline_seconds: float) -> float:
        return await self.process.wait_ready_async(deadline_seconds)

    async def call(self, request: RunRequest) -> ToolReply:
        return await self.connection.run(request)

    def events(self, run_id: str, manifest: ToolManifest) -> AsyncIterator[StreamEvent]:
        return self.connection.events(run_id, manifest)

    async def cancel(self, run_id: str) -> bool:
        return await self.connection.cancel(run_id)

    async def suggest(self, endpoint: str, query: str) -> list[dict[str, JSON]]:
        return await self.connection.suggest(endpoint, query)

    async def stop(self, grace_seconds: float) -> StopResult:
        await self.connection.close()
        return await asyncio.to_thread(self.process.stop, grace_seconds)

    async def settle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.process.alive and time.monotonic() < deadline:
            await asyncio.sleep(SETTLE_POLL_SECONDS)
        if not self.process.alive:
            await asyncio.to_thread(self.process.join_output, max(0.0, deadline - time.monotonic()))

    async def quiet_output(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        seen, quiet_since = self.process.output.total, time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(SETTLE_POLL_SECONDS)
            now = self.process.output.total
            if now != seen:
                seen, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_OUTPUT_SECONDS and seen:
                return

    def kill(self) -> None:
        self.process.kill()

    def rss_bytes(self) -> int | None:
        pid = self.process.pid
        if pid is None or not self.process.alive:
            return None
        try:
            if self._ps is None or self._ps.pid != pid:
                self._ps = psutil.Process(pid)
                self._children_at = 0.0
            now = time.monotonic()
            if now - self._children_at > CHILDREN_REFRESH_SECONDS:
                self._children = _descendants(self._ps)
                self._children_at = now
            total = self._ps.memory_info().rss
            for child in self._children:
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            return int(total)
        except psutil.Error:
            return None


def _child_pids(pid: int) -> list[int] | None:
    """Direct children from ``/proc/<pid>/task/*/children``; None where the kernel has no such files."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    pids: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                pids += map(int, f.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{task}"):
                continue  # the thread ended meanwhile
            return None
        except OSError:
            continue
    return pids


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    """The process's children, grandchildren...

    Read from each process's own ``children`` files where the kernel has them (a few small reads,
    cheap enough for the event loop); psutil's walk of all of /proc (milliseconds) otherwise.
    """
    found: list[psutil.Process] = []
    todo = [process.pid]
    while todo:
        pids = _child_pids(todo.pop())
        if pids is None:
            return process.children(recursive=True)
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                found.append(psutil.Process(pid))
                todo.append(pid)
    return found
