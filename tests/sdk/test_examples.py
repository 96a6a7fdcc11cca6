"""Every example tool as a real process (``python main.py --port N``), driven over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from pixie_sdk.manifest import load_manifest
from pixie_sdk.output_specs import OUTPUT_TYPES
from pixie_sdk.runbody import build_run_request
from pixie_sdk.samples import sample_inputs
from pixie_sdk.shapes import check_outputs
from pixie_sdk.stream import SSEDecoder, StreamEvent, apply_event
from tests.conftest import EXAMPLES, RunningTool, free_port, start_tool

pytestmark = pytest.mark.subprocess

ALL_EXAMPLES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "tool.json").exists())
#: The contract: a tool whose parent (the host) died must be gone within 2 s.
ORPHAN_DEADLINE_SECONDS = 2.0


@pytest.fixture(scope="module")
def tools() -> Iterator[Callable[[str], RunningTool]]:
    """One process per example for the whole module, started on first use."""
    running: dict[str, RunningTool] = {}

    def get(name: str) -> RunningTool:
        if name not in running:
            running[name] = start_tool(EXAMPLES / name)
        return running[name]

    yield get
    for tool in running.values():
        tool.stop()


def run(tool: RunningTool, inputs: dict[str, object], **kwargs: object) -> httpx.Response:
    request = build_run_request(inputs, **kwargs)  # type: ignore[arg-type]
    with tool.client() as client:
        return client.post("/run", json=request.body, headers=request.headers)


def test_there_are_six_examples() -> None:
    assert {"compound-interest", "kitchen-sink", "streaming-story", "slow-cancellable", "artefact-writer",
            "bmi-fixtures"} <= set(ALL_EXAMPLES)  # fmt: skip


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_example_serves_the_contract(name: str, tools: Callable[[str], RunningTool]) -> None:
    tool = tools(name)
    manifest = load_manifest(tool.folder)
    with tool.client() as client:
        assert client.get("/healthz").json() == {"ok": True}
        schema = client.get("/schema")
        assert schema.headers["content-type"] == "application/json"
        assert schema.content == (tool.folder / "tool.json").read_bytes()
    reply = run(tool, sample_inputs(manifest) if name != "slow-cancellable" else {"seconds": 0.1})
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-pixie-run-id"]
    report = check_outputs(manifest, reply.json())
    assert report.ok and not report.undeclared, report


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_example_listens_on_loopback_only(name: str, tools: Callable[[str], RunningTool]) -> None:
    addresses = {c.laddr.ip for c in psutil.Process(tools(name).process.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}  # fmt: skip
    assert addresses == {"127.0.0.1"}


def test_nested_and_flat_bodies_agree(tools: Callable[[str], RunningTool]) -> None:
    tool = tools("compound-interest")
    inputs = {"principal": 10000, "rate": 5, "years": 10, "compounding": 12}
    nested = run(tool, inputs).json()
    with tool.client() as client:
        flat = client.post("/run", json=inputs).json()
    assert nested == flat
    assert nested["final_value"] == pytest.approx(10000 * (1 + 0.05 / 12) ** 120, abs=0.01)
    assert len(nested["growth_chart"]["x"]) == len(nested["growth_chart"]["series"][0]["y"]) == 11


def test_kitchen_sink_returns_every_output_type(tools: Callable[[str], RunningTool]) -> None:
    tool = tools("kitchen-sink")
    manifest = load_manifest(tool.folder)
    assert sorted(o.type for o in manifest.outputs) == sorted(OUTPUT_TYPES)
    assert len({i.type for i in manifest.inputs}) == 28
    outputs = run(tool, {}).json()
    assert set(outputs) == {o.key for o in manifest.outputs}
    assert check_outputs(manifest, outputs).ok


def test_wrong_type_is_422_naming_the_field(tools: Callable[[str], RunningTool]) -> None:
    reply = run(tools("compound-interest"), {"principal": "lots", "rate": 5, "years": 10})
    assert reply.status_code == 422
    body = reply.json()
    assert body["code"] == "invalid_inputs"
    assert ["body", "inputs", "principal"] in [d["loc"] for d in body["detail"]]


def test_tool_error_reaches_the_caller(tools: Callable[[str], RunningTool]) -> None:
    reply = run(tools("artefact-writer"), {"rows": 0})
    assert reply.status_code == 400
    assert reply.json()["code"] == "bad_rows"
    assert "rows must be at least 1" in reply.json()["detail"]


def test_crash_is_500_json_and_the_tool_keeps_serving(tools: Callable[[str], RunningTool]) -> None:
    tool = tools("artefact-writer")
    crash = run(tool, {"rows": 5, "crash": True})
    assert crash.status_code == 500
    assert crash.headers["content-type"] == "application/json"
    assert crash.json()["code"] == "handler_error" and "boom" in crash.json()["detail"]
    assert run(tool, {"rows": 5}).status_code == 200
    assert "RuntimeError: boom" in tool.stderr_tail()


def test_artefacts_land_in_the_hosts_folder(tools: Callable[[str], RunningTool], tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "r-art"
    reply = run(tools("artefact-writer"), {"rows": 3}, run_id="r-art", artefacts_dir=folder)
    assert reply.status_code == 200
    ref = reply.json()["table_file"]["data"]
    assert (folder / ref["artefact"]).is_file()


def _stream(tool: RunningTool, run_id: str) -> list[StreamEvent]:
    decoder = SSEDecoder()
    with tool.client() as client, client.stream("GET", "/stream", params={"run_id": run_id}) as reply:
        assert reply.status_code == 200
        payloads = [p for chunk in reply.iter_bytes() for p in decoder.feed(chunk)]
    return [StreamEvent.model_validate_json(p) for p in payloads]


def test_streaming_tool_streams_events_then_done(tools: Callable[[str], RunningTool]) -> None:
    tool = tools("streaming-story")
    manifest = load_manifest(tool.folder)
    reply = run(tool, {"topic": "owls", "sentences": 4, "delay": 0.01}, run_id="story-1")
    assert reply.status_code == 200
    assert reply.json()["story"] == ""  # placeholders: the run goes on in the background
    events = _stream(tool, "story-1")
    final = events[-1]
    assert final.done and final.status == "ok" and final.outputs is not None
    assert sum(1 for e in events if e.output_key == "story") == 4
    state: dict[str, object] = {}
    types = {o.key: o.type for o in manifest.outputs}
    for event in events[:-1]:
        apply_event(state, event, types)
    assert state["story"] == final.outputs["story"]
    assert "owls" in final.outputs["story"]
    assert final.outputs["words"]["x"] == [1, 2, 3, 4]
    assert check_outputs(manifest, final.outputs).ok


def test_unknown_stream_is_404(tools: Callable[[str], RunningTool]) -> None:
    with tools("streaming-story").client() as client:
        assert client.get("/stream", params={"run_id": "never-started"}).status_code == 404


def test_cancel_stops_a_slow_run(tools: Callable[[str], RunningTool]) -> None:
    tool = tools("slow-cancellable")
    result: dict[str, httpx.Response] = {}
    worker = threading.Thread(target=lambda: result.update(r=run(tool, {"seconds": 30}, run_id="slow-1")))
    started = time.monotonic()
    worker.start()
    with tool.client() as client:
        for _ in range(100):
            if client.post("/cancel", params={"run_id": "slow-1"}).json() == {"cancelled": True}:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never became cancellable")
    worker.join(10)
    assert time.monotonic() - started < 10
    assert result["r"].status_code == 409 and result["r"].json()["code"] == "cancelled"
    assert run(tool, {"seconds": 0.05}).status_code == 200


def test_taken_port_exits_4_with_a_readable_message(tools: Callable[[str], RunningTool]) -> None:
    port = tools("compound-interest").port
    proc = subprocess.run([sys.executable, "main.py", "--port", str(port)], cwd=EXAMPLES / "compound-interest",
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert proc.returncode == 4
    assert f"port {port} is already in use" in proc.stderr and "Traceback" not in proc.stderr


def test_port_is_required() -> None:
    proc = subprocess.run([sys.executable, "main.py"], cwd=EXAMPLES / "compound-interest",
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert proc.returncode == 2 and "--port" in proc.stderr


def test_sigterm_stops_the_tool_quickly() -> None:
    tool = start_tool(EXAMPLES / "compound-interest")
    started = time.monotonic()
    tool.process.send_signal(signal.SIGTERM)
    tool.process.wait(5)
    assert time.monotonic() - started < 5


PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "main.py", "--port", sys.argv[1]], cwd=sys.argv[2])
print(child.pid, flush=True)
time.sleep(600)
"""


def test_tool_exits_when_its_parent_is_killed() -> None:
    port = free_port()
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(port), str(EXAMPLES / "compound-interest")],
                              stdout=subprocess.PIPE, text=True, env={**os.environ})  # fmt: skip
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        parent.kill()  # the host dies without a chance to clean up
        parent.wait()
        killed = time.monotonic()
        # Gone, or a zombie: reaping an orphan is init's job, not the tool's, and can lag on a busy machine.
        while time.monotonic() - killed <= ORPHAN_DEADLINE_SECONDS + 1:
            try:
                if child.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.01)
        assert time.monotonic() - killed <= ORPHAN_DEADLINE_SECONDS
    finally:
        parent.stdout.close()
        if child.is_running():
            child.kill()


def test_schema_file_names_match_the_example_folders() -> None:
    for name in ALL_EXAMPLES:
        assert json.loads((EXAMPLES / name / "tool.json").read_text())["id"] == name
