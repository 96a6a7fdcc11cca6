"""``pixie mcp PATH...``: serve tools to an MCP client, over stdio (the default) or streamable HTTP.

Over stdio the client spawns the command (see ``docs/mcp.md`` for the one line of client
configuration); ``--transport http`` runs the whole host (the JSON API, and MCP at
``<prefix>/mcp``), as ``pixie serve`` does. Registered in ``pixie_host.cli``.
"""

from __future__ import annotations

import asyncio
import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pixie_host.catalog import Catalog, discover
from pixie_host.host import DEFAULT_PORT, Host, HostSettings, is_loopback
from pixie_host.store import default_data_dir
from pixie_validate.findings import ExitCode

__all__ = ["Transport", "mcp_command"]


class Transport(enum.StrEnum):
    STDIO = "stdio"
    HTTP = "http"


def _fail(message: str, code: ExitCode) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(int(code))


def mcp_command(
    paths: Annotated[list[Path], typer.Argument(help="Tool folders, or folders of tools.")],
    transport: Annotated[
        Transport, typer.Option("--transport", "-t", help="stdio (spawned by the client) or http (at /mcp).")
    ] = Transport.STDIO,
    host: Annotated[str, typer.Option("--host", help="With --transport http: interface to bind (loopback).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", "-p", help="With --transport http: port (0: any free port).")] = (
        DEFAULT_PORT
    ),
    prefix: Annotated[str, typer.Option("--prefix", help="With --transport http: URL prefix, e.g. /pixie.")] = "",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Run history, logs and artefacts (default: the user's).")
    ] = None,
    python: Annotated[str | None, typer.Option("--python", help="Interpreter for every tool (default: its .venv).")] = (
        None
    ),
    sync: Annotated[bool, typer.Option("--sync", help="Run `uv sync` in each tool folder before its first start.")] = (
        False
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="With --transport http: start-up object and NDJSON events on stdout.")
    ] = False,
    warm_cap: Annotated[int, typer.Option("--warm-cap", min=1, help="Tools kept running at once (LRU beyond).")] = 5,
    queue_limit: Annotated[
        int, typer.Option("--queue-limit", min=1, help="Runs that may wait for a `concurrent: false` tool.")
    ] = 64,
) -> None:
    """Serve tools to an AI agent over the Model Context Protocol: one MCP tool per Pixie tool."""
    for path in paths:
        if not path.exists():
            raise _fail(f"`{path}` does not exist", ExitCode.USAGE)
    if not list(discover(paths)):
        raise _fail(f"no tool folders (with a tool.json) under {', '.join(map(str, paths))}", ExitCode.USAGE)
    if not is_loopback(host):
        raise _fail(
            f"--host {host} would expose the tools beyond this machine; bind 127.0.0.1 and use an SSH tunnel",
            ExitCode.USAGE,
        )
    settings = HostSettings(
        paths=paths,
        host=host,
        port=port,
        prefix=prefix,
        data_dir=data_dir or default_data_dir(),
        python=python,
        sync=sync,
        warm_cap=warm_cap,
        queue_limit=queue_limit,
    )
    catalog = Catalog.load(paths)
    for problem in [e.error for e in catalog if e.error] + catalog.problems:
        sys.stderr.write(f"warning: {problem}\n")
    instance = Host(settings, catalog)
    if transport is Transport.STDIO:
        from pixie_host.mcp.stdio import serve_stdio

        asyncio.run(serve_stdio(instance))
        return
    from pixie_host.server import AddressInUse, serve

    try:
        serve(instance, as_json=as_json, open_browser=False)
    except AddressInUse as exc:
        instance.store.close()
        sys.stderr.write(json.dumps(exc.body()) + "\n")
        raise typer.Exit(int(ExitCode.ADDRESS_IN_USE)) from None
