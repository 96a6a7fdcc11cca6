"""``ContractClient``: talks a tool's HTTP contract with the SDK's own request builder and readers.

Every request it sends can be replayed: ``Exchange.curl`` is a curl command line for it.
Accepts ``transport=`` so checks can run against an in-process app in tests.
"""

from __future__ import annotations

import functools
import json
import shlex
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pixie_sdk.contract import ROUTE_CANCEL, ROUTE_HEALTHZ, ROUTE_RUN, ROUTE_SCHEMA, ROUTE_STREAM
from pixie_sdk.envelope import ErrorEnvelope, read_error_body
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import RunRequest, build_run_request
from pixie_sdk.stream import SSEDecoder, StreamEvent, read_frame
from pixie_sdk.types import JSON

__all__ = ["ContractClient", "Exchange", "StreamResult", "collect_frames", "curl_command", "shared_ssl_context"]

#: Connect timeout: a local tool that is up accepts at once.
CONNECT_TIMEOUT_SECONDS = 2.0
#: Default per-request timeout for the quick endpoints (/schema, /cancel).
QUICK_TIMEOUT_SECONDS = 5.0
#: Longest request body shown inside a curl command; the rest is elided.
CURL_BODY_LIMIT = 4000


def curl_command(
    method: str,
    url: str,
    *,
    body: JSON = None,
    headers: dict[str, str] | None = None,
    files: list[tuple[str, str, str]] | None = None,
) -> str:
    """A curl command line that sends this request again (``files``: multipart parts as field, filename, MIME)."""
    parts = ["curl", "-sS", "-X", method]
    for key, value in (headers or {}).items():
        parts += ["-H", f"{key}: {value}"]
    if files is not None:
        parts += ["-F", f"payload={json.dumps(body, separators=(',', ':'))}"]
        for field_name, filename, mime in files:
            parts += ["-F", f"{field_name}=@{filename};type={mime}"]
    elif body is not None:
        text = json.dumps(body, separators=(",", ":"))
        if len(text) > CURL_BODY_LIMIT:
            text = text[:CURL_BODY_LIMIT] + "…"
        parts += ["-H", "Content-Type: application/json", "--data", text]
    parts.append(url)
    return shlex.join(parts)


@dataclass
class Exchange:
    """One request and what came back."""

    method: str
    url: str
    status: int | None
    body: bytes
    headers: dict[str, str]
    elapsed_ms: float
    request_body: JSON = None
    request_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    """A transport error (timeout, reset, refused) instead of a reply."""
    files: list[tuple[str, str, str]] | None = None
    """Multipart file parts sent (field, filename, MIME type): the curl then uses ``-F``."""

    @property
    def curl(self) -> str:
        return curl_command(self.method, self.url, body=self.request_body, headers=self.request_headers,
                            files=self.files)  # fmt: skip

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` when it is not."""
        return json.loads(self.body)

    def envelope(self) -> ErrorEnvelope:
        """The body read as an error envelope (any body: foreign ones are normalised)."""
        return read_error_body(self.status or 0, self.content_type, self.body)


@dataclass
class StreamResult:
    """What ``/stream`` sent."""

    exchange: Exchange
    events: list[StreamEvent] = field(default_factory=list)
    legacy_frames: int = 0
    bad_frames: list[str] = field(default_factory=list)
    heartbeats: int = 0

    @property
    def done(self) -> StreamEvent | None:
        return next((e for e in self.events if e.done), None)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: httpx builds a new one per client otherwise (~30 ms each), and
    the contract is plain HTTP on loopback, so it is only ever a formality."""
    return ssl.create_default_context()


class ContractClient:
    """A client for one tool's contract endpoints."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        timeout = httpx.Timeout(QUICK_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport, verify=shared_ssl_context()
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ContractClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> Exchange:
        url = self.base_url + path
        params = kwargs.get("params")
        if params:
            url += "?" + str(httpx.QueryParams(params))
        sent_body, sent_headers = kwargs.get("json"), dict(kwargs.get("headers") or {})
        started = time.perf_counter()
        try:
            reply = self._http.request(method, path, timeout=timeout or httpx.USE_CLIENT_DEFAULT, **kwargs)
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - started) * 1000
            error = f"{type(exc).__name__}: {exc}"
            return Exchange(method, url, None, b"", {}, ms, sent_body, sent_headers, error=error)
        ms = (time.perf_counter() - started) * 1000
        return Exchange(method, url, reply.status_code, reply.content, dict(reply.headers), ms, sent_body, sent_headers)

    def healthz(self) -> Exchange:
        return self._send("GET", ROUTE_HEALTHZ)

    def schema(self) -> Exchange:
        return self._send("GET", ROUTE_SCHEMA)

    def run(self, request: RunRequest, *, timeout: float) -> Exchange:
        """POST the canonical run request (JSON, or multipart for multipart tools)."""
        if request.multipart:
            files = [(p.field, (p.filename, p.data, p.mime_type)) for p in request.files]
            data = {"payload": json.dumps(request.body)}
            exchange = self._send("POST", ROUTE_RUN, timeout=timeout, data=data, files=files, headers=request.headers)
            exchange.request_body = request.body
            exchange.files = [(p.field, p.filename, p.mime_type) for p in request.files]
            return exchange
        return self._send("POST", ROUTE_RUN, timeout=timeout, json=request.body, headers=request.headers)

    def run_inputs(
        self,
        inputs: dict[str, JSON],
        manifest: ToolManifest | None,
        *,
        timeout: float,
        artefacts_dir: Path | None = None,
    ) -> Exchange:
        """Build the canonical request for ``inputs`` and send it."""
        return self.run(build_run_request(inputs, manifest=manifest, artefacts_dir=artefacts_dir), timeout=timeout)

    def cancel(self, run_id: str) -> Exchange:
        return self._send("POST", ROUTE_CANCEL, params={"run_id": run_id})

    def stream(self, run_id: str, manifest: ToolManifest, *, timeout: float) -> StreamResult:
        """Read ``/stream?run_id=`` to the end (or until ``timeout`` between bytes), translating legacy frames."""
        url = f"{self.base_url}{ROUTE_STREAM}?{httpx.QueryParams({'run_id': run_id})}"
        started = time.perf_counter()
        decoder = SSEDecoder()
        raw = bytearray()
        result = StreamResult(Exchange("GET", url, None, b"", {}, 0.0))
        try:
            with self._http.stream("GET", ROUTE_STREAM, params={"run_id": run_id}, timeout=timeout) as reply:
                result.exchange.status = reply.status_code
                result.exchange.headers = dict(reply.headers)
                for chunk in reply.iter_bytes():
                    raw += chunk
                    result.heartbeats += chunk.count(b"\n:") + (1 if chunk.startswith(b":") else 0)
                    payloads = decoder.feed(chunk)
                    if collect_frames(payloads, manifest, result):
                        break
                else:
                    collect_frames(decoder.close(), manifest, result)
        except httpx.HTTPError as exc:
            result.exchange.error = f"{type(exc).__name__}: {exc}"
        result.exchange.body = bytes(raw)
        result.exchange.elapsed_ms = (time.perf_counter() - started) * 1000
        return result


def collect_frames(payloads: list[str], manifest: ToolManifest, result: StreamResult) -> bool:
    """Read SSE payloads into ``result`` (legacy frames translated, unreadable ones noted); True once done came."""
    for payload in payloads:
        try:
            events, legacy = read_frame(payload, manifest)
        except ValueError as exc:
            result.bad_frames.append(str(exc))
            continue
        result.legacy_frames += int(legacy)
        result.events.extend(events)
        if any(e.done for e in events):
            return True
    return False
