"""Tools appearing and disappearing under ``pixie serve``'s folders: the MCP tool list follows, clients hear of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp.client.subscriptions import ToolsListChanged

from tests.host.conftest import make_probe, pid_gone
from tests.mcp.conftest import CALL_SECONDS, client

pytestmark = [pytest.mark.subprocess, pytest.mark.anyio]


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def test_the_tool_list_follows_the_served_folders(hosts, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    make_probe(tools, "probe")
    make_probe(tools, "locked", secrets=[{"key": "LOCKED_TOKEN", "required": True}])
    host = hosts([tools])
    heard: list[object] = []  # what the handshake-era client was sent

    async def on_message(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.append(message)

    async def changed(before: int) -> None:
        """Both clients told of a change: the 2026 one on its listen stream, the handshake one on its GET stream."""
        with anyio.fail_after(CALL_SECONDS):
            assert isinstance(await anext(subscription), ToolsListChanged)
            while len(heard) <= before:
                await anyio.sleep(0.02)

    async def names() -> list[str]:
        return sorted(tool.name for tool in (await legacy.list_tools(cache_mode="refresh")).tools)

    async with (
        client(host, "legacy", message_handler=on_message) as legacy,
        client(host, "auto") as modern,
        modern.listen(tools_list_changed=True) as subscription,
    ):
        assert await names() == ["locked", "probe"]
        locked = await modern.call_tool("locked", {})
        assert locked.is_error and "locked did not run (secret_missing)" in _text(locked)
        assert "LOCKED_TOKEN=" in _text(locked)  # where to set it
        first = await legacy.call_tool("probe", {})
        assert not first.is_error and isinstance(first.structured_content, dict)
        pid = int(first.structured_content["pid"])

        make_probe(tools, "second")
        await changed(0)
        assert await names() == ["locked", "probe", "second"]
        assert not (await modern.call_tool("second", {})).is_error

        shutil.rmtree(tools / "probe")
        await changed(1)
        assert await names() == ["locked", "second"]
        assert pid_gone(pid)  # a dropped tool's process is stopped
        assert host.wait_event("stopped", "probe", lambda e: e.get("reason") == "removed")
        gone = await modern.call_tool("probe", {})
        assert gone.is_error and "No tool named 'probe'" in _text(gone)

        broken = make_probe(tools, "broken")
        (broken / "main.py").write_text("import pixie_module_that_does_not_exist\n")
        await changed(2)
        wont_start = await modern.call_tool("broken", {})
        assert wont_start.is_error
        assert "broken failed (tool_unavailable)" in _text(wont_start)
        assert "ModuleNotFoundError" in _text(wont_start)  # the tool's own output says why

        crashed = await legacy.call_tool("second", {"action": "crash"})
        assert crashed.is_error and "tool_crashed" in _text(crashed)
        assert "probe: crashing on purpose" in _text(crashed)
