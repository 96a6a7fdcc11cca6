"""Tools of every kind through the host: streaming relayed live and replayed, foreign tools' habits, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.host.conftest import EXAMPLES, FOREIGN, make_probe

pytestmark = pytest.mark.subprocess


def _sse(text: str) -> list[dict[str, object]]:
    return [json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")]


def test_a_streaming_run_is_relayed_in_canonical_form_and_replayed(hosts) -> None:
    host = hosts([EXAMPLES / "streaming-story"])
    with host.client.stream("POST", "/api/tools/streaming-story/runs", params={"stream": "true"},
                            json={"inputs": {"topic": "owls", "sentences": 3}}) as reply:  # fmt: skip
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        events = _sse(reply.read().decode())
    assert all(set(e) >= {"output_key", "value", "done"} for e in events)
    story = [e for e in events if e["output_key"] == "story"]
    assert len(story) >= 3  # one event per sentence, as they came
    final = events[-1]
    assert final["done"] is True and final["status"] == "ok"
    assert "owls" in str(final["outputs"]["story"])  # type: ignore[index]
    assert final["outputs"]["story"] == "".join(str(e["value"]) for e in story)  # type: ignore[index]

    run_id = host.wait_event("run_finished")["run_id"]
    record = host.record(run_id)
    assert record["status"] == "ok" and record["outputs"] == final["outputs"]
    replayed = _sse(host.client.get(f"/api/runs/{run_id}/events").text)
    assert [e["value"] for e in replayed if e["output_key"] == "story"] == [e["value"] for e in story]
    assert replayed[-1]["done"] is True and replayed[-1]["outputs"] == final["outputs"]

    # A plain (waiting) run of a streaming tool gets the final state too.
    plain = host.run("streaming-story", {"topic": "cats", "sentences": 2}).json()
    assert plain["status"] == "ok" and "cats" in plain["outputs"]["story"]


def test_closing_a_live_stream_cancels_its_run(hosts) -> None:
    host = hosts([EXAMPLES / "streaming-story"])
    with host.client.stream("POST", "/api/tools/streaming-story/runs", params={"stream": "true"},
                            json={"inputs": {"topic": "owls", "sentences": 12}}) as reply:  # fmt: skip
        for line in reply.iter_lines():
            if line.startswith("data: "):
                break  # one event seen: the client goes away
    run_id = host.wait_event("run_started")["run_id"]
    assert host.wait_status(run_id, "cancelled", "ok")["status"] == "cancelled"


def test_live_events_of_a_background_run(hosts, tmp_path: Path) -> None:
    host = hosts([EXAMPLES / "streaming-story"])
    run_id = host.start_run("streaming-story", {"topic": "bees", "sentences": 3})
    events = _sse(host.client.get(f"/api/runs/{run_id}/events").text)
    assert events[-1]["done"] is True and events[-1]["status"] == "ok"
    assert any(e["output_key"] == "story" for e in events)


def test_a_foreign_tool_is_normalised(hosts, tmp_path: Path) -> None:
    folder = tmp_path / "foreign"
    folder.mkdir()
    for name in ("tool.json", "pyproject.toml"):
        (folder / name).write_text((FOREIGN / name).read_text())
    source = (FOREIGN / "main.py").read_text()
    crash = 'greeting = "Hello, " + (None if name == "boom" else name) + "!"'
    (folder / "main.py").write_text(source.replace('greeting = "Hello, " + name + "!"', crash))
    host = hosts([folder])
    result = host.run("foreign-tool", {"name": "Ada", "count": 2}).json()
    assert result["status"] == "ok", result
    outputs = result["outputs"]
    assert outputs["greeting"] == "Hello, Ada!" and outputs["total"] == 4
    assert outputs["details"] == {"pairs": {"name": "Ada", "count": 2}}  # kv without `pairs` made canonical
    assert "run_id" not in outputs  # the echoed, undeclared key is not an output
    assert outputs["story"].startswith("Once upon a time")  # legacy {"chunk"} frames, then per-key final

    broken = host.run("foreign-tool", {"name": "boom"}).json()  # a bare text/plain 500, then a reset connection
    assert broken["status"] == "error" and broken["error"]["status_code"] == 500
    assert broken["error"]["detail"] == "Internal Server Error"
    assert "TypeError" in broken["error"]["stderr_tail"]
    again = host.run("foreign-tool", {"name": "Bo"}).json()
    assert again["status"] == "ok" and again["outputs"]["greeting"] == "Hello, Bo!"
    host.wait_event("run_finished", where=lambda e: e.get("run_id") == again["run_id"])
    assert len(host.named("spawned")) == 1  # the same process served all three


def test_a_quiet_stream_gets_heartbeats(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)], env={"PIXIE_SSE_HEARTBEAT_SECONDS": "0.2"})
    run_id = host.start_run("probe", {"action": "sleep", "seconds": 1.2})
    with host.client.stream("GET", f"/api/runs/{run_id}/events") as reply:
        lines = [line for line in reply.iter_lines() if line]
    beats = [n for n, line in enumerate(lines) if line.startswith(":")]
    data = [n for n, line in enumerate(lines) if line.startswith("data: ")]
    assert len(beats) >= 3 and max(beats) < data[-1]  # comments while the tool sleeps, then the end
    assert json.loads(lines[data[-1]][len("data: ") :])["status"] == "ok"

    broken = hosts([make_probe(tmp_path / "b")], env={"PIXIE_SSE_HEARTBEAT_SECONDS": "soon"})
    assert "PIXIE_SSE_HEARTBEAT_SECONDS='soon' is not a number of seconds" in broken.stderr()


def test_a_missing_required_secret_refuses_the_run(hosts, tmp_path: Path) -> None:
    folder = make_probe(tmp_path, secrets=[{"key": "PROBE_TOKEN", "required": True}])
    host = hosts([folder])
    reply = host.run("probe")
    assert reply.status_code == 409
    body = reply.json()
    assert body["code"] == "secret_missing" and body["keys"] == ["PROBE_TOKEN"]
    assert "PROBE_TOKEN" in body["detail"] and ".env" in body["detail"]
    assert host.record(body["run_id"])["error"]["code"] == "secret_missing"
    assert host.named("spawned") == []
    (folder / ".env").write_text("PROBE_TOKEN=now-it-is-set\n")
    assert host.run("probe").json()["status"] == "ok"  # the .env is read again when it changes


def test_secret_values_are_masked_everywhere(hosts, tmp_path: Path) -> None:
    secret = "tok-9f8e7d6c5b4a"
    folder = make_probe(tmp_path, env=f"PROBE_TOKEN={secret}\n")
    host = hosts([folder])
    result = host.run("probe", {"action": "secret"}).json()
    assert result["status"] == "error"
    assert result["error"]["detail"] == "refused with token ***"
    logs = host.client.get("/api/tools/probe/logs").json()["text"]
    assert "the token is ***" in logs
    crash = host.run("probe", {"action": "crash"}).json()
    record = host.record(crash["run_id"])
    seen = json.dumps([result, record, logs, host.record(result["run_id"])])
    assert secret not in seen
    log_file = (host.data_dir / "logs" / "probe.log").read_text()
    assert "the token is ***" in log_file and secret not in log_file
    host.stop()
    assert secret not in (host.data_dir / "runs.sqlite3").read_bytes().decode(errors="replace")


def test_tool_listing_shows_broken_tools(hosts, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    make_probe(tools, "good")
    (tools / "bad").mkdir()
    (tools / "bad" / "tool.json").write_text("{not json")
    host = hosts([tools])
    listing = {t["id"]: t for t in host.client.get("/api/tools").json()}
    assert listing["good"]["error"] is None and listing["good"]["state"] == "cold"
    assert listing["bad"]["error"] and "tool.json" in listing["bad"]["error"]
    refused = host.run("bad")
    assert refused.status_code == 409 and refused.json()["code"] == "tool_invalid"
    assert isinstance(host.client.get("/api/tools/good").json()["manifest"], dict)
    with pytest.raises(httpx.HTTPStatusError):
        host.client.get("/api/tools/none").raise_for_status()


def test_autocomplete_suggestions_come_from_the_tool(hosts) -> None:
    host = hosts([EXAMPLES / "kitchen-sink", EXAMPLES / "compound-interest"])
    reply = host.client.get("/api/tools/kitchen-sink/autocomplete/fruits", params={"q": "ap"})
    assert reply.status_code == 200, reply.text
    suggestions = reply.json()
    assert suggestions and all(set(s) == {"value", "label"} for s in suggestions)
    assert any("ap" in str(s["value"]).lower() for s in suggestions)
    unknown = host.client.get("/api/tools/kitchen-sink/autocomplete/nope", params={"q": "x"})
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    none = host.client.get("/api/tools/compound-interest/autocomplete/fruits")
    assert none.status_code == 404 and "provides_autocomplete" in none.json()["detail"]
