"""Run one set of fixture inputs against the running tool and collect its final outputs.

The request is the SDK's canonical one (``build_run_request``), with an artefacts folder the
caller owns, so artefact references in the reply can be read. For a streaming tool the ``/run``
reply holds placeholders: ``/stream`` is followed to its terminal event and every event is applied
over the reply with the SDK's own rules (``apply_event``), so the terminal ``outputs`` win.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import build_run_request
from pixie_sdk.stream import apply_event
from pixie_sdk.types import JSON
from pixie_validate.client import ContractClient, Exchange, StreamResult

__all__ = ["RunOutcome", "run_inputs"]

#: Longest error detail quoted from a failed run; the curl command reproduces the rest.
MAX_DETAIL_CHARS = 500


@dataclass
class RunOutcome:
    """What one run gave: its final outputs, or why there are none."""

    exchange: Exchange
    """The ``/run`` request and reply; ``exchange.curl`` reproduces it."""
    outputs: dict[str, JSON] | None = None
    error: str | None = None
    stream: StreamResult | None = None

    @property
    def ok(self) -> bool:
        return self.outputs is not None


def _short(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"


def _failure(exchange: Exchange) -> str | None:
    if exchange.error is not None:
        return f"/run did not answer: {exchange.error}"
    if exchange.status != 200:
        return f"/run answered {exchange.status}: {_short(exchange.envelope().message())}"
    return None


def run_inputs(
    client: ContractClient,
    manifest: ToolManifest,
    inputs: dict[str, Any],
    *,
    timeout: float,
    artefacts_dir: Path | None = None,
) -> RunOutcome:
    """POST ``inputs`` as the canonical run request and return the final outputs (following ``/stream``)."""
    request = build_run_request(inputs, manifest=manifest, artefacts_dir=artefacts_dir)
    exchange = client.run(request, timeout=timeout)
    failure = _failure(exchange)
    if failure is not None:
        return RunOutcome(exchange, error=failure)
    try:
        reply = exchange.json()
    except ValueError:
        return RunOutcome(
            exchange, error=f"/run answered 200 but not JSON: {_short(exchange.body.decode(errors='replace'))}"
        )
    if not isinstance(reply, dict):
        return RunOutcome(exchange, error=f"/run answered a JSON {type(reply).__name__}, not an object keyed by output")
    if not manifest.streams:
        return RunOutcome(exchange, outputs=reply)
    stream = client.stream(request.run_id, manifest, timeout=timeout)
    if stream.exchange.error is not None:
        return RunOutcome(exchange, error=f"/stream failed: {stream.exchange.error}", stream=stream)
    if stream.exchange.status != 200:
        return RunOutcome(exchange, error=f"/stream answered {stream.exchange.status}", stream=stream)
    types = {o.key: o.type for o in manifest.outputs}
    state: dict[str, JSON] = dict(reply)
    for event in stream.events:
        apply_event(state, event, types)
    done = stream.done
    if done is None:
        return RunOutcome(exchange, error="/stream ended without its terminal `done` event", stream=stream)
    if done.status in ("error", "cancelled"):
        detail = (done.error or {}).get("detail", "no detail")
        return RunOutcome(
            exchange, error=f"the run ended with status {done.status}: {_short(str(detail))}", stream=stream
        )
    return RunOutcome(exchange, outputs=state, stream=stream)
