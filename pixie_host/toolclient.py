"""The host's HTTP client to one tool process: ``/run``, ``/stream``, ``/cancel`` over kept connections.

``/run`` (JSON or multipart, encoded by the SDK's ``RunRequest.encode``), ``/cancel`` and
``/autocomplete`` go through the host's own ``ConnectionPool`` (httptools over asyncio); a
streamed reply (``/stream``) through aiohttp's pooled client. Never httpx, which on this machine
alone costs more per request than the host's whole budget for a proxy hop
(``../shared/research/perf-notes.md``). Every error body
is read through the SDK's ``read_error_body`` so foreign tools' plain-text 500s become the
envelope too, and a request written onto a kept connection the tool had already reset is
sent again once, on a fresh connection (it never reached the tool).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from pixie_host.pool import (
    CONNECT_TIMEOUT_SECONDS,
    KEEPALIVE_SECONDS,
    POOL_SIZE,
    ConnectionDropped,
    ConnectionPool,
    HTTPReply,
)
from pixie_sdk.contract import ROUTE_CANCEL, ROUTE_RUN, ROUTE_STREAM
from pixie_sdk.envelope import ErrorEnvelope, read_error_body
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import RunRequest
from pixie_sdk.stream import SSEDecoder, StreamEvent, read_frame
from pixie_sdk.types import JSON

if TYPE_CHECKING:
    import aiohttp

__all__ = ["StreamUnavailable", "ToolConnection", "ToolReply", "ToolUnreachable"]

#: /cancel is a control message: a tool that cannot answer it this fast gets the kill path instead.
CANCEL_TIMEOUT_SECONDS = 2.0
#: Suggestions are typed-ahead: a slow answer is a stale one.
SUGGEST_TIMEOUT_SECONDS = 5.0
#: Before resending on a fresh connection, how long the tool must stay alive to count as not crashed.
STALE_CHECK_SECONDS = 0.05


class ToolUnreachable(Exception):
    """The connection to the tool failed or was dropped before a reply (the process may be gone)."""


class StreamUnavailable(Exception):
    """The tool has no stream for this run (``/stream`` answered 404 or is not implemented)."""


@dataclass(slots=True)
class ToolReply:
    """What ``/run`` answered: a 2xx body, or an error normalised into the envelope."""

    status: int
    body: JSON
    error: ErrorEnvelope | None
    retried: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _aiohttp() -> Any:
    # Imported on first use: only a streamed run's /stream needs it, and an idle host
    # would otherwise carry its ~9 MB for good.
    import aiohttp

    return aiohttp


class ToolConnection:
    """Kept-alive HTTP to one tool at ``base_url``; create and use it inside the host's event loop."""

    def __init__(self, base_url: str, *, alive: Callable[[], bool] = lambda: True) -> None:
        self.base_url = base_url
        self._alive = alive
        self._session: aiohttp.ClientSession | None = None
        self._pool: ConnectionPool | None = None

    def _client(self) -> aiohttp.ClientSession:
        aiohttp = _aiohttp()
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS, enable_cleanup_closed=False
            )
            self._session = aiohttp.ClientSession(
                base_url=self.base_url,
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_SECONDS),
                auto_decompress=False,
            )
        return self._session

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, request: RunRequest) -> ToolReply:
        """POST ``/run`` (JSON or multipart); the caller bounds the wait (the run deadline is the supervisor's).

        Raises:
            ToolUnreachable: the connection failed or dropped before any reply.
        """
        body, headers = request.encode()
        pool = self._kept()
        try:
            return _reply(await pool.request("POST", ROUTE_RUN, body, headers))
        except OSError as exc:
            dropped = exc if isinstance(exc, ConnectionDropped) else None
            # A kept connection the tool had closed (a foreign tool resets it after a bare 500): the
            # request died on the wire before the tool read it, so it is safe to send once more. A
            # dying process drops connections too: only a tool still alive a moment later had merely
            # closed an idle one.
            if dropped is None or dropped.replied or not dropped.reused or not self._alive():
                raise ToolUnreachable(str(exc) or type(exc).__name__) from None
            await asyncio.sleep(STALE_CHECK_SECONDS)
            if not self._alive():
                raise ToolUnreachable(str(exc) or type(exc).__name__) from None
        try:
            reply = _reply(await pool.request("POST", ROUTE_RUN, body, headers, fresh=True))
        except OSError as exc:
            raise ToolUnreachable(str(exc) or type(exc).__name__) from None
        reply.retried = True
        return reply

    def _kept(self) -> ConnectionPool:
        if self._pool is None:
            self._pool = ConnectionPool(self.base_url, size=POOL_SIZE, reusable=_reusable)
        return self._pool

    async def events(self, run_id: str, manifest: ToolManifest) -> AsyncIterator[StreamEvent]:
        """The run's stream as canonical events (legacy ``chunk`` and per-key frames translated).

        Ends after the terminal event, or when the tool closes the stream.

        Raises:
            StreamUnavailable: ``/stream`` answered 404 or 405 (no stream for this run).
            ToolUnreachable: the connection dropped.
        """
        aiohttp = _aiohttp()
        decoder = SSEDecoder()
        try:
            async with self._client().get(ROUTE_STREAM, params={"run_id": run_id}) as resp:
                if resp.status in (404, 405):
                    raise StreamUnavailable(f"/stream answered {resp.status}")
                if resp.status >= 400:
                    envelope = read_error_body(resp.status, resp.content_type, await resp.read())
                    raise ToolUnreachable(f"/stream answered {resp.status}: {envelope.message()}")
                async for chunk in resp.content.iter_any():
                    for payload in decoder.feed(chunk):
                        for event in _frame_events(payload, manifest):
                            yield event
                            if event.done:
                                return
                for payload in decoder.close():
                    for event in _frame_events(payload, manifest):
                        yield event
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ToolUnreachable(str(exc) or type(exc).__name__) from None

    async def suggest(self, endpoint: str, query: str) -> list[dict[str, JSON]]:
        """``GET /autocomplete/<endpoint>?q=`` as ``{value, label}`` items (strings and ``{"results"}`` accepted).

        Raises:
            ToolUnreachable: the tool did not answer with suggestions.
        """
        path = f"/autocomplete/{quote(endpoint)}?{urlencode({'q': query})}"
        try:
            async with asyncio.timeout(SUGGEST_TIMEOUT_SECONDS):
                reply = await self._kept().request("GET", path)
        except (OSError, TimeoutError) as exc:
            raise ToolUnreachable(str(exc) or type(exc).__name__) from None
        if reply.status >= 400:
            raise ToolUnreachable(read_error_body(reply.status, reply.content_type, reply.body).message())
        body = _parse_json(reply.body, reply.content_type)
        items = body.get("results") if isinstance(body, dict) else body
        out: list[dict[str, JSON]] = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and "value" in item:
                out.append({"value": item["value"], "label": item.get("label", str(item["value"]))})
            elif isinstance(item, str | int | float):
                out.append({"value": item, "label": str(item)})
        return out

    async def cancel(self, run_id: str) -> bool:
        """POST ``/cancel``; True when the tool says it cancelled (a 204 counts), False otherwise.

        Sent on an idle kept connection or a new one, never queued behind the run it cancels.
        """
        try:
            async with asyncio.timeout(CANCEL_TIMEOUT_SECONDS):
                reply = await self._kept().request("POST", f"{ROUTE_CANCEL}?{urlencode({'run_id': run_id})}")
        except (OSError, TimeoutError):
            return False
        if reply.status == 204:
            return True
        if reply.status >= 400:
            return False
        body = _parse_json(reply.body, reply.content_type)
        return not (isinstance(body, dict) and body.get("cancelled") is False)


def _reusable(reply: HTTPReply) -> bool:
    # A bare-text error is a crashed handler in a foreign tool; its connection is suspect.
    return reply.status < 400 or reply.content_type.endswith("json")


def _reply(reply: HTTPReply) -> ToolReply:
    if reply.status < 400:
        return ToolReply(reply.status, _parse_json(reply.body, reply.content_type), None)
    return ToolReply(reply.status, None, read_error_body(reply.status, reply.content_type, reply.body))


def _parse_json(raw: bytes, content_type: str) -> JSON:
    if not raw:
        return None
    try:
        parsed: JSON = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace") if "json" not in content_type else None
    return parsed


def _frame_events(payload: str, manifest: ToolManifest) -> list[StreamEvent]:
    try:
        events, _legacy = read_frame(payload, manifest)
    except ValueError:
        return []  # a frame naming nothing we know: skipped, the terminal state is what counts
    return events
