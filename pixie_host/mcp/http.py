"""The host's ``<prefix>/mcp`` endpoint: MCP over streamable HTTP, mounted into the host's FastAPI app.

The SDK's session manager serves both protocol eras on one URL (handshake sessions with an
``Mcp-Session-Id`` and a GET stream for notifications, and 2026-07-28 single-exchange POSTs).
It is started on the first request to ``/mcp``, in a task of its own that lives until the app
stops: importing the SDK costs a host about 25 MB and a good part of a second, which a host no
agent talks to should not pay. ``mount`` adds a part to ``app.state.lifespans`` (entered by
``pixie_host.api.create_app``'s lifespan once the host has started) that rescans the served
folders for the life of the app, and stops the session manager at the end.

Who may call it is the host's one policy (``pixie_host.security.AccessGuard``, around the whole
app): the ``Host`` header must name this host (DNS rebinding), a POST from another origin is
refused, and beyond loopback the bearer token is required. The SDK's own Host/Origin check is
therefore off: a second, narrower list would refuse what ``--allowed-host`` allows.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from pixie_host.host import Host
from pixie_host.reload import reloader_for

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

__all__ = ["SESSION_IDLE_SECONDS", "Endpoint", "mount"]

#: A handshake session with no request in flight and no GET stream open this long is closed; its client
#: starts a new one. An agent may sit idle between calls for a while, so this is long.
SESSION_IDLE_SECONDS = 30 * 60.0


class Endpoint:
    """The ``/mcp`` ASGI app: the MCP server and its session manager, made and started on the first request."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._ready: asyncio.Future[StreamableHTTPSessionManager] | None = None
        self._serving: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = await self._manager()
        await manager.handle_request(scope, receive, send)

    async def _manager(self) -> StreamableHTTPSessionManager:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._serving = asyncio.create_task(self._serve(self._ready), name="pixie-mcp-http")
        return await asyncio.shield(self._ready)

    async def _serve(self, ready: asyncio.Future[StreamableHTTPSessionManager]) -> None:
        # Its own task: the session manager's task group (every session) must be entered and left in one.
        try:
            # In a thread: building the SDK's models takes long enough to hold up the host's other requests.
            await asyncio.to_thread(importlib.import_module, "pixie_host.mcp.server")
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
            from mcp.server.transport_security import TransportSecuritySettings

            from pixie_host.mcp.server import PixieMCP

            mcp = PixieMCP(self.host, prefix=self.host.settings.clean_prefix)
            manager = StreamableHTTPSessionManager(
                app=mcp.server,
                security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
                session_idle_timeout=SESSION_IDLE_SECONDS,
            )
        except BaseException as exc:
            ready.set_exception(exc)
            raise
        reloader = reloader_for(self.host)
        async with manager.run():
            unsubscribe = reloader.subscribe(mcp.announce_tools_changed)
            ready.set_result(manager)
            try:
                await self._stop.wait()
            finally:
                unsubscribe()
                mcp.close()
        await mcp.drain()

    async def aclose(self) -> None:
        """Stop the session manager (every session and listen stream) if it was started."""
        self._stop.set()
        if self._serving is not None:
            await asyncio.gather(self._serving, return_exceptions=True)


def mount(app: FastAPI, host: Host) -> None:
    """Serve the host's tools over MCP at ``<prefix>/mcp`` (called by ``create_app`` for every extension)."""
    endpoint = Endpoint(host)
    # First among the routes: an extension mounted before (the web UI) may serve everything under the prefix.
    app.router.routes.insert(0, Route(f"{host.settings.clean_prefix}/mcp", endpoint=endpoint, name="mcp"))
    app.state.mcp = endpoint
    parts: list[Callable[[], AbstractAsyncContextManager[None]]] = app.state.lifespans
    parts.append(lambda: _serving(endpoint))


@asynccontextmanager
async def _serving(endpoint: Endpoint) -> AsyncIterator[None]:
    # Rescans for the life of the app, MCP client or not: /api/tools follows the folders too.
    reloader = reloader_for(endpoint.host)
    await reloader.start()
    try:
        yield
    finally:
        await endpoint.aclose()
        await reloader.stop()
