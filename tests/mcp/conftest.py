"""MCP tests: real hosts (``pixie serve``, ``pixie mcp``) driven by the ``mcp`` SDK's own client.

Over streamable HTTP the client talks to ``pixie serve``'s ``/mcp``; over stdio it spawns
``pixie mcp`` itself, as a desktop client does. Both protocol eras are exercised: ``legacy``
(the initialize handshake, 2025-11-25, what desktop clients speak today) and ``auto`` (the
SDK's default, which settles on 2026-07-28 with this server).
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.host.conftest import EXAMPLES, ROOT, HostProcess, hosts, pid_gone, pixie_command, start_host  # noqa: F401

#: The protocol eras a test runs in: the handshake (desktop clients today) and the SDK's default.
MODES = ("legacy", "auto")
#: Bound for one MCP exchange in a test, tool start-up included; the tests assert what happened, not how fast.
CALL_SECONDS = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def examples_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    """One ``pixie serve examples`` for a whole test module (its tools stay warm between tests)."""
    host = start_host([EXAMPLES], tmp_path_factory.mktemp("mcp") / "data")
    try:
        yield host
    finally:
        pids = [e["pid"] for e in host.named("spawned") if e.get("pid")]
        host.stop()
        left = [pid for pid in pids if not pid_gone(pid)]
        for pid in left:
            os.killpg(pid, signal.SIGKILL)
        assert not left, f"tool processes {left} outlived their host"


def mcp_url(host: HostProcess) -> str:
    return f"{host.url}/mcp"


def client(host: HostProcess, mode: str = "auto", **options: Any) -> Client:
    """The SDK's client for a host's ``/mcp``, in a protocol era (``legacy`` or ``auto``)."""
    return Client(mcp_url(host), mode=mode, read_timeout_seconds=CALL_SECONDS, **options)


@asynccontextmanager
async def stdio_client_for(
    paths: list[Path], data_dir: Path, mode: str = "auto", **options: Any
) -> AsyncIterator[Client]:
    """``pixie mcp PATH... --data-dir DIR`` spawned by the SDK's stdio client; its stderr kept beside the data."""
    command = pixie_command("mcp", *map(str, paths), "--data-dir", str(data_dir))
    params = StdioServerParameters(command=command[0], args=command[1:], cwd=str(ROOT))
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with (data_dir.parent / f"{data_dir.name}-mcp.stderr").open("w") as errlog:
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, mode=mode, read_timeout_seconds=CALL_SECONDS, **options) as connected:
            yield connected
