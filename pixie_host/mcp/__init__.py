"""Pixie tools for AI agents: every tool the host runs, callable over the Model Context Protocol.

``pixie mcp PATH...`` serves them over stdio (``pixie_host.mcp.cli``); ``pixie serve`` mounts
streamable HTTP at ``<prefix>/mcp`` (``mount``, in ``pixie_host.mcp.http``). The protocol is the
official ``mcp`` SDK's; ``docs/mcp.md`` says how to register the tools with a client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from pixie_host.host import Host

__all__ = ["mount"]


def mount(app: FastAPI, host: Host) -> None:
    """Serve the host's tools over MCP at ``<prefix>/mcp`` (``pixie_host.api.create_app`` calls it)."""
    # Imported here: the SDK is only needed once an app is built, not by every `pixie` command.
    from pixie_host.mcp.http import mount as mount_http

    mount_http(app, host)
