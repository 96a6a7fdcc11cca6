"""The supervisor: one process per tool, started on demand, reused, limited, stopped when idle.

It owns process life only: states (cold, starting, ready, busy, stopping, crashed), the spawn
shared by concurrent first runs, the FIFO gate of a ``concurrent: false`` tool, crash back-off,
the memory watch, idle stop and the warm cap. Everything about a run (its status, inputs,
outputs, timings) lives in the run store, written by the run path.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pixie_host.catalog import Catalog, ToolEntry
from pixie_host.errors import QueueFull, ToolUnavailable
from pixie_host.lifecycle import EventBus
from pixie_host.runner import CANCEL_KILL_GRACE_SECONDS, LocalProcessRunner, ToolRunner
from pixie_host.watchdog import Watchdog
from pixie_sdk.types import JSONObject
from pixie_validate.errors import ToolStartError
from pixie_validate.launcher import DEFAULT_READY_DEADLINE_SECONDS, STOP_GRACE_SECONDS, LaunchSpec, launch_spec

__all__ = [
    "CRASH_LOOP_THRESHOLD",
    "DEFAULT_QUEUE_LIMIT",
    "DEFAULT_WARM_CAP",
    "RunnerFactory",
    "Supervisor",
    "ToolSlot",
    "ToolState",
]

#: Tools kept running at once before the least recently used idle one is stopped.
DEFAULT_WARM_CAP = 5
#: Runs waiting for a ``concurrent: false`` tool; more is a client flooding it, answered 429.
DEFAULT_QUEUE_LIMIT = 64
#: Consecutive crashes before respawns wait: one crash is a bug in a run, three is a loop.
CRASH_LOOP_THRESHOLD = 3
#: First wait after the threshold, doubled per further crash up to the cap.
CRASH_BACKOFF_SECONDS = 1.0
CRASH_BACKOFF_CAP_SECONDS = 30.0
#: How often resident memory is sampled: a tool allocating fast can overshoot by what it
#: allocates in this time, and a sample of a few processes costs well under a millisecond.
MEMORY_SAMPLE_SECONDS = 0.2
#: Characters of process output kept in a crash reason or a run's error.
TAIL_CHARS = 4000
#: ``uv sync`` of a tool's project downloads packages: give it minutes, not the start-up deadline.
SYNC_TIMEOUT_SECONDS = 600.0
MIB = 1024 * 1024

_log = logging.getLogger("pixie.host.supervisor")

#: Makes a runner: the launch recipe, the log file, the exit callback, the log line filter (secret masking).
RunnerFactory = Callable[[LaunchSpec, Path | None, Callable[[int | None], None], Callable[[str], str]], ToolRunner]


def _local_runner(
    spec: LaunchSpec, log_file: Path | None, on_exit: Callable[[int | None], None], log_filter: Callable[[str], str]
) -> ToolRunner:
    return LocalProcessRunner(spec, log_file=log_file, on_exit=on_exit, log_filter=log_filter)


class ToolState(enum.StrEnum):
    COLD = "cold"
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    STOPPING = "stopping"
    CRASHED = "crashed"


@dataclass(eq=False)
class ToolSlot:
    """A tool's process as the supervisor sees it (process facts only, no run state)."""

    entry: ToolEntry
    state: ToolState = ToolState.COLD
    reason: str | None = None
    runner: ToolRunner | None = None
    spawn: asyncio.Future[ToolRunner] | None = None
    inflight: set[str] = field(default_factory=set)
    active_serial: str | None = None
    queue: collections.deque[tuple[str, asyncio.Future[None]]] = field(default_factory=collections.deque)
    last_used: float = 0.0
    idle_timer: asyncio.TimerHandle | None = None
    crashes: int = 0
    retry_at: float = 0.0
    kill_reason: str | None = None
    """Why the host itself ended the current process (timeout, oom, cancel, idle...), None while it runs."""
    ended_abnormally: str | None = None
    ready_ms: float | None = None
    spawned_at: float | None = None
    synced: bool = False
    stderr_tail: str = ""

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def pinned(self) -> bool:
        return self.entry.manifest is not None and self.entry.manifest.pinned_warm

    @property
    def alive(self) -> bool:
        return self.runner is not None and self.runner.alive

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next run to start, or None when the run is not waiting."""
        for n, (rid, _fut) in enumerate(self.queue, start=1):
            if rid == run_id:
                return n
        return None

    def output_tail(self) -> str:
        text = self.runner.output_tail(TAIL_CHARS) if self.runner is not None else self.stderr_tail
        return self.entry.secrets().mask(text)

    def snapshot(self) -> JSONObject:
        crash_loop = self.crashes >= CRASH_LOOP_THRESHOLD
        return {
            "state": self.state.value,
            "reason": self.reason,
            "pid": self.runner.pid if self.alive and self.runner is not None else None,
            "in_flight": len(self.inflight),
            "queued": len(self.queue),
            "crashes": self.crashes,
            "crash_loop": crash_loop,
            "retry_in_seconds": round(max(0.0, self.retry_at - time.monotonic()), 1) if crash_loop else None,
            "ready_ms": None if self.ready_ms is None else round(self.ready_ms, 1),
            "pinned_warm": self.pinned,
        }


class Supervisor:
    """Processes for every tool of a catalog."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        data_dir: Path,
        events: EventBus,
        python: str | None = None,
        sync: bool = False,
        warm_cap: int = DEFAULT_WARM_CAP,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        runner_factory: RunnerFactory = _local_runner,
    ) -> None:
        self.catalog = catalog
        self.data_dir = data_dir
        self.events = events
        self.python = python
        self.sync = sync
        self.warm_cap = warm_cap
        self.queue_limit = queue_limit
        self._factory = runner_factory
        self._slots = {entry.id: ToolSlot(entry) for entry in catalog}
        self._watchdog = Watchdog()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._memory_task: asyncio.Task[None] | None = None
        self._closing = False
        self.logs_dir = data_dir / "logs"
        self.artefacts_root = data_dir / "artefacts"

    # --- lookup -----------------------------------------------------------------------------------------------

    def slot(self, tool_id: str) -> ToolSlot | None:
        return self._slots.get(tool_id)

    def add(self, entry: ToolEntry) -> ToolSlot:
        slot = self._slots.get(entry.id)
        if slot is None:
            slot = self._slots[entry.id] = ToolSlot(entry)
        return slot

    async def remove(self, tool_id: str) -> ToolSlot | None:
        """Stop supervising a tool whose folder is no longer served: its process is stopped, and a run that
        still holds the slot cannot start another one (the slot's entry becomes one that will not load)."""
        slot = self._slots.pop(tool_id, None)
        if slot is None:
            return None
        old = slot.entry
        slot.entry = ToolEntry(id=old.id, folder=old.folder, manifest=None, error="it is no longer served by this host")
        if slot.idle_timer is not None:
            slot.idle_timer.cancel()
            slot.idle_timer = None
        if slot.spawn is not None and not slot.spawn.done():
            # A start already past its checks would bring a process up after the stop below: let it finish first.
            await asyncio.wait({slot.spawn})
        await self.stop(slot, "removed")
        return slot

    @property
    def slots(self) -> list[ToolSlot]:
        return list(self._slots.values())

    @property
    def closing(self) -> bool:
        return self._closing

    def log_file(self, tool_id: str) -> Path:
        return self.logs_dir / f"{tool_id}.log"

    # --- start-up and shutdown --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Begin supervising: the memory watch, and ``pinned_warm`` tools started right away."""
        self._loop = asyncio.get_running_loop()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.artefacts_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._memory_task = asyncio.create_task(self._watch_memory(), name="pixie-memory-watch")
        for slot in self.slots:
            if slot.pinned and slot.entry.manifest is not None:
                task = asyncio.create_task(self._prewarm(slot))
                task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _prewarm(self, slot: ToolSlot) -> None:
        with contextlib.suppress(ToolUnavailable):
            await self.ensure_ready(slot)

    async def shutdown(self) -> None:
        """Stop every tool (SIGTERM, the grace, SIGKILL to the group) and the watchdog."""
        self._closing = True
        if self._memory_task is not None:
            self._memory_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._memory_task
        for slot in self.slots:
            if slot.idle_timer is not None:
                slot.idle_timer.cancel()
            for _rid, fut in slot.queue:
                fut.cancel()
        await asyncio.gather(*(self.stop(s, "shutdown") for s in self.slots if s.alive), return_exceptions=True)
        self._watchdog.close()

    # --- the concurrency gate ---------------------------------------------------------------------------------

    def check_queue(self, slot: ToolSlot) -> None:
        """Refuse a run up front when the tool's queue is full.

        Raises:
            QueueFull: a ``concurrent: false`` tool has ``queue_limit`` runs waiting already.
        """
        manifest = slot.entry.manifest
        if manifest is None or manifest.concurrent or slot.active_serial is None:
            return
        if len(slot.queue) >= self.queue_limit:
            raise QueueFull(
                f"{slot.id} runs one at a time and {len(slot.queue)} runs are already waiting; "
                "try again when some have finished",
                queued=len(slot.queue),
            )

    async def acquire(self, slot: ToolSlot, run_id: str) -> None:
        """Wait for the run's turn: at once for a concurrent tool, FIFO for ``concurrent: false``."""
        manifest = slot.entry.manifest
        if manifest is None or manifest.concurrent:
            return
        if slot.active_serial is None and not slot.queue:
            slot.active_serial = run_id
            return
        assert self._loop is not None
        turn: asyncio.Future[None] = self._loop.create_future()
        slot.queue.append((run_id, turn))
        try:
            await turn
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):
                slot.queue.remove((run_id, turn))
            if turn.done() and not turn.cancelled():
                self.release(slot, run_id)  # the turn came as we were cancelled: pass it on
            raise
        slot.active_serial = run_id

    def release(self, slot: ToolSlot, run_id: str) -> None:
        if slot.active_serial != run_id:
            return
        slot.active_serial = None
        while slot.queue:
            _rid, turn = slot.queue.popleft()
            if not turn.done():
                slot.active_serial = _rid
                turn.set_result(None)
                return

    # --- process life -----------------------------------------------------------------------------------------

    async def ensure_ready(self, slot: ToolSlot) -> ToolRunner:
        """The tool's running process, started (once, however many runs ask at the same time) if need be.

        Raises:
            ToolUnavailable: it cannot start, or it is waiting out a crash loop's back-off.
        """
        runner = slot.runner
        # The state, not a waitpid per run: an exit moves the slot out of ready/busy (and a process
        # that dies between this check and the call fails that call, as it would a moment later).
        if runner is not None and slot.state in (ToolState.READY, ToolState.BUSY):
            return runner
        if slot.spawn is None or slot.spawn.done():
            slot.spawn = asyncio.ensure_future(self._spawn(slot))
        return await asyncio.shield(slot.spawn)

    async def _spawn(self, slot: ToolSlot) -> ToolRunner:
        entry = slot.entry
        if entry.manifest is None:
            raise ToolUnavailable(f"{entry.id} cannot start: {entry.error}")
        now = time.monotonic()
        if slot.crashes >= CRASH_LOOP_THRESHOLD and now < slot.retry_at:
            raise ToolUnavailable(
                f"{entry.id} crashed {slot.crashes} times in a row; the host waits {slot.retry_at - now:.1f} s "
                f"before starting it again. Last reason: {slot.reason}. See its log with `pixie logs {entry.id}`",
                retry_in_seconds=round(slot.retry_at - now, 1),
                stderr_tail=slot.output_tail(),
            )
        if slot.runner is not None:
            old, slot.runner = slot.runner, None
            slot.stderr_tail = old.output_tail(TAIL_CHARS)
            with contextlib.suppress(Exception):
                await old.stop(0)
        await self._make_room(slot)
        if self.sync and not slot.synced:
            await self._uv_sync(slot)
        spec = launch_spec(entry.folder, entry.manifest, python=self.python, artefacts_root=self.artefacts_root)
        holder: list[ToolRunner] = []
        secrets = entry.secrets()
        runner = self._factory(
            spec, self.log_file(entry.id), lambda code: self._exited_threadsafe(slot, holder, code), secrets.mask
        )
        holder.append(runner)
        slot.runner, slot.state, slot.reason, slot.kill_reason = runner, ToolState.STARTING, None, None
        slot.spawned_at = time.monotonic()
        try:
            await runner.start()
        except ToolStartError as exc:
            self._start_failed(slot, str(exc))
            raise ToolUnavailable(f"{entry.id} cannot start: {exc}") from None
        if runner.pid is not None:
            self._watchdog.watch(runner.pid)
        self.events.emit("spawned", entry.id, pid=runner.pid, argv=spec.argv)
        if slot.ended_abnormally:
            self.events.emit("restarted", entry.id, pid=runner.pid, after=slot.ended_abnormally)
        deadline = float(entry.manifest.validator_timeout_override or DEFAULT_READY_DEADLINE_SECONDS)
        try:
            slot.ready_ms = await runner.wait_ready(deadline)
        except ToolStartError as exc:
            tail = entry.secrets().mask(exc.output[-TAIL_CHARS:])
            with contextlib.suppress(Exception):
                await runner.stop(0)
            self._start_failed(slot, str(exc))
            raise ToolUnavailable(f"{entry.id} did not start: {exc}", stderr_tail=tail) from None
        if slot.runner is not runner or not runner.alive:
            raise ToolUnavailable(f"{entry.id} stopped while starting: {slot.reason or 'no reason given'}")
        slot.state = ToolState.BUSY if slot.inflight else ToolState.READY
        slot.ended_abnormally = None
        slot.last_used = time.monotonic()
        self.events.emit("ready", entry.id, pid=runner.pid, ready_ms=round(slot.ready_ms, 2))
        return runner

    def _start_failed(self, slot: ToolSlot, reason: str) -> None:
        slot.state, slot.reason = ToolState.CRASHED, reason
        self._count_crash(slot)
        self.events.emit("crashed", slot.id, reason=reason, crashes=slot.crashes)

    def _count_crash(self, slot: ToolSlot) -> None:
        slot.crashes += 1
        slot.ended_abnormally = "crash"
        over = slot.crashes - CRASH_LOOP_THRESHOLD
        delay = 0.0 if over < 0 else min(CRASH_BACKOFF_SECONDS * 2**over, CRASH_BACKOFF_CAP_SECONDS)
        slot.retry_at = time.monotonic() + delay

    async def _uv_sync(self, slot: ToolSlot) -> None:
        uv = _find_uv()
        if uv is None:
            raise ToolUnavailable("--sync needs uv: install it with `pip install uv`")
        # The host's interpreter unless --python says otherwise: uv must not go looking for (or download) another.
        python = self.python or sys.executable
        proc = await asyncio.create_subprocess_exec(
            uv, "sync", "--python", python, cwd=slot.entry.folder,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), SYNC_TIMEOUT_SECONDS)
        except TimeoutError:
            proc.kill()
            raise ToolUnavailable(f"`uv sync` in {slot.entry.folder} took over {SYNC_TIMEOUT_SECONDS:g} s") from None
        if proc.returncode != 0:
            text = out.decode(errors="replace")[-TAIL_CHARS:]
            raise ToolUnavailable(f"`uv sync` in {slot.entry.folder} failed (status {proc.returncode})", output=text)
        slot.synced = True

    async def _make_room(self, slot: ToolSlot) -> None:
        warm = [s for s in self.slots if s is not slot and s.alive]
        if len(warm) < self.warm_cap:
            return
        idle = [s for s in warm if not s.inflight and not s.pinned and s.state == ToolState.READY]
        if not idle:
            _log.info("warm cap %d exceeded: every running tool is busy or pinned", self.warm_cap)
            return
        victim = min(idle, key=lambda s: s.last_used)
        await self.stop(victim, "evicted")

    def _exited_threadsafe(self, slot: ToolSlot, holder: list[ToolRunner], code: int | None) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._exited, slot, holder[0] if holder else None, code)

    def _exited(self, slot: ToolSlot, runner: ToolRunner | None, code: int | None) -> None:
        if runner is None or slot.runner is not runner:
            return  # an older process of this tool
        if runner.pid is not None:
            self._watchdog.forget(runner.pid)
        if slot.kill_reason is not None or slot.state == ToolState.STOPPING or self._closing:
            return
        if slot.state == ToolState.STARTING:
            return  # wait_ready reports it, with the output
        slot.state = ToolState.CRASHED
        slot.reason = f"the process exited with status {code}"
        self._count_crash(slot)
        self.events.emit("crashed", slot.id, returncode=code, crashes=slot.crashes, stderr_tail=slot.output_tail())

    def kill(self, slot: ToolSlot, reason: str, detail: str | None = None) -> None:
        """End the tool's process now (SIGKILL to its group): a run crossed a limit. Runs on it fail."""
        runner = slot.runner
        if runner is None or not runner.alive:
            return
        slot.kill_reason = reason
        slot.ended_abnormally = reason
        slot.state, slot.reason = ToolState.COLD, detail or f"killed: {reason}"
        runner.kill()
        self.events.emit("stopped", slot.id, reason=reason, pid=runner.pid)
        asyncio.ensure_future(self._reap(slot, runner, 0))

    async def terminate(self, slot: ToolSlot, reason: str) -> None:
        """SIGTERM, a short grace, SIGKILL: for a run that ignored /cancel."""
        runner = slot.runner
        if runner is None or not runner.alive:
            return
        slot.kill_reason = reason
        slot.ended_abnormally = reason
        slot.state, slot.reason = ToolState.STOPPING, f"stopping: {reason}"
        await self._reap(slot, runner, CANCEL_KILL_GRACE_SECONDS)
        if slot.runner is runner:
            slot.state, slot.reason = ToolState.COLD, f"stopped: {reason}"
        self.events.emit("stopped", slot.id, reason=reason)

    async def _reap(self, slot: ToolSlot, runner: ToolRunner, grace: float) -> None:
        pid = runner.pid
        with contextlib.suppress(Exception):
            await runner.stop(grace)
        if pid is not None:
            self._watchdog.forget(pid)

    async def stop(self, slot: ToolSlot, reason: str, grace: float = STOP_GRACE_SECONDS) -> None:
        """A clean stop: SIGTERM, ``grace`` seconds, SIGKILL to the group."""
        runner = slot.runner
        if runner is None or not runner.alive:
            return
        if slot.idle_timer is not None:
            slot.idle_timer.cancel()
            slot.idle_timer = None
        slot.kill_reason = reason
        slot.state, slot.reason = ToolState.STOPPING, reason
        await self._reap(slot, runner, grace)
        if slot.runner is runner:
            slot.state, slot.reason = ToolState.COLD, f"stopped: {reason}"
        self.events.emit("stopped", slot.id, reason=reason)

    # --- runs on a process ------------------------------------------------------------------------------------

    def run_started(self, slot: ToolSlot, run_id: str) -> None:
        slot.inflight.add(run_id)
        if slot.idle_timer is not None:
            slot.idle_timer.cancel()
            slot.idle_timer = None
        if slot.state == ToolState.READY:
            slot.state = ToolState.BUSY
        slot.last_used = time.monotonic()

    def run_finished(self, slot: ToolSlot, run_id: str, *, healthy: bool) -> None:
        slot.inflight.discard(run_id)
        slot.last_used = time.monotonic()
        if healthy:
            slot.crashes = 0
        if slot.inflight:
            return
        if slot.state == ToolState.BUSY:
            slot.state = ToolState.READY
        manifest = slot.entry.manifest
        # The state, not a waitpid: an exit has already moved the slot out of ready.
        if manifest is None or slot.pinned or slot.state is not ToolState.READY or self._closing:
            return
        assert self._loop is not None
        slot.idle_timer = self._loop.call_later(manifest.warm_keep_seconds, self._idle, slot)

    def _idle(self, slot: ToolSlot) -> None:
        slot.idle_timer = None
        if not slot.inflight and not slot.queue and slot.alive and not self._closing:
            asyncio.ensure_future(self.stop(slot, "idle"))

    # --- memory -----------------------------------------------------------------------------------------------

    async def _watch_memory(self) -> None:
        while True:
            await asyncio.sleep(MEMORY_SAMPLE_SECONDS)
            watched = [
                (s, s.runner)
                for s in self.slots
                if s.runner is not None and s.runner.alive and s.entry.manifest and s.entry.manifest.max_memory_mb > 0
            ]
            if not watched:
                continue
            # On the loop, not in a thread: a few small /proc reads per tool, where a thread would
            # take the GIL from the loop at every one of them.
            sizes = [runner.rss_bytes() for _slot, runner in watched]
            for (slot, runner), rss in zip(watched, sizes, strict=True):
                assert slot.entry.manifest is not None
                limit = slot.entry.manifest.max_memory_mb
                if rss is not None and rss > limit * MIB and slot.runner is runner:
                    _log.warning("%s uses %.0f MiB, over its max_memory_mb %d: killed", slot.id, rss / MIB, limit)
                    self.kill(slot, "oom", f"killed: resident memory {rss / MIB:.0f} MiB over max_memory_mb {limit}")


def _find_uv() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        return shutil.which("uv")
