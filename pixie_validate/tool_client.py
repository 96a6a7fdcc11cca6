"""``StartedTool``: a running tool with a typed client, for tool authors' own tests (the ``pixie_tool`` fixture).

Three lines in a tool's tests::

    def test_doubles(pixie_tool):
        assert pixie_tool.run({"n": 2})["double"] == 4
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixie_sdk.envelope import ErrorEnvelope
from pixie_sdk.manifest import ToolManifest, load_manifest
from pixie_sdk.runbody import build_run_request
from pixie_sdk.stream import StreamEvent, apply_event
from pixie_validate.client import ContractClient, Exchange
from pixie_validate.errors import ValidateError
from pixie_validate.launcher import DEFAULT_READY_DEADLINE_SECONDS, ToolProcess, launch_spec

__all__ = ["RunFailed", "StartedTool", "StreamedRun"]

#: Extra seconds a test run may take beyond the tool's own max_runtime_seconds.
RUN_TIMEOUT_MARGIN_SECONDS = 5


class RunFailed(ValidateError):
    """A run answered with an error; ``status`` and ``envelope`` say how."""

    def __init__(self, exchange: Exchange, *, streamed: StreamedRun | None = None) -> None:
        self.status = exchange.status
        self.exchange = exchange
        self.streamed = streamed
        """For a streaming tool whose stream ended in error or cancelled: that stream."""
        if streamed is None:
            self.envelope: ErrorEnvelope = exchange.envelope()
            reason = exchange.error or f"HTTP {exchange.status}: {self.envelope.message()}"
        else:
            self.envelope = streamed.envelope()
            reason = f"the stream ended {streamed.status}: {self.envelope.message()}"
        super().__init__(f"run failed: {reason}\nreproduce: {exchange.curl}")


@dataclass
class StreamedRun:
    """A streamed run: every event, and the outputs they add up to."""

    run_id: str
    events: list[StreamEvent]
    outputs: dict[str, Any]

    @property
    def status(self) -> str | None:
        done = self._done()
        return done.status if done is not None else None

    def envelope(self) -> ErrorEnvelope:
        """The terminal event's error, as the envelope (a sentence of its own when it carries none)."""
        done = self._done()
        error = done.error if done is not None else None
        with contextlib.suppress(ValueError):
            if error is not None:
                return ErrorEnvelope.model_validate(error)
        return ErrorEnvelope(detail=f"the run ended {self.status or 'without a terminal event'}", code=self.status)

    def _done(self) -> StreamEvent | None:
        return next((e for e in self.events if e.done), None)


class StartedTool:
    """A tool process started the way the host starts it, and a client for its contract."""

    def __init__(self, folder: Path, manifest: ToolManifest, process: ToolProcess) -> None:
        self.folder = folder
        self.manifest = manifest
        self.process = process
        self.client = ContractClient(process.url)

    @classmethod
    def start(cls, folder: Path | str, *, python: str | None = None) -> StartedTool:
        """Start the tool in ``folder`` and wait until it is ready (raises ``ToolStartError``)."""
        path = Path(folder).resolve()
        manifest = load_manifest(path)
        process = ToolProcess(launch_spec(path, manifest, python=python))
        process.start()
        deadline = float(manifest.validator_timeout_override or DEFAULT_READY_DEADLINE_SECONDS)
        try:
            process.wait_ready(deadline)
        except BaseException:
            process.stop()
            raise
        return cls(path, manifest, process)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def alive(self) -> bool:
        return self.process.alive

    @property
    def timeout(self) -> float:
        return float(self.manifest.max_runtime_seconds + RUN_TIMEOUT_MARGIN_SECONDS)

    def schema(self) -> Any:
        """What ``/schema`` serves."""
        return self.client.schema().json()

    def call(self, inputs: dict[str, Any], *, run_id: str | None = None) -> Exchange:
        """POST a run and return the raw exchange (no judgement)."""
        request = build_run_request(inputs, run_id=run_id, manifest=self.manifest)
        return self.client.run(request, timeout=self.timeout)

    def run(self, inputs: dict[str, Any] | None = None, *, run_id: str | None = None) -> dict[str, Any]:
        """Run the tool; the outputs, or ``RunFailed`` with the error envelope."""
        exchange = self.call(inputs or {}, run_id=run_id)
        if exchange.status != 200:
            raise RunFailed(exchange)
        body = dict(exchange.json())
        if self.manifest.streams:
            # The /run reply holds the starting state (placeholders); the stream adds to it.
            run_id = str(exchange.request_body["run_id"])
            streamed = self.stream(inputs or {}, run_id=run_id, started=True, state=body)
            if streamed.status in ("error", "cancelled"):
                raise RunFailed(exchange, streamed=streamed)
            return streamed.outputs
        return body

    def stream(self, inputs: dict[str, Any] | None = None, *, run_id: str | None = None,
               started: bool = False, state: dict[str, Any] | None = None) -> StreamedRun:  # fmt: skip
        """Start a run (unless ``started``, with ``state`` its /run reply) and follow ``/stream`` to its end."""
        if not started:
            exchange = self.call(inputs or {}, run_id=run_id)
            if exchange.status != 200:
                raise RunFailed(exchange)
            run_id = str(exchange.request_body["run_id"])
            state = dict(exchange.json())
        state = dict(state or {})
        assert run_id is not None
        result = self.client.stream(run_id, self.manifest, timeout=self.timeout)
        types = {o.key: o.type for o in self.manifest.outputs}
        for event in result.events:
            apply_event(state, event, types)
        return StreamedRun(run_id=run_id, events=result.events, outputs=state)

    def cancel(self, run_id: str) -> bool:
        """Ask the tool to cancel a run; True if it says it did."""
        exchange = self.client.cancel(run_id)
        try:
            return bool(exchange.json().get("cancelled"))
        except (ValueError, AttributeError):
            return exchange.status == 204

    def stop(self) -> None:
        self.client.close()
        self.process.stop()
