"""The host's HTTP client to one tool process: ``/run``, ``/stream``, ``/cancel`` over kept connections.

A JSON ``/run`` goes through the host's own ``ConnectionPool`` (httptools over asyncio), the rest
through aiohttp's pooled client; never httpx, which on this machine alone costs more per request
than the host's whole budget for a proxy hop (``../shared/research/perf-notes.md``). Every error body
is read through the SDK's ``read_error_body`` so foreign tools' plain-text 500s become the
envelope too, and a request written onto a kept connection the tool had already reset is
sent again once, on a fresh connection (it never reached the tool).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from pixie_host.pool import ConnectionDropped, ConnectionPool, HTTPReply
from pixie_sdk._jsonenc import dumps
from pixie_sdk.contract import ROUTE_CANCEL, ROUTE_RUN, ROUTE_STREAM
from pixie_sdk.envelope import ErrorEnvelope, read_error_body
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import MULTIPART_PAYLOAD_FIELD, RunRequest
from pixie_sdk.stream import SSEDecoder, StreamEvent, read_frame
from pixie_sdk.types import JSON

if TYPE_CHECKING:
    import aiohttp

__all__ = ["StreamUnavailable", "ToolConnection", "ToolReply", "ToolUnreachable"]

#: Kept-alive connections per tool; more concurrent runs than this wait for a free one.
POOL_SIZE = 64
#: Seconds an idle kept connection is held; uvicorn's own keep-alive default is 5 s, stay under it.
KEEPALIVE_SECONDS = 4.0
#: /cancel is a control message: a tool that cannot answer it this fast gets the kill path instead.
CANCEL_TIMEOUT_SECONDS = 2.0
#: Suggestions are typed-ahead: a slow answer is a stale one.
SUGGEST_TIMEOUT_SECONDS = 5.0
#: Connecting to a tool on loopback that is up takes well under a millisecond.
CONNECT_TIMEOUT_SECONDS = 5.0
#: Before resending on a fresh connection, how long the tool must stay alive to count as not crashed.
STALE_CHECK_SECONDS = 0.05
_JSON_HEADERS = {"Content-Type": "application/json"}


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


async def _on_reuse(_session: Any, ctx: SimpleNamespace, _params: Any) -> None:
    if ctx.trace_request_ctx is not None:
        ctx.trace_request_ctx.reused = True


def _aiohttp() -> Any:
    # Imported on first use: only streamed runs and multipart bodies need it, and an idle host
    # would otherwise carry its ~9 MB for good.
    import aiohttp

    return aiohttp


def _trace_config() -> aiohttp.TraceConfig:
    trace: aiohttp.TraceConfig = _aiohttp().TraceConfig()
    trace.on_connection_reuseconn.append(_on_reuse)
    return trace


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
                trace_configs=[_trace_config()],
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

    def _payload(self, request: RunRequest) -> tuple[Any, dict[str, str]]:
        if not request.multipart:
            return dumps(request.body), {**_JSON_HEADERS, **request.headers}
        form = _aiohttp().FormData()
        form.add_field(MULTIPART_PAYLOAD_FIELD, dumps(request.body).decode(), content_type="application/json")
        for part in request.files:
            form.add_field(part.field, part.data, filename=part.filename, content_type=part.mime_type)
        return form, dict(request.headers)

    async def run(self, request: RunRequest) -> ToolReply:
        """POST ``/run``; the caller bounds the wait (the run deadline is the supervisor's).

        Raises:
            ToolUnreachable: the connection failed or dropped before any reply.
        """
        if not request.multipart:
            return await self._run_json(request)
        aiohttp = _aiohttp()
        ctx = SimpleNamespace(reused=False)
        try:
            return await self._post_run(self._client(), request, ctx)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            # A kept connection the tool had closed (a foreign tool resets it after a bare 500):
            # the request died on the wire before the tool read it, so it is safe to send once more.
            # A process that is dying also drops connections: only a tool still alive a moment
            # later had merely closed an idle connection.
            if not ctx.reused or not self._alive():
                raise ToolUnreachable(str(exc) or type(exc).__name__) from None
            await asyncio.sleep(STALE_CHECK_SECONDS)
            if not self._alive():
                raise ToolUnreachable(str(exc) or type(exc).__name__) from None
        fresh = aiohttp.ClientSession(
            base_url=self.base_url,
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_SECONDS),
            auto_decompress=False,
        )
        try:
            reply = await self._post_run(fresh, request, None)
        except aiohttp.ClientError as exc:
            raise ToolUnreachable(str(exc) or type(exc).__name__) from None
        finally:
            await fresh.close()
        reply.retried = True
        return reply

    def _kept(self) -> ConnectionPool:
        if self._pool is None:
            self._pool = ConnectionPool(self.base_url, size=POOL_SIZE, reusable=_reusable)
        return self._pool

    async def _run_json(self, request: RunRequest) -> ToolReply:
        pool = self._kept()
        body, headers = dumps(request.body), {**_JSON_HEADERS, **request.headers}
        try:
            return _reply(await pool.request("POST", ROUTE_RUN, body, headers))
        except OSError as exc:
            dropped = exc if isinstance(exc, ConnectionDropped) else None
            # As in run(): only a request that died on a kept connection, unread, with the tool
            # still alive a moment later, is sent again.
            if dropped is None or dropped.replied or not dropped.reused or not self._alive():
                raise ToolUnreachable(str(exc) or type(exc).__name__) from None
            await asyncio.sleep(STALE_CHECK_SECONDS)
            if not self._alive():
                raise ToolUnreachable(str(exc)) from None
        try:
            reply = _reply(await pool.request("POST", ROUTE_RUN, body, headers, fresh=True))
        except OSError as exc:
            raise ToolUnreachable(str(exc) or type(exc).__name__) from None
        reply.retried = True
        return reply

    async def _post_run(
        self, session: aiohttp.ClientSession, request: RunRequest, ctx: SimpleNamespace | None
    ) -> ToolReply:
        aiohttp = _aiohttp()
        data, headers = self._payload(request)
        try:
            async with session.post(ROUTE_RUN, data=data, headers=headers, trace_request_ctx=ctx) as resp:
                raw = await resp.read()
                status = resp.status
                if status < 400:
                    return ToolReply(status, _parse_json(raw, resp.content_type), None)
                if not resp.content_type.endswith("json"):
                    # A bare-text error is a crashed handler in a foreign tool; its connection is
                    # suspect, so it does not go back to the pool.
                    resp.close()
                return ToolReply(status, None, read_error_body(status, resp.content_type, raw))
        except aiohttp.ClientConnectorError as exc:
            raise ToolUnreachable(str(exc)) from None
        except aiohttp.ClientPayloadError as exc:
            raise ToolUnreachable(f"the reply was cut off: {exc}") from None

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
