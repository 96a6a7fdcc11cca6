"""The one run path: every way into a run (JSON API, UI, services, MCP) calls ``RunService``.

A run is checked (tool loadable, secrets present, inputs valid), recorded as ``queued``, waits
its turn, gets a ready process from the supervisor, is sent the canonical body with a fresh
0700 artefacts folder, is bounded by ``max_runtime_seconds + 5``, and is recorded once more
when it ends, whatever way it ends. Store writes go to the store's writer thread and never
hold the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pixie_host.artefacts import ArtefactFolders
from pixie_host.catalog import Catalog, Secrets, ToolEntry
from pixie_host.errors import (
    InvalidInputs,
    InvalidRequest,
    RunNotActive,
    SecretMissing,
    ToolInvalid,
    ToolNotFound,
    ToolUnavailable as ToolUnavailableError,
)
from pixie_host.lifecycle import EventBus
from pixie_host.runner import ToolRunner
from pixie_host.store import RunRecord, RunStore
from pixie_host.supervisor import Supervisor, ToolSlot
from pixie_host.toolclient import StreamUnavailable, ToolReply, ToolUnreachable
from pixie_sdk.runbody import RunRequest, build_run_request, new_run_id
from pixie_sdk.shapes import normalise_output
from pixie_sdk.stream import apply_event
from pixie_sdk.types import JSON, JSONObject

__all__ = [
    "CANCEL_GRACE_SECONDS",
    "RUN_DEADLINE_SLACK_SECONDS",
    "LiveRun",
    "RunService",
]

#: The contract's wall clock over max_runtime_seconds before the process group is killed.
RUN_DEADLINE_SLACK_SECONDS = 5.0
#: After /cancel, how long a run has to end on its own before its process is stopped (contract §4.6).
CANCEL_GRACE_SECONDS = 2.0
#: Stream events kept per run for replay; a longer stream keeps relaying, and its final state is stored.
MAX_KEPT_EVENTS = 5000
#: A subscriber this far behind a live stream is dropped rather than holding memory without bound.
SUBSCRIBER_BACKLOG = 10000
#: A dropped connection usually means the process is dying: wait this long for its exit and last words.
EXIT_SETTLE_SECONDS = 0.5
#: After a 5xx reply, how long to wait for the traceback the tool logs after replying.
ERROR_OUTPUT_WAIT_SECONDS = 0.3
#: Prune a tool's history at most every this many runs (but at least every retain_runs / 4).
PRUNE_BATCH = 8


@dataclass(eq=False)
class LiveRun:
    """A run in progress: the handle to stop it and the fan-out of its events (gone when it ends)."""

    id: str
    tool_id: str
    slot: ToolSlot
    task: asyncio.Task[JSONObject] | None = None
    cancel_requested: bool = False
    events: list[JSONObject] = field(default_factory=list)
    subscribers: set[asyncio.Queue[JSONObject | None]] = field(default_factory=set)
    final: JSONObject | None = None

    def publish(self, event: JSONObject) -> None:
        if len(self.events) < MAX_KEPT_EVENTS:
            self.events.append(event)
        for queue in list(self.subscribers):
            if queue.qsize() > SUBSCRIBER_BACKLOG:
                self.subscribers.discard(queue)
                queue.put_nowait(None)
            else:
                queue.put_nowait(event)


@dataclass(slots=True)
class _Outcome:
    status: str
    outputs: JSONObject | None = None
    error: JSONObject | None = None
    healthy: bool = True
    """False when the process misbehaved (crash, limit): the crash counter is not reset."""


def _err(code: str, detail: JSON, status_code: int | None = None, **extra: JSON) -> JSONObject:
    """A run's ``error`` object: the envelope's code and detail, the tool's HTTP status, extras (stderr tail)."""
    return {"code": code, "detail": detail, "status_code": status_code, **extra}


