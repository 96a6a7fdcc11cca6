"""Stream events (contract §4.5): the canonical model, the SSE wire form, legacy frames, apply rules.

A canonical event is ``{"output_key": k, "value": v, "done": false}``; a stream ends with one
event whose ``done`` is true. Our terminal event also carries the final ``outputs`` and, for a
failed or cancelled run, ``status`` and the ``error`` envelope, so a relay can persist the
final state without replaying. Foreign tools' frames (``{"chunk": ...}``, per-key deltas) are
read by ``read_frame``. How a value lands on the current state (append or replace) is
decided once, by ``apply_value``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pixie_sdk._jsonenc import dumps
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.types import JSON, JSONObject

__all__ = [
    "HEARTBEAT",
    "SSEDecoder",
    "StreamEvent",
    "apply_event",
    "apply_value",
    "encode_sse",
    "read_frame",
]

#: An SSE comment line; proxies and clients see traffic, parsers ignore it.
HEARTBEAT = b": ping\n\n"

_APPEND_SERIES_Y = frozenset({"chart_line", "chart_area", "chart_bar"})
_APPEND_SERIES_POINTS = frozenset({"chart_scatter"})
_APPEND_SERIES_VALUES = frozenset({"chart_boxplot"})
_APPEND_POINTS = frozenset({"chart_candlestick"})


class StreamEvent(BaseModel):
    """One event of a run's stream."""

    model_config = ConfigDict(extra="ignore")

    output_key: str | None = None
    """The output this value belongs to (None on the terminal event)."""
    value: JSON = None
    """The delta (appended for stream_text, log and series charts) or the new value (everything else)."""
    done: bool = False
    """True on the last event of the stream."""
    outputs: JSONObject | None = None
    """Terminal event only: the final state of every output."""
    status: Literal["ok", "error", "cancelled"] | None = None
    """Terminal event only: how the run ended."""
    error: JSONObject | None = None
    """Terminal event only, when ``status`` is ``error``: the error envelope."""

    def wire(self) -> JSONObject:
        """The JSON object sent on the wire (terminal-only fields left out of data events)."""
        data: JSONObject = {"output_key": self.output_key, "value": self.value, "done": self.done}
        for name in ("outputs", "status", "error"):
            extra = getattr(self, name)
            if extra is not None:
                data[name] = extra
        return data


def encode_sse(event: StreamEvent) -> bytes:
    """The SSE frame of one event: ``data: <json>`` and a blank line."""
    return b"data: " + dumps(event.wire()) + b"\n\n"


