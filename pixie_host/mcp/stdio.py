"""``pixie mcp`` over stdio: the transport desktop clients spawn, one client on stdin and stdout.

stdout carries only the protocol: the SDK points fd 1 at stderr while it serves, tool processes
never inherit the host's stdin or stdout, and the host's lifecycle events go to stderr (which
clients keep as the server's log). The run ends when the client closes stdin, or on SIGTERM
or SIGINT; either way the tools are stopped and the runs still going are recorded as interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from typing import TextIO

from mcp.server.stdio import stdio_server

from pixie_host.host import Host
from pixie_host.mcp.server import PixieMCP
from pixie_host.reload import reloader_for
from pixie_sdk.types import JSONObject

__all__ = ["serve_stdio"]


def _log_event(out: TextIO) -> Callable[[JSONObject], None]:
    """Lifecycle events as one readable line each (a client keeps stderr as the server's log)."""

    def write(event: JSONObject) -> None:
        extra = " ".join(
            f"{k}={v}" for k, v in event.items() if k not in ("event", "tool", "ts", "stderr_tail", "argv") and v
        )
        out.write(f"[pixie] {event['tool']}: {event['event']} {extra}".rstrip() + "\n")
        out.flush()

    return write


async def serve_stdio(host: Host) -> None:
    """Serve the host's tools to the one client on stdin/stdout until it goes away."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, main.cancel)
    host.events.subscribe(_log_event(sys.stderr))
    mcp = PixieMCP(host)
    reloader = reloader_for(host)
    await host.start()
    try:
        unsubscribe = reloader.subscribe(mcp.announce_tools_changed)
        await reloader.start()
        try:
            async with stdio_server() as (read_stream, write_stream):
                await mcp.server.run(read_stream, write_stream, mcp.initialization_options())
        finally:
            unsubscribe()
            mcp.close()
            await reloader.stop()
            await mcp.drain()
    except asyncio.CancelledError:
        main.uncancel()  # a signal: stop as at the end of stdin (and let later timeouts count right)
    finally:
        await host.stop()