class RunService:
    """Starts, tracks and records runs."""

    def __init__(
        self, catalog: Catalog, supervisor: Supervisor, store: RunStore, events: EventBus, folders: ArtefactFolders
    ) -> None:
        self.catalog = catalog
        self.supervisor = supervisor
        self.store = store
        self.events = events
        self.folders = folders
        self._live: dict[str, LiveRun] = {}
        self._since_prune: dict[str, int] = {}

    # --- entry points -----------------------------------------------------------------------------------------

    async def run(self, tool_id: str, inputs: Any, *, source: str = "api") -> JSONObject:
        """Run to the end; the result ``{run_id, status, outputs, error, duration_ms}``.

        Raises:
            HostError: the run was refused (unknown tool, invalid inputs, missing secret, full queue...).
        """
        live = self._begin(tool_id, inputs, source)
        assert live.task is not None
        return await asyncio.shield(live.task)

    def start(self, tool_id: str, inputs: Any, *, source: str = "api") -> LiveRun:
        """Start a run in the background; the live handle (its id is the run id).

        Raises:
            HostError: the run was refused.
        """
        return self._begin(tool_id, inputs, source)

    def pending_tasks(self) -> list[asyncio.Task[JSONObject]]:
        return [live.task for live in self._live.values() if live.task is not None and not live.task.done()]

    def live(self, run_id: str) -> LiveRun | None:
        return self._live.get(run_id)

    def queue_position(self, run_id: str) -> int | None:
        live = self._live.get(run_id)
        return live.slot.queue_position(run_id) if live else None

    async def cancel(self, run_id: str) -> JSONObject:
        """Cancel a queued or running run: ``/cancel``, the grace, then the process is stopped.

        Raises:
            RunNotActive: the run has already ended (or is not known to be running).
        """
        live = self._live.get(run_id)
        if live is None or live.task is None or live.task.done():
            raise RunNotActive(f"run {run_id} is not running; only queued or running runs can be cancelled")
        live.cancel_requested = True
        slot = live.slot
        if run_id not in slot.inflight:
            live.task.cancel()  # still queued or starting: it never reaches the tool
        elif slot.runner is not None:
            # The grace runs from the moment /cancel is sent: a stuck tool may not even read it.
            asked = asyncio.ensure_future(slot.runner.cancel(run_id))
            done, _ = await asyncio.wait({live.task}, timeout=CANCEL_GRACE_SECONDS)
            asked.cancel()
            if not done and slot.runner is not None and run_id in slot.inflight:
                await self.supervisor.terminate(slot, "cancel")
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(live.task), CANCEL_GRACE_SECONDS)
        return live.final or {"run_id": run_id, "status": "cancelled"}

    async def subscribe(self, run_id: str) -> AsyncIterator[JSONObject]:
        """The run's events so far, then live ones until the terminal event; empty when it is not live."""
        live = self._live.get(run_id)
        if live is None:
            return
        queue: asyncio.Queue[JSONObject | None] = asyncio.Queue()
        backlog = list(live.events)
        if live.final is None:
            live.subscribers.add(queue)
        try:
            for event in backlog:
                yield event
            if live.final is not None:
                if not backlog or not backlog[-1].get("done"):
                    yield live.final
                return
            while True:
                item = await queue.get()
                if item is None:
                    return
                yield item
                if item.get("done"):
                    return
        finally:
            live.subscribers.discard(queue)

    # --- preparing --------------------------------------------------------------------------------------------

    def _begin(self, tool_id: str, inputs: Any, source: str) -> LiveRun:
        entry = self.catalog.get(tool_id)
        slot = self.supervisor.slot(tool_id)
        if entry is None or slot is None:
            raise ToolNotFound(f"no tool with id {tool_id!r}; GET /api/tools lists the tools this host serves")
        if entry.manifest is None:
            raise ToolInvalid(f"{tool_id} cannot run: {entry.error}")
        if inputs is None:
            inputs = {}
        if not isinstance(inputs, dict):
            raise InvalidRequest(
                [{"loc": ["body", "inputs"], "msg": "inputs must be an object of input key to value", "type": "dict"}]
            )
        now = time.time()
        secrets = entry.secrets()
        if secrets.missing:
            keys = ", ".join(secrets.missing)
            message = (
                f"{tool_id} needs the secret {keys} and it is not set: add `{secrets.missing[0]}=...` to "
                f"{entry.folder / '.env'}"
            )
            run_id = self._record_refusal(entry, inputs, source, now, "secret_missing", message)
            raise SecretMissing(message, run_id=run_id, keys=list(secrets.missing))
        problems = entry.check_inputs(inputs)
        if problems:
            run_id = self._record_refusal(entry, inputs, source, now, "invalid_inputs", problems)
            raise InvalidInputs(problems, run_id=run_id)
        self.supervisor.check_queue(slot)
        run_id, artefacts = self.folders.take(entry.id)
        self.store.insert_later(
            RunRecord(
                id=run_id,
                tool_id=entry.id,
                status="queued",
                source=source,
                inputs=secrets.mask_json(inputs),
                queued_at=now,
                artefacts_dir=artefacts,
            )
        )
        live = LiveRun(run_id, entry.id, slot)
        self._live[run_id] = live
        live.task = asyncio.ensure_future(self._execute(live, entry, inputs, artefacts, secrets))
        live.task.add_done_callback(lambda _t: self._live.pop(run_id, None))
        return live

    def _record_refusal(
        self, entry: ToolEntry, inputs: JSONObject, source: str, now: float, code: str, detail: JSON
    ) -> str:
        # A refused run is still a run the person asked for: it is recorded as failed, with why.
        run_id = new_run_id()
        self.store.insert_later(
            RunRecord(
                id=run_id,
                tool_id=entry.id,
                status="error",
                source=source,
                inputs=entry.secrets().mask_json(inputs),
                error={"code": code, "detail": detail, "status_code": None},
                queued_at=now,
                finished_at=now,
                duration_ms=0.0,
            )
        )
        return run_id

    # --- executing --------------------------------------------------------------------------------------------

    async def _execute(
        self, live: LiveRun, entry: ToolEntry, inputs: JSONObject, artefacts: str, secrets: Secrets
    ) -> JSONObject:
        slot = live.slot
        manifest = entry.manifest
        assert manifest is not None
        started = time.time()
        reached = False
        outcome: _Outcome
        try:
            await self.supervisor.acquire(slot, live.id)
            started = time.time()
            runner = await self.supervisor.ensure_ready(slot)
            ready = time.time()
            self.supervisor.run_started(slot, live.id)
            reached = True
            self.store.update_later(live.id, status="running", started_at=started, ready_at=ready)
            self.events.emit("run_started", entry.id, run_id=live.id)
            request = build_run_request(
                entry.with_defaults(inputs), run_id=live.id, artefacts_dir=artefacts, manifest=manifest
            )
            # Runs once this task waits for the tool, its request already sent: the mkdir costs no latency then.
            asyncio.get_running_loop().call_soon(self.folders.top_up, entry.id)
            try:
                async with asyncio.timeout(manifest.max_runtime_seconds + RUN_DEADLINE_SLACK_SECONDS):
                    if entry.streaming:
                        outcome = await self._call_streaming(live, entry, runner, request)
                    else:
                        outcome = await self._reply_outcome(entry, await runner.call(request), runner, slot)
            except TimeoutError:
                self.supervisor.kill(slot, "timeout", f"killed: run {live.id} exceeded its deadline")
                detail = (
                    f"the run took longer than max_runtime_seconds ({manifest.max_runtime_seconds} s) "
                    f"+ {RUN_DEADLINE_SLACK_SECONDS:g} s; the tool process was stopped"
                )
                outcome = _Outcome("timeout", error=_err("timeout", detail), healthy=False)
        except ToolUnavailableError as exc:
            tail = exc.extra.get("stderr_tail")
            outcome = _Outcome(
                "error", error=_err(exc.code, secrets.mask(str(exc.detail)), stderr_tail=tail), healthy=False
            )
        except ToolUnreachable as exc:
            if slot.runner is not None:
                await slot.runner.settle(EXIT_SETTLE_SECONDS)
            outcome = self._unreachable(live, slot, secrets, str(exc))
        except asyncio.CancelledError:
            if not live.cancel_requested and not self.supervisor.closing:
                raise
            status = "cancelled" if live.cancel_requested else "interrupted"
            outcome = _Outcome(status, error=_err(status, f"the run was {status} before it finished"))
        except Exception as exc:  # a bug of the host must still end the run's record
            outcome = _Outcome("error", error=_err("host_error", f"{type(exc).__name__}: {exc}"), healthy=False)
        finally:
            self.supervisor.release(slot, live.id)
        return self._finish(live, entry, outcome, started, reached)

    def _finish(self, live: LiveRun, entry: ToolEntry, outcome: _Outcome, started: float, reached: bool) -> JSONObject:
        slot = live.slot
        if self.supervisor.closing and not live.cancel_requested and outcome.status in ("cancelled", "error"):
            # The tool was told to stop because the host is stopping: the run did not fail on its own.
            outcome = _Outcome(
                "interrupted",
                outputs=outcome.outputs,
                healthy=False,
                error=_err("interrupted", "the host stopped during the run"),
            )
        finished = time.time()
        duration_ms = round((finished - started) * 1000, 3)
        if reached:
            self.supervisor.run_finished(slot, live.id, healthy=outcome.healthy)
        result: JSONObject = {
            "run_id": live.id,
            "tool_id": entry.id,
            "status": outcome.status,
            "outputs": outcome.outputs,
            "error": outcome.error,
            "duration_ms": duration_ms,
        }
        final: JSONObject = {
            "output_key": None,
            "value": None,
            "done": True,
            "outputs": outcome.outputs,
            "status": outcome.status,
            "error": outcome.error,
        }
        live.final = final
        live.publish(final)
        for queue in list(live.subscribers):
            queue.put_nowait(None)
        fields: dict[str, Any] = {
            "status": outcome.status,
            "outputs": outcome.outputs,
            "error": outcome.error,
            "finished_at": finished,
            "duration_ms": duration_ms,
        }
        if not reached:
            fields["started_at"] = started
        if entry.streaming:
            fields["events"] = live.events
        if outcome.error is not None and outcome.error.get("stderr_tail"):
            fields["stderr_tail"] = outcome.error["stderr_tail"]
        self.store.update_later(live.id, **fields)
        self._maybe_prune(entry)
        self.events.emit("run_finished", entry.id, run_id=live.id, status=outcome.status, duration_ms=duration_ms)
        return result

    def _maybe_prune(self, entry: ToolEntry) -> None:
        assert entry.manifest is not None
        keep = entry.manifest.retain_runs
        count = self._since_prune.get(entry.id, 0) + 1
        if count >= max(1, min(PRUNE_BATCH, keep // 4)):
            count = 0
            self.store.prune_later(entry.id, keep)
        self._since_prune[entry.id] = count

    async def _reply_outcome(self, entry: ToolEntry, reply: ToolReply, runner: ToolRunner, slot: ToolSlot) -> _Outcome:
        if reply.error is None:
            return _Outcome("ok", outputs=self._outputs(entry, reply.body))
        if reply.status >= 500:
            await runner.quiet_output(ERROR_OUTPUT_WAIT_SECONDS)
        return self._from_reply(entry, reply, entry.secrets(), slot)

    def _from_reply(self, entry: ToolEntry, reply: ToolReply, secrets: Secrets, slot: ToolSlot) -> _Outcome:
        envelope = reply.error
        assert envelope is not None, "ok replies are read by _reply_outcome"
        if envelope.code == "cancelled":
            return _Outcome("cancelled", error=_err("cancelled", envelope.message(), reply.status))
        if reply.status == 422:
            code = "invalid_inputs"
        elif envelope.code:
            code = envelope.code
        else:
            code = "tool_error" if reply.status < 500 else "tool_crashed"
        error = _err(code, secrets.mask_json(envelope.detail), reply.status)
        if reply.status >= 500:
            error["stderr_tail"] = slot.output_tail()
        return _Outcome("error", error=error)

    def _unreachable(self, live: LiveRun, slot: ToolSlot, secrets: Secrets, why: str) -> _Outcome:
        if live.cancel_requested:
            detail = "the run was cancelled; it did not stop within the grace, so its process was stopped"
            return _Outcome("cancelled", error=_err("cancelled", detail), healthy=False)
        tail = slot.output_tail()
        if slot.kill_reason == "oom":
            detail = slot.reason or "killed: over max_memory_mb"
            return _Outcome("oom", error=_err("oom", detail, stderr_tail=tail), healthy=False)
        if self.supervisor.closing:
            return _Outcome("interrupted", error=_err("interrupted", "the host stopped during the run"), healthy=False)
        if slot.kill_reason is not None:
            detail = f"the tool process was stopped during the run ({slot.reason or slot.kill_reason})"
        elif slot.runner is not None and not slot.runner.alive:
            detail = "the tool process exited during the run"
        else:
            detail = f"the tool dropped the connection during the run: {why}"
        return _Outcome("error", error=_err("tool_crashed", secrets.mask(detail), stderr_tail=tail), healthy=False)

    def _outputs(self, entry: ToolEntry, body: JSON) -> JSONObject:
        if not isinstance(body, dict):
            return {"_raw": body}
        types = entry.output_types
        source = body.get("outputs") if isinstance(body.get("outputs"), dict) and not (types.keys() & body) else body
        assert isinstance(source, dict)
        return {key: normalise_output(types[key], value) for key, value in source.items() if key in types}

    async def _call_streaming(
        self, live: LiveRun, entry: ToolEntry, runner: ToolRunner, request: RunRequest
    ) -> _Outcome:
        manifest = entry.manifest
        assert manifest is not None
        secrets = entry.secrets()
        reply: ToolReply = await runner.call(request)
        if reply.error is not None:
            return await self._reply_outcome(entry, reply, runner, live.slot)
        state: dict[str, JSON] = dict(self._outputs(entry, reply.body))
        types = entry.output_types
        try:
            async for event in runner.events(live.id, manifest):
                if event.done:
                    if event.outputs:
                        apply_event(state, event, types)
                    outputs = self._outputs(entry, state)
                    if event.status == "cancelled":
                        return _Outcome("cancelled", outputs=outputs, error=_err("cancelled", "the run was cancelled"))
                    if event.status == "error":
                        err = event.error or {}
                        code = str(err.get("code") or "tool_error")
                        detail = secrets.mask_json(err.get("detail", "the run failed"))
                        return _Outcome("error", outputs=outputs, error=_err(code, detail))
                    return _Outcome("ok", outputs=outputs)
                apply_event(state, event, types)
                live.publish(event.wire())
        except StreamUnavailable:
            return _Outcome("ok", outputs=self._outputs(entry, state))
        outputs = self._outputs(entry, state)
        if live.cancel_requested:
            return _Outcome("cancelled", outputs=outputs, error=_err("cancelled", "the run was cancelled"))
        detail = "the tool's stream ended without its final event"
        return _Outcome("error", outputs=outputs, error=_err("stream_incomplete", detail))
