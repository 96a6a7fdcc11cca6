"""make_tool_app in-process (Starlette's TestClient): body forms, errors, outputs, streaming, cancel."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pixie_sdk import RunContext, RunInput, ToolError, make_tool_app
from pixie_sdk.runbody import build_run_request
from pixie_sdk.stream import SSEDecoder, StreamEvent

TEXT_OUT = {"key": "out", "type": "text", "label": "Out"}


def tool_dir(tmp_path: Path, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]], **top: Any) -> Path:
    folder = tmp_path / "t"
    folder.mkdir(exist_ok=True)
    manifest = {"id": "t", "name": "T", "inputs": inputs, "outputs": outputs, **top}
    (folder / "tool.json").write_text(json.dumps(manifest, indent=2))
    return folder


def echo_tool(tmp_path: Path, **top: Any) -> TestClient:
    folder = tool_dir(tmp_path, [{"key": "n", "type": "number", "label": "N", "max": 10}], [TEXT_OUT], **top)
    app = make_tool_app(folder, lambda inputs: {"out": f"n={inputs.n}"})
    return TestClient(app)


def test_schema_is_served_verbatim(tmp_path: Path) -> None:
    client = echo_tool(tmp_path)
    assert client.get("/schema").content == (tmp_path / "t" / "tool.json").read_bytes()
    assert client.get("/healthz").json() == {"ok": True}


def test_nested_and_flat_bodies_give_the_same_outputs(tmp_path: Path) -> None:
    client = echo_tool(tmp_path)
    nested = client.post("/run", json=build_run_request({"n": 3}).body)
    flat = client.post("/run", json={"n": 3})
    assert nested.status_code == flat.status_code == 200
    assert nested.json() == flat.json() == {"out": "n=3.0"}


def test_wrong_type_is_a_422_naming_the_field(tmp_path: Path) -> None:
    reply = echo_tool(tmp_path).post("/run", json={"inputs": {"n": "three"}})
    assert reply.status_code == 422
    body = reply.json()
    assert body["code"] == "invalid_inputs"
    assert body["detail"][0]["loc"] == ["body", "inputs", "n"]
    assert "number" in body["detail"][0]["msg"]


def test_out_of_range_and_missing_required_are_422(tmp_path: Path) -> None:
    client = echo_tool(tmp_path)
    too_big = client.post("/run", json={"inputs": {"n": 11}}).json()
    assert too_big["detail"][0]["msg"] == "Input should be at most 10"
    missing = client.post("/run", json={"inputs": {}}).json()
    assert missing["detail"][0] == {"loc": ["body", "inputs", "n"], "msg": "Field required", "type": "missing"}


def test_tool_error_becomes_the_4xx_envelope(tmp_path: Path) -> None:
    def refuse(inputs: RunInput) -> dict[str, Any]:
        raise ToolError("the rate must be positive", code="bad_rate", status_code=400)

    app = make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), refuse)
    reply = TestClient(app).post("/run", json={"inputs": {}})
    assert reply.status_code == 400
    assert reply.json() == {"detail": "the rate must be positive", "code": "bad_rate"}


def test_crash_is_a_500_json_and_the_next_run_works(tmp_path: Path) -> None:
    calls = []

    def flaky(inputs: RunInput) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return {"out": "fine"}

    client = TestClient(make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), flaky), raise_server_exceptions=False)
    first = client.post("/run", json={})
    assert first.status_code == 500
    assert first.json()["code"] == "handler_error" and "RuntimeError: boom" in first.json()["detail"]
    assert "traceback" not in first.json()
    assert client.post("/run", json={}).json() == {"out": "fine"}


def test_dev_mode_adds_the_traceback(tmp_path: Path) -> None:
    def crash(inputs: RunInput) -> dict[str, Any]:
        raise KeyError("missing")

    client = TestClient(make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), crash, dev=True))
    body = client.post("/run", json={}).json()
    assert "Traceback" in body["traceback"] and "KeyError" in body["traceback"]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({}, "output `out` (text) is missing"),
        ({"out": 3}, "output `out` (text)"),
        ({"out": "x", "extra": 1}, "output `extra` is not declared"),
        (["out"], "returned a list"),
    ],
)
def test_a_bad_result_is_a_500_naming_the_output(tmp_path: Path, result: Any, expected: str) -> None:
    client = TestClient(make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), lambda inputs: result))
    reply = client.post("/run", json={})
    assert reply.status_code == 500
    assert reply.json()["code"] == "invalid_output"
    assert expected in reply.json()["detail"]


def test_nan_cannot_leave_as_json(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, [], [{"key": "n", "type": "number", "label": "N"}])
    reply = TestClient(make_tool_app(folder, lambda inputs: {"n": float("nan")})).post("/run", json={})
    assert reply.status_code == 500
    assert reply.json()["code"] == "invalid_output"
    assert "NaN" in reply.json()["detail"] or "JSON" in reply.json()["detail"]


def test_kv_is_emitted_in_canonical_form(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, [], [{"key": "facts", "type": "kv", "label": "Facts"}])
    client = TestClient(make_tool_app(folder, lambda inputs: {"facts": {"a": 1}}))
    assert client.post("/run", json={}).json() == {"facts": {"pairs": {"a": 1}}}


def test_async_handler_and_context(tmp_path: Path) -> None:
    async def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        return {"out": ctx.run_id}

    client = TestClient(make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), handler))
    request = build_run_request({}, run_id="run-123")
    assert client.post("/run", json=request.body, headers=request.headers).json() == {"out": "run-123"}


def test_artefacts_dir_comes_from_the_body(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, [], [{"key": "f", "type": "file", "label": "F"}])
    arte = tmp_path / "artefacts" / "r1"

    def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        ref = ctx.artefact("report.csv", "a,b\n1,2\n")
        return {"f": {"filename": "report.csv", "data": ref, "mime_type": "text/csv"}}

    client = TestClient(make_tool_app(folder, handler))
    reply = client.post("/run", json=build_run_request({}, run_id="r1", artefacts_dir=arte).body).json()
    assert reply["f"]["data"] == {"artefact": "report.csv", "mime_type": "text/csv"}
    assert (arte / "report.csv").read_text() == "a,b\n1,2\n"


def test_file_input_arrives_the_same_by_json_and_multipart(tmp_path: Path) -> None:
    inputs = [{"key": "doc", "type": "file", "label": "Doc", "accept": ".csv"}]
    seen: list[tuple[str, str, bytes]] = []

    def handler(inputs: RunInput) -> dict[str, Any]:
        seen.append((inputs.doc.name, inputs.doc.mime_type, inputs.doc.data))
        return {"out": "ok"}

    for transport in ("json", "multipart"):
        folder = tool_dir(tmp_path, inputs, [TEXT_OUT], input_transport=transport)
        app = make_tool_app(folder, handler)
        request = build_run_request({"doc": "data:text/csv;name=a.csv;base64,YSxiCg=="}, manifest=app.manifest)
        client = TestClient(app)
        if request.multipart:
            files = [(p.field, (p.filename, p.data, p.mime_type)) for p in request.files]
            reply = client.post("/run", data={"payload": json.dumps(request.body)}, files=files)
        else:
            reply = client.post("/run", json=request.body)
        assert reply.status_code == 200, reply.text
        body, headers = request.encode()  # the wire form the host sends: the same file arrives
        assert client.post("/run", content=body, headers=headers).status_code == 200
    assert seen == [("a.csv", "text/csv", b"a,b\n")] * 4


def test_show_if_hides_and_exempts_an_input(tmp_path: Path) -> None:
    inputs = [
        {"key": "mode", "type": "select", "label": "M", "default": "a",
         "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        {"key": "detail", "type": "text", "label": "D", "show_if": {"key": "mode", "equals": "b"}},
    ]  # fmt: skip
    client = TestClient(make_tool_app(tool_dir(tmp_path, inputs, [TEXT_OUT]), lambda i: {"out": repr(i.detail)}))
    assert client.post("/run", json={"inputs": {"mode": "a", "detail": "ignored"}}).json() == {"out": "None"}
    assert client.post("/run", json={"inputs": {"mode": "b"}}).status_code == 422
    assert client.post("/run", json={"inputs": {"mode": "b", "detail": "x"}}).json() == {"out": "'x'"}


def _events(client: TestClient, run_id: str) -> list[StreamEvent]:
    decoder = SSEDecoder()
    with client.stream("GET", "/stream", params={"run_id": run_id}) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        payloads = [p for chunk in reply.iter_bytes() for p in decoder.feed(chunk)]
    return [StreamEvent.model_validate_json(p) for p in payloads]


def test_streaming_run_returns_placeholders_then_streams_events(tmp_path: Path) -> None:
    outputs = [{"key": "story", "type": "stream_text", "label": "S", "streaming": True},
               {"key": "progress", "type": "progress", "label": "P"}]  # fmt: skip

    def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        for word in ("once ", "upon ", "a time"):
            ctx.emit("story", word)
        ctx.progress(1.0, "done")
        return {}

    with TestClient(make_tool_app(tool_dir(tmp_path, [], outputs), handler)) as client:
        request = build_run_request({}, run_id="s1")
        assert client.post("/run", json=request.body).json() == {"story": "", "progress": None}
        events = _events(client, "s1")
    assert [e.value for e in events if e.output_key == "story"] == ["once ", "upon ", "a time"]
    final = events[-1]
    assert final.done and final.status == "ok"
    assert final.outputs == {"story": "once upon a time", "progress": {"value": 1.0, "label": "done"}}


def test_stream_of_an_unknown_run_is_404(tmp_path: Path) -> None:
    reply = echo_tool(tmp_path).get("/stream", params={"run_id": "nope"})
    assert reply.status_code == 404 and "nope" in reply.json()["detail"]


def test_cancel_stops_a_running_handler(tmp_path: Path) -> None:
    outputs = [{"key": "story", "type": "stream_text", "label": "S", "streaming": True}]
    started = threading.Event()

    def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        started.set()
        for _ in range(200):
            ctx.sleep_sync(0.05)
            ctx.emit("story", ".")
        return {}

    # One event loop for the whole test (the context manager), as in a real server.
    with TestClient(make_tool_app(tool_dir(tmp_path, [], outputs), handler)) as client:
        client.post("/run", json=build_run_request({}, run_id="c1").body)
        assert started.wait(5)
        assert client.post("/cancel", params={"run_id": "c1"}).json() == {"cancelled": True}
        final = _events(client, "c1")[-1]
        assert final.done and final.status == "cancelled"
        assert client.post("/cancel", params={"run_id": "c1"}).json() == {"cancelled": False}
        assert client.post("/cancel", params={"run_id": "never"}).json() == {"cancelled": False}


def test_not_concurrent_tools_run_one_at_a_time(tmp_path: Path) -> None:
    active, peak = [0], [0]
    lock = threading.Lock()

    def handler(inputs: RunInput) -> dict[str, Any]:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return {"out": "ok"}

    replies: list[int] = []
    with TestClient(make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT], concurrent=False), handler)) as client:

        def post() -> None:
            replies.append(client.post("/run", json={}).status_code)

        threads = [threading.Thread(target=post) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert replies == [200] * 4
    assert peak[0] == 1


def test_handler_registered_twice_by_decorator(tmp_path: Path) -> None:
    app = make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]))
    assert TestClient(app).post("/run", json={}).json()["code"] == "no_handler"

    @app.handler
    def run(inputs: RunInput) -> dict[str, Any]:
        return {"out": "decorated"}

    assert TestClient(app).post("/run", json={}).json() == {"out": "decorated"}
    with pytest.raises(TypeError, match="takes"):
        app.handler(lambda: None)


def test_quiet_streams_carry_heartbeats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pixie_sdk._runs

    monkeypatch.setattr(pixie_sdk._runs, "HEARTBEAT_SECONDS", 0.05)
    outputs = [{"key": "story", "type": "stream_text", "label": "S", "streaming": True}]

    def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        time.sleep(0.3)
        return {"story": "late"}

    with TestClient(make_tool_app(tool_dir(tmp_path, [], outputs), handler)) as client:
        client.post("/run", json=build_run_request({}, run_id="hb").body)
        raw = client.get("/stream", params={"run_id": "hb"}).text
    assert raw.count(": ping") >= 2
    assert '"done":true' in raw and '"story":"late"' in raw


def test_sync_handlers_run_off_the_event_loop(tmp_path: Path) -> None:
    started = threading.Event()

    def slow(inputs: RunInput) -> dict[str, Any]:
        started.set()
        time.sleep(2)
        return {"out": "done"}

    with TestClient(make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), slow)) as client:
        worker = threading.Thread(target=client.post, args=("/run",), kwargs={"json": {}})
        worker.start()
        assert started.wait(5)
        assert client.get("/healthz").json() == {"ok": True}
        still_running = worker.is_alive()  # the loop answered while the handler still slept
        worker.join()
    assert still_running


def test_nan_and_infinity_inputs_are_refused(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, [{"key": "n", "type": "number", "label": "N"}], [TEXT_OUT])
    client = TestClient(make_tool_app(folder, lambda inputs: {"out": "x"}))
    for bad in ("NaN", "Infinity"):
        reply = client.post(
            "/run", content=f'{{"inputs": {{"n": {bad}}}}}', headers={"content-type": "application/json"}
        )
        assert reply.status_code == 422, bad


def test_stream_carries_library_types(tmp_path: Path) -> None:
    import datetime as dt

    outputs = [{"key": "story", "type": "stream_text", "label": "S", "streaming": True},
               {"key": "when", "type": "text", "label": "W"}]  # fmt: skip

    def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        with pytest.raises(ValueError, match="cannot be sent as JSON"):
            ctx.emit("story", float("nan"))
        ctx.emit("story", "ok")
        return {"when": "2026-01-01", "story": "ok"}

    with TestClient(make_tool_app(tool_dir(tmp_path, [], outputs), handler)) as client:
        client.post("/run", json=build_run_request({}, run_id="lib").body)
        final = _events(client, "lib")[-1]
    assert final.status == "ok" and final.outputs == {"story": "ok", "when": "2026-01-01"}
    assert dt.date.fromisoformat(final.outputs["when"])


def test_a_queued_cancelled_run_ends_and_never_starts(tmp_path: Path) -> None:
    outputs = [{"key": "story", "type": "stream_text", "label": "S", "streaming": True}]
    starts: list[str] = []

    async def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        starts.append(ctx.run_id)
        await ctx.sleep(0.3)
        return {"story": "done"}

    folder = tool_dir(tmp_path, [], outputs, concurrent=False)
    with TestClient(make_tool_app(folder, handler)) as client:
        client.post("/run", json=build_run_request({}, run_id="first").body)
        client.post("/run", json=build_run_request({}, run_id="queued").body)
        assert client.post("/cancel", params={"run_id": "queued"}).json() == {"cancelled": True}
        assert _events(client, "queued")[-1].status == "cancelled"
        assert _events(client, "first")[-1].status == "ok"
        assert client.post("/run", json=build_run_request({}, run_id="queued").body).status_code == 200
        _events(client, "queued")
    assert starts == ["first", "queued"]


def test_input_keys_that_shadow_methods_still_work(tmp_path: Path) -> None:
    inputs = [{"key": k, "type": "text", "label": k} for k in ("get", "as_dict", "json", "my-key")]
    app = make_tool_app(tool_dir(tmp_path, inputs, [TEXT_OUT]), lambda i: {"out": i["get"] + i["my-key"] + i["json"]})
    reply = TestClient(app).post("/run", json={"inputs": {"get": "a", "as_dict": "b", "json": "c", "my-key": "d"}})
    assert reply.json() == {"out": "adc"}


def test_an_echoed_run_id_is_dropped(tmp_path: Path) -> None:
    client = TestClient(make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), lambda i: {"out": "x", "run_id": "r"}))
    assert client.post("/run", json={}).json() == {"out": "x"}


def test_file_endpoint_serves_a_runs_artefacts_only(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, [], [{"key": "f", "type": "file", "label": "F"}], provides_file_endpoint=True)

    def handler(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
        return {"f": {"filename": "r.txt", "data": ctx.artefact("r.txt", "hello"), "mime_type": "text/plain"}}

    with TestClient(make_tool_app(folder, handler)) as client:
        client.post("/run", json=build_run_request({}, run_id="f1", artefacts_dir=tmp_path / "a").body)
        assert client.get("/files/f1/r.txt").text == "hello"
        assert client.get("/files/f1/../../tool.json").status_code == 404
        assert client.get("/files/nope/r.txt").status_code == 404


def test_autocomplete_serves_suggestions(tmp_path: Path) -> None:
    app = make_tool_app(tool_dir(tmp_path, [], [TEXT_OUT]), lambda i: {"out": "x"})

    @app.autocomplete("fruit")
    def fruit(q: str) -> dict[str, Any]:
        return {"results": [f for f in ("apple", "grape") if q in f]}

    client = TestClient(app)
    assert client.get("/autocomplete/fruit", params={"q": "ap"}).json() == [
        {"value": "apple", "label": "apple"}, {"value": "grape", "label": "grape"}]  # fmt: skip
    assert client.get("/autocomplete/veg").status_code == 404