class SSEDecoder:
    """Incremental SSE parser: feed it bytes as they arrive, get back each event's data string.

    Handles lines split across chunks, multi-line ``data:``, ``\\r\\n`` endings and comments.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []
        self.event_names: list[str | None] = []

    def feed(self, chunk: bytes | str) -> list[str]:
        """Consume a chunk; return the data of every event completed by it."""
        self._buffer += chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else chunk
        out: list[str] = []
        *lines, self._buffer = self._buffer.split("\n")
        name: str | None = None
        for raw in lines:
            line = raw.rstrip("\r")
            if not line:
                if self._data:
                    out.append("\n".join(self._data))
                    self.event_names.append(name)
                self._data, name = [], None
            elif line.startswith(":"):
                continue
            else:
                field, _, val = line.partition(":")
                val = val[1:] if val.startswith(" ") else val
                if field == "data":
                    self._data.append(val)
                elif field == "event":
                    name = val
        return out

    def close(self) -> list[str]:
        """Flush an event the stream ended without its blank line."""
        rest = self.feed("\n\n") if self._buffer or self._data else []
        return rest


def _first_key(manifest: ToolManifest, types: tuple[str, ...]) -> str | None:
    for t in types:
        for spec in manifest.outputs:
            if spec.type == t and spec.streaming:
                return spec.key
    for t in types:
        for spec in manifest.outputs:
            if spec.type == t:
                return spec.key
    return None


def read_frame(data: str | JSON, manifest: ToolManifest) -> tuple[list[StreamEvent], bool]:
    """Read one SSE data payload as canonical events; the flag is True for a legacy (§9) frame.

    Accepted: canonical events; ``{"chunk": text, "done": ...}`` (text goes to the first
    stream_text/text output); per-key deltas ``{"<output_key>": value, ..., "done": ...}``,
    whose terminal frame carries final outputs. Raises ``ValueError`` for data that is none
    of those (not JSON, not an object, or no known key).
    """
    if isinstance(data, str):
        try:
            obj = json.loads(data)
        except ValueError:
            raise ValueError(f"stream data is not JSON: {data[:80]!r}") from None
    else:
        obj = data
    if not isinstance(obj, dict):
        raise ValueError("stream data must be a JSON object")
    done = bool(obj.get("done", False))
    if "output_key" in obj or (done and ("outputs" in obj or "status" in obj or len(obj) == 1)):
        return [StreamEvent.model_validate(obj)], False
    events: list[StreamEvent] = []
    if "chunk" in obj:
        key = _first_key(manifest, ("stream_text", "text", "markdown"))
        if key is None:
            raise ValueError("a `chunk` frame, but the tool declares no text output to append it to")
        events.append(StreamEvent(output_key=key, value=obj["chunk"]))
    declared = {o.key for o in manifest.outputs}
    deltas = {k: v for k, v in obj.items() if k in declared}
    if done:
        events.append(StreamEvent(done=True, outputs=deltas or None))
    else:
        events.extend(StreamEvent(output_key=k, value=v) for k, v in deltas.items())
    if not events:
        raise ValueError(f"stream frame names no declared output: keys {sorted(obj)[:5]}")
    return events, True


def _unwrap(value: JSON) -> JSON:
    return value["value"] if isinstance(value, dict) and "value" in value else value


def _merge_series(current: list[Any], delta: list[Any], field: str) -> list[Any]:
    merged = [dict(s) if isinstance(s, dict) else s for s in current]
    by_name = {s.get("name"): s for s in merged if isinstance(s, dict)}
    for s in delta:
        if not isinstance(s, dict):
            continue
        target = by_name.get(s.get("name"))
        if target is None:
            fresh = dict(s)
            merged.append(fresh)
            by_name[s.get("name")] = fresh
        else:
            target[field] = list(target.get(field) or []) + list(s.get(field) or [])
    return merged


def apply_value(output_type: str, current: JSON, delta: JSON) -> JSON:
    """The new value of an output after one stream event (the one place these rules live).

    ``stream_text`` appends text; ``log`` appends ``lines``; line/area/bar charts append ``x``
    and each named series' ``y``; scatter appends ``points`` and boxplot ``values`` per series;
    candlestick appends ``points``; everything else is replaced.
    """
    if output_type == "stream_text":
        before = _unwrap(current)
        return (before if isinstance(before, str) else "") + str(_unwrap(delta))
    if not isinstance(delta, dict):
        return delta
    base = current if isinstance(current, dict) else {}
    if output_type == "log":
        return {**base, **delta, "lines": list(base.get("lines") or []) + list(delta.get("lines") or [])}
    if output_type in _APPEND_POINTS:
        return {**base, **delta, "points": list(base.get("points") or []) + list(delta.get("points") or [])}
    field = (
        "y"
        if output_type in _APPEND_SERIES_Y
        else "points"
        if output_type in _APPEND_SERIES_POINTS
        else "values"
        if output_type in _APPEND_SERIES_VALUES
        else None
    )
    if field is None:
        return delta
    out = {**base, **delta}
    if output_type in _APPEND_SERIES_Y:
        out["x"] = list(base.get("x") or []) + list(delta.get("x") or [])
    out["series"] = _merge_series(list(base.get("series") or []), list(delta.get("series") or []), field)
    return out


def apply_event(state: dict[str, JSON], event: StreamEvent, types: Mapping[str, str]) -> None:
    """Apply one event to a run's output state in place; ``types`` maps output key to type.

    A terminal event with ``outputs`` replaces those outputs with their final values.
    """
    if event.done:
        if event.outputs:
            state.update(event.outputs)
        return
    key = event.output_key
    if key is None or key not in types:
        return
    state[key] = apply_value(types[key], state.get(key), event.value)


def iter_events(payloads: Iterator[str], manifest: ToolManifest) -> Iterator[StreamEvent]:
    """Canonical events from a sequence of SSE data payloads (legacy frames translated)."""
    for payload in payloads:
        events, _legacy = read_frame(payload, manifest)
        yield from events
