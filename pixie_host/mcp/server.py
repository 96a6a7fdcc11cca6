"""The MCP server over a host: every tool the host runs, listed and callable; their files readable.

One ``PixieMCP`` per host, whatever the transport (``pixie mcp`` over stdio, the host's
``/mcp`` endpoint over streamable HTTP). It is the official SDK's low-level ``Server``, with
these handlers:

- ``tools/list``: ``pixie_host.mcp.tools`` (one MCP tool per loadable tool of the catalog);
- ``tools/call``: a run through the host's own run path (``RunService.start``, ``source="mcp"``):
  the same body builder, limits, queue, secrets and run history as every other run. A streaming
  tool's stream events become progress notifications (when the client gave a progress token),
  in order; the client cancelling the request cancels the run (the host's cancel: ``/cancel``,
  the grace, then the process is stopped). The result is ``pixie_host.mcp.results``;
- ``resources/read`` and the resource templates: ``pixie_host.mcp.resources``;
- ``subscriptions/listen`` (protocol 2026-07-28): the SDK's ``ListenHandler`` over a bus.

``announce_tools_changed`` tells every client that the tool list changed: on the 2026-07-28
protocol through the listen bus, on the handshake protocols (2025-11-25 and before, what
desktop clients speak today) as ``notifications/tools/list_changed`` on each connection seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from pixie_host.errors import HostError
from pixie_host.host import Host
from pixie_host.mcp import resources, results
from pixie_host.mcp.summary import describe_event
from pixie_host.mcp.tools import ToolIndex
from pixie_host.reload import CatalogChange
from pixie_host.runs import LiveRun
from pixie_sdk import __version__
from pixie_sdk.types import JSONObject

__all__ = ["INSTRUCTIONS", "MAX_TRACKED_CONNECTIONS", "NOTIFY_TIMEOUT_SECONDS", "PixieMCP"]

#: What a client may show a model about this server as a whole.
INSTRUCTIONS = (
    "Pixie tools: each tool is a typed function run by a local Pixie host. Inputs follow each tool's "
    "inputSchema (inputs with a default may be left out); results give a readable summary in `content` and "
    "the full outputs in `structuredContent`. Files and large media are resource links: read them with "
    "resources/read."
)
#: Handshake-era connections remembered for tool-list-changed notifications; the least recently used go
#: first beyond this (a closed connection is also forgotten the first time a notification to it fails).
MAX_TRACKED_CONNECTIONS = 1000
#: How long one connection may take to accept a notification before it is given up as gone.
NOTIFY_TIMEOUT_SECONDS = 2.0
#: The HTTP header that names a streamable-HTTP session (the SDK's own constant is in a private module).
SESSION_HEADER = "mcp-session-id"
#: The connection key of the single stdio connection.
_STDIO = "stdio"
#: Run errors whose reason is in the tool's own output (a crash, a start that failed).
LAST_WORDS_CODES = frozenset({"tool_crashed", "tool_unavailable"})
#: How long to wait for a dead tool's last output to be read: it is written before the process exits.
LAST_WORDS_SECONDS = 0.5

_log = logging.getLogger("pixie.host.mcp")


class _Server(Server[dict[str, Any]]):
    """The SDK's server, announcing ``tools.listChanged`` in the handshake whoever builds the options.

    The streamable-HTTP session manager builds them itself, with every notification flag off.
    """

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True), experimental_capabilities, extensions
        )


class PixieMCP:
    """The MCP server of one host; ``server`` is what a transport runs."""

    def __init__(self, host: Host, *, prefix: str = "") -> None:
        self.host = host
        self.prefix = prefix
        self.index = ToolIndex(host.catalog)
        self.bus = InMemorySubscriptionBus()
        self.listen = ListenHandler(self.bus)
        self.closing = False
        self._connections: OrderedDict[str, ServerSession] = OrderedDict()
        self._background: set[asyncio.Task[Any]] = set()
        self.server = _Server(
            "pixie",
            version=__version__,
            title="Pixie tools",
            instructions=INSTRUCTIONS,
            get_tool_input_schema=self.index.input_schema,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_resource_templates,
            on_read_resource=self._read_resource,
            on_subscriptions_listen=self.listen,
        )

    def initialization_options(self) -> InitializationOptions:
        return self.server.create_initialization_options()

    # --- tool list changes ------------------------------------------------------------------------------------

    def _remember(self, ctx: ServerRequestContext[Any, Any]) -> None:
        """Keep a handshake-era connection's session, to send it tool-list-changed notifications later."""
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return  # 2026-07-28 clients ask for notifications with subscriptions/listen
        headers = getattr(ctx.request, "headers", None)
        key = headers.get(SESSION_HEADER) if headers is not None else _STDIO
        if not key:
            return  # stateless HTTP: no channel to notify on
        self._connections.pop(key, None)
        self._connections[key] = ctx.session
        while len(self._connections) > MAX_TRACKED_CONNECTIONS:
            self._connections.popitem(last=False)

    async def announce_tools_changed(self, change: CatalogChange | None = None) -> None:
        """Tell every client the tool list changed (a ``Reloader`` subscriber)."""
        await self.bus.publish(ToolsListChanged())
        # At once to every connection: one that is gone must not hold up the others for its timeout.
        async with anyio.create_task_group() as group:
            for key, session in list(self._connections.items()):
                group.start_soon(self._notify, key, session)

    async def _notify(self, key: str, session: ServerSession) -> None:
        try:
            with anyio.fail_after(NOTIFY_TIMEOUT_SECONDS):
                await session.send_tool_list_changed()
        except Exception:  # the connection is gone (closed stream, timeout): forget it
            _log.debug("dropped MCP connection %s from tool-list notifications", key, exc_info=True)
            self._connections.pop(key, None)

    def close(self) -> None:
        """The transport is stopping: end listen streams; calls cut short now are the host's to interrupt."""
        self.closing = True
        self.listen.close()

    # --- handlers ---------------------------------------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        self._remember(ctx)
        return types.ListToolsResult(tools=self.index.tools())

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        self._remember(ctx)
        entry = self.index.find(params.name)
        if entry is None:
            return results.unknown_tool(params.name, self.index.names())
        try:
            live = self.host.runs.start(entry.id, params.arguments or {}, source="mcp")
        except HostError as exc:
            return results.refused(entry, exc)
        except Exception as exc:  # a bug of the host's: the agent still gets a result it can show
            _log.exception("starting a run of %s failed", entry.id)
            return results.host_failed(entry, exc)
        assert live.task is not None
        try:
            if entry.streaming:
                await self._relay_progress(ctx, live)
            # Shielded: the run is the host's, not this request's; a cancelled request cancels it properly below.
            outcome = await asyncio.shield(live.task)
            outcome = await self._with_last_words(live, outcome)
            files = results.Files(live.id, lambda: self._artefacts_dir(live.id), lambda: self._http_base(ctx))
            result = await results.run_result(entry, outcome, files)
        except asyncio.CancelledError:
            if not self.closing:
                self._in_background(self.host.runs.cancel(live.id))
            raise
        except Exception as exc:
            _log.exception("run %s of %s: building its MCP result failed", live.id, entry.id)
            return results.host_failed(entry, exc)
        return results.for_version(result, ctx.protocol_version)

    async def _relay_progress(self, ctx: ServerRequestContext[Any, Any], live: LiveRun) -> None:
        """Each stream event as a progress notification: ``progress`` counts events, ``message`` says what came."""
        entry = self.host.catalog.get(live.tool_id)
        manifest = entry.manifest if entry is not None else None
        count = 0
        async for event in self.host.runs.subscribe(live.id):
            if event.get("done"):
                return
            count += 1
            spec = manifest.output(str(event.get("output_key"))) if manifest is not None else None
            message = describe_event(spec, event.get("value"))
            try:
                await ctx.session.report_progress(count, None, message)
            except Exception:  # the client went away mid-stream: the run still ends and is recorded
                _log.debug("progress for run %s not delivered", live.id, exc_info=True)
                return

    async def _with_last_words(self, live: LiveRun, outcome: JSONObject) -> JSONObject:
        """A process that died or would not start says why only in its output: make sure the error carries it.

        A process that exits at once can be gone before its output was read; wait for that, then quote it.
        """
        error = outcome.get("error")
        if not isinstance(error, dict) or error.get("code") not in LAST_WORDS_CODES or error.get("stderr_tail"):
            return outcome
        slot = live.slot
        if slot.runner is not None:
            await slot.runner.settle(LAST_WORDS_SECONDS)
        tail = slot.output_tail()
        return {**outcome, "error": {**error, "stderr_tail": tail}} if tail else outcome

    def _in_background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _artefacts_dir(self, run_id: str) -> str | None:
        record = await self.host.store.aget(run_id)
        return record.artefacts_dir if record is not None else None

    def _http_base(self, ctx: ServerRequestContext[Any, Any]) -> str | None:
        base = getattr(ctx.request, "base_url", None)
        return f"{str(base).rstrip('/')}{self.prefix}" if base is not None else None

    async def _list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        # Run files are reached through the links in tool results (and the templates), not listed here.
        return types.ListResourcesResult(resources=[])

    async def _list_resource_templates(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=list(resources.TEMPLATES))

    async def _read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        self._remember(ctx)
        return await resources.read_resource(self.host, params.uri)

    async def drain(self) -> None:
        """Wait for cancellations still being carried out (at shutdown)."""
        if self._background:
            with contextlib.suppress(Exception):
                await asyncio.wait(set(self._background))
