"""``pixie mcp examples/...`` over stdio, spawned by the SDK's client as a desktop client spawns it."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import jsonschema
import mcp_types as types
import pytest

from pixie_host.store import RunStore, database_path
from pixie_sdk.manifest import load_manifest
from pixie_sdk.samples import sample_inputs
from tests.host.conftest import EXAMPLES, make_probe, pid_gone
from tests.mcp.conftest import CALL_SECONDS, stdio_client_for

pytestmark = [pytest.mark.subprocess, pytest.mark.anyio]

TOOLS = ("compound-interest", "streaming-story", "slow-cancellable", "artefact-writer")


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def _spawned_pids(stderr: Path) -> list[int]:
    return [int(m) for m in re.findall(r": spawned pid=(\d+)", stderr.read_text())]


async def test_the_desktop_transport_lists_calls_streams_reads_and_cancels(tmp_path: Path) -> None:
    extra = tmp_path / "extra"  # an empty folder of tools, served too: a tool dropped in later is announced
    extra.mkdir()
    data = tmp_path / "data"
    heard: list[object] = []

    async def on_message(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.append(message)

    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    paths = [EXAMPLES / name for name in TOOLS] + [extra]
    async with stdio_client_for(paths, data, "legacy", message_handler=on_message) as mcp:
        assert mcp.protocol_version == "2025-11-25"
        listed = {tool.name: tool for tool in (await mcp.list_tools()).tools}
        assert sorted(listed) == sorted(TOOLS)
        for name in TOOLS:
            schema = listed[name].input_schema
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.Draft202012Validator(schema).validate(sample_inputs(load_manifest(EXAMPLES / name)))

        interest = await mcp.call_tool("compound-interest", {"principal": 1000})
        assert not interest.is_error and "**Final value**: 1,647.01 GBP" in _text(interest)

        story = await mcp.call_tool("streaming-story", {"sentences": 3}, progress_callback=on_progress)
        assert not story.is_error and progress == list(range(1, len(progress) + 1)) and len(progress) == 9

        written = await mcp.call_tool("artefact-writer", {"rows": 3})
        link = next(b for b in written.content if isinstance(b, types.ResourceLink))
        assert link.meta is None  # no HTTP server here: the pixie:// link is read over this connection
        csv = (await mcp.read_resource(str(link.uri))).contents[0]
        assert isinstance(csv, types.TextResourceContents) and csv.text.startswith("n,degrees,sin,cos\n")

        bad = await mcp.call_tool("slow-cancellable", {"seconds": -1})
        assert bad.is_error and "`seconds`" in _text(bad)

        with anyio.move_on_after(1.5):  # long enough for the run to start, far short of its 60 s
            await mcp.call_tool("slow-cancellable", {"seconds": 60})

        make_probe(extra, "probe")
        with anyio.fail_after(CALL_SECONDS):
            while not heard:
                await anyio.sleep(0.02)
        assert "probe" in {tool.name for tool in (await mcp.list_tools(cache_mode="refresh")).tools}

    with RunStore(database_path(data)) as store:
        runs = store.list_runs(limit=20)
    assert {r.source for r in runs} == {"mcp"}
    by_tool = {r.tool_id: r for r in reversed(runs)}  # the latest run of each tool
    assert by_tool["slow-cancellable"].status == "cancelled"
    assert by_tool["slow-cancellable"].duration_ms is not None and by_tool["slow-cancellable"].duration_ms < 30_000
    assert by_tool["compound-interest"].status == "ok" and by_tool["streaming-story"].status == "ok"
    pids = _spawned_pids(tmp_path / "data-mcp.stderr")
    assert len(pids) == 4 and all(pid_gone(pid) for pid in pids)  # the tools stopped with the server


async def test_the_current_protocol_over_stdio(tmp_path: Path) -> None:
    seen: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    paths = [EXAMPLES / "compound-interest", EXAMPLES / "streaming-story"]
    async with stdio_client_for(paths, tmp_path / "data") as mcp:
        assert mcp.protocol_version == "2026-07-28"
        assert {tool.name for tool in (await mcp.list_tools()).tools} == {"compound-interest", "streaming-story"}
        result = await mcp.call_tool("compound-interest", {"years": 1, "compounding": 1})
        assert not result.is_error and isinstance(result.structured_content, dict)
        assert result.structured_content["final_value"] == 10500
        story = await mcp.call_tool("streaming-story", {"sentences": 2}, progress_callback=on_progress)
        assert not story.is_error and [m for m in seen if m and m.startswith("Story: ")][0].startswith("Story: Once")
