"""``pixie serve``'s ``/mcp`` over streamable HTTP, driven by the SDK's client: list, call, stream, cancel, fail."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import anyio
import httpx
import jsonschema
import mcp_types as types
import pytest
from mcp import MCPError

from pixie_host.mcp.summary import MAX_TEXT_CHARS
from pixie_sdk.json_schema import input_schema, output_schema
from pixie_sdk.manifest import load_manifest
from pixie_sdk.output_specs import OUTPUT_TYPES
from pixie_sdk.samples import sample_inputs
from pixie_validate.checks.portability import judge
from tests.host.conftest import EXAMPLES, HostProcess
from tests.mcp.conftest import MODES, client

pytestmark = [pytest.mark.subprocess, pytest.mark.anyio]

#: Keywords the strict function-calling dialects reject outright (composition, conditionals, tuples, maps).
STRICT_REJECTED = {"allOf", "oneOf", "not", "if", "then", "else", "prefixItems", "patternProperties"}


def _keywords(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = set(schema)
        for key, value in schema.items():
            if key not in ("enum", "const", "default", "examples"):
                found |= _keywords(value)
        return found
    if isinstance(schema, list):
        return set().union(*(_keywords(item) for item in schema)) if schema else set()
    return set()


def _texts(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def _run_id(result: types.CallToolResult) -> str:
    assert result.meta is not None
    return str(result.meta["pixie/run"]["id"])


async def test_every_tool_is_listed_with_schemas_their_samples_fit(examples_host: HostProcess) -> None:
    async with client(examples_host) as mcp:
        listed = {tool.name: tool for tool in (await mcp.list_tools()).tools}
        assert mcp.server_capabilities.tools is not None and mcp.server_capabilities.tools.list_changed
    folders = sorted(p for p in EXAMPLES.iterdir() if (p / "tool.json").is_file())
    assert sorted(listed) == sorted(load_manifest(f).id for f in folders)
    for folder in folders:
        manifest = load_manifest(folder)
        tool = listed[manifest.id]
        assert re.match(r"^[a-zA-Z0-9_-]{1,64}$", tool.name)
        assert tool.title == manifest.name and tool.description
        # The same derivation validator check 20 judges, and nothing in it that check 20 reports for MCP.
        assert tool.input_schema == input_schema(manifest)
        assert tool.output_schema == output_schema(manifest)
        assert not [v for v in judge(manifest) if v.rule.vendor == "MCP"]
        assert not _keywords(tool.input_schema) & STRICT_REJECTED
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        jsonschema.Draft202012Validator(tool.input_schema).validate(sample_inputs(manifest))
    interest = listed["compound-interest"]
    principal = interest.input_schema["properties"]["principal"]
    assert principal["minimum"] == 0 and principal["default"] == 10000 and "GBP" in principal["description"]
    assert interest.input_schema["properties"]["compounding"]["enum"] == [1, 4, 12]
    assert "Final value (number, GBP)" in str(interest.description)
    sink = listed["kitchen-sink"].input_schema["properties"]
    assert sink["data_file"]["type"] == "string" and sink["data_file"]["pattern"].startswith("^data:")


@pytest.mark.parametrize("mode", MODES)
async def test_the_small_example_gives_structured_outputs_and_readable_text(
    examples_host: HostProcess, mode: str
) -> None:
    inputs = {"principal": 1000, "rate": 5, "years": 10}
    async with client(examples_host, mode) as mcp:
        result = await mcp.call_tool("compound-interest", inputs)  # the client checks it against outputSchema
    assert not result.is_error
    direct = examples_host.run("compound-interest", inputs).json()
    assert result.structured_content == direct["outputs"]
    text = _texts(result)
    assert "**Final value**: 1,647.01 GBP" in text
    assert "| Year | Balance | Interest |" in text and "| 10 | 1,647.01 | 80.16 |" in text
    assert "11 points in 1 series (x: Year, y: Balance)" in text
    record = examples_host.record(_run_id(result))
    assert record["source"] == "mcp" and record["status"] == "ok" and record["outputs"] == result.structured_content


async def test_the_kitchen_sink_maps_every_output_type(examples_host: HostProcess) -> None:
    manifest = load_manifest(EXAMPLES / "kitchen-sink")
    assert sorted(o.type for o in manifest.outputs) == sorted(OUTPUT_TYPES)
    async with client(examples_host) as mcp:
        result = await mcp.call_tool("kitchen-sink", {})
    assert not result.is_error and isinstance(result.structured_content, dict)
    assert set(result.structured_content) == {o.key for o in manifest.outputs}
    kinds = [block.type for block in result.content]
    # One image, four in the grid, two compared; one audio; links for the video (a URL) and the file.
    assert kinds.count("image") == 7 and kinds.count("audio") == 1
    links = {block.title: block for block in result.content if isinstance(block, types.ResourceLink)}
    assert set(links) == {"Video", "Download"}
    assert str(links["Video"].uri).startswith("https://")
    assert str(links["Download"].uri).startswith("pixie://runs/") and links["Download"].name == "order.csv"
    text = _texts(result)
    for spec in manifest.outputs:
        assert f"**{spec.label}**" in text, spec.key  # every output is introduced by its label
    assert "**Order total**: 36.75 GBP" in text and "**Within price range**: Yes" in text
    assert "| Item | Qty | Price | Total |" in text and "```python" in text and "$$" in text
    assert "4 nodes, 3 links, largest first:" in text
    assert all(len(b.text) < MAX_TEXT_CHARS + 500 for b in result.content if isinstance(b, types.TextContent))
    async with client(examples_host) as mcp:
        csv = await mcp.read_resource(str(links["Download"].uri))
    contents = csv.contents[0]
    assert isinstance(contents, types.TextResourceContents) and contents.text.startswith("item,")


async def test_files_are_links_read_over_mcp_or_from_the_host(examples_host: HostProcess) -> None:
    async with client(examples_host) as mcp:
        result = await mcp.call_tool("artefact-writer", {"rows": 500})
        assert not result.is_error
        link = next(b for b in result.content if isinstance(b, types.ResourceLink))
        assert str(link.uri) == f"pixie://runs/{_run_id(result)}/artefacts/table.csv" and link.mime_type == "text/csv"
        read = await mcp.read_resource(str(link.uri))
        with pytest.raises(MCPError, match="no artefact"):
            await mcp.read_resource(f"pixie://runs/{_run_id(result)}/artefacts/missing.csv")
    assert any(isinstance(b, types.ImageContent) and b.mime_type == "image/png" for b in result.content)
    served = httpx.get(link.meta["pixie/url"] if link.meta else "", timeout=10)  # the host serves the same file
    contents = read.contents[0]
    assert isinstance(contents, types.TextResourceContents)
    assert served.status_code == 200 and served.text == contents.text and contents.text.count("\n") == 501


@pytest.mark.parametrize("mode", MODES)
async def test_a_streaming_tool_reports_progress_in_order(examples_host: HostProcess, mode: str) -> None:
    seen: list[tuple[float, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, message))

    async with client(examples_host, mode) as mcp:
        result = await mcp.call_tool("streaming-story", {"sentences": 4, "topic": "owl"}, progress_callback=progress)
    assert not result.is_error and isinstance(result.structured_content, dict)
    assert [value for value, _ in seen] == list(range(1, len(seen) + 1))  # one per stream event, in order
    story = [m.removeprefix("Story: ") for _, m in seen if m and m.startswith("Story: ")]
    assert len(story) == 4 and story[0].startswith("Once upon a time there was a owl")
    assert " ".join(story) == result.structured_content["story"]
    assert [m for _, m in seen if m and m.startswith("Progress: ")][-1] == "Progress: 100%, sentence 4 of 4"


@pytest.mark.parametrize("mode", MODES)
async def test_cancelling_a_call_cancels_its_run(examples_host: HostProcess, mode: str) -> None:
    async with client(examples_host, mode) as mcp, anyio.create_task_group() as group:
        group.start_soon(mcp.call_tool, "slow-cancellable", {"seconds": 60})
        run = await anyio.to_thread.run_sync(_wait_running, examples_host, "slow-cancellable")
        group.cancel_scope.cancel()
    record = examples_host.wait_status(run["id"], "cancelled", "error", "ok")
    assert record["status"] == "cancelled" and record["source"] == "mcp"
    assert record["duration_ms"] < 30_000 and record["error"]["code"] == "cancelled"


def _wait_running(host: HostProcess, tool: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = host.client.get("/api/runs", params={"tool": tool, "status": "running"}).json()
        if runs:
            return dict(runs[0])
        time.sleep(0.02)
    raise AssertionError(f"no run of {tool} started")


async def test_errors_come_back_as_results_with_the_tools_own_detail(examples_host: HostProcess) -> None:
    async with client(examples_host) as mcp:
        bad = await mcp.call_tool("compound-interest", {"rate": 50, "years": "ten"})
        crashed = await mcp.call_tool("artefact-writer", {"crash": True})
        refused = await mcp.call_tool("artefact-writer", {"rows": 0})
        unknown = await mcp.call_tool("no-such-tool", {})
        still_fine = await mcp.call_tool("compound-interest", {})
    assert bad.is_error and bad.structured_content is None
    assert "`rate`: Input should be at most 20" in _texts(bad) and "`years`" in _texts(bad)
    assert crashed.is_error and "handler_error" in _texts(crashed) and "RuntimeError: boom" in _texts(crashed)
    assert refused.is_error and "rows must be at least 1" in _texts(refused)
    assert unknown.is_error and "compound-interest" in _texts(unknown)
    assert not still_fine.is_error
    for result, status in ((bad, "error"), (crashed, "error"), (refused, "error"), (still_fine, "ok")):
        record = examples_host.record(_run_id(result))
        assert record["source"] == "mcp" and record["status"] == status


async def test_the_run_history_shows_the_mcp_runs(examples_host: HostProcess) -> None:
    async with client(examples_host, "legacy") as mcp:
        ids = {_run_id(await mcp.call_tool("compound-interest", {"years": n})) for n in (1, 2)}
    runs = {r["id"]: r for r in examples_host.client.get("/api/runs", params={"tool": "compound-interest"}).json()}
    assert ids <= set(runs) and {runs[i]["source"] for i in ids} == {"mcp"}


def _rpc(host: HostProcess, body: dict[str, Any], headers: dict[str, str]) -> tuple[httpx.Response, dict[str, Any]]:
    reply = host.client.post("/mcp", json=body, headers={"Accept": "application/json, text/event-stream", **headers})
    data = [line[5:] for line in reply.text.splitlines() if line.startswith("data:")]
    return reply, json.loads(data[-1]) if data else {}


def test_an_older_client_gets_links_as_text(examples_host: HostProcess) -> None:
    """A 2025-03-26 client (no resource-link content yet; the SDK's client always speaks the latest) reads links."""
    init = {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}
    reply, _ = _rpc(examples_host, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}, {})
    session = {"Mcp-Session-Id": reply.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-03-26"}
    _rpc(examples_host, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    call = {"name": "artefact-writer", "arguments": {"rows": 2}}
    _, answer = _rpc(examples_host, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}, session)
    content = answer["result"]["content"]
    assert {block["type"] for block in content} == {"text", "image"}
    assert any(b["type"] == "text" and b["text"].startswith("CSV download (text/csv): pixie://runs/") for b in content)


async def test_pixie_mcp_serves_streamable_http_too(hosts) -> None:
    host = hosts([EXAMPLES / "compound-interest"], "--transport", "http", command="mcp")
    async with client(host) as mcp:
        assert [tool.name for tool in (await mcp.list_tools()).tools] == ["compound-interest"]
        result = await mcp.call_tool("compound-interest", {"years": 1, "compounding": 1})
    assert not result.is_error and "**Final value**: 10,500.00 GBP" in _texts(result)
    assert host.client.get("/api/tools").json()[0]["id"] == "compound-interest"  # the whole host, JSON API too
