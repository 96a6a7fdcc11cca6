"""The supervisor's limits on real processes: deadline, memory, crashes, cancel, the serial queue, idle, warm cap."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.host.conftest import make_probe, pid_gone

pytestmark = pytest.mark.subprocess


def test_a_run_over_its_deadline_is_killed_and_the_tool_respawns(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path, max_runtime_seconds=1)])
    first = host.run("probe").json()
    pid = first["outputs"]["pid"]
    started = time.monotonic()
    result = host.run("probe", {"action": "stuck", "seconds": 60}).json()
    took = time.monotonic() - started
    assert result["status"] == "timeout"
    assert result["error"]["code"] == "timeout" and "max_runtime_seconds (1 s)" in result["error"]["detail"]
    assert 5.5 < took < 15  # max_runtime_seconds + 5, not the 60 s the handler wanted
    assert pid_gone(pid)
    assert host.record(result["run_id"])["status"] == "timeout"
    again = host.run("probe").json()
    assert again["status"] == "ok" and again["outputs"]["pid"] != pid
    assert host.wait_event("restarted", "probe")["after"] == "timeout"


def test_a_tool_over_its_memory_limit_is_killed(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path, max_memory_mb=200)])
    pid = host.run("probe").json()["outputs"]["pid"]
    result = host.run("probe", {"action": "alloc", "mb": 400, "seconds": 20}).json()
    assert result["status"] == "oom", result
    assert "max_memory_mb 200" in result["error"]["detail"]
    assert pid_gone(pid)
    assert host.record(result["run_id"])["status"] == "oom"
    assert host.run("probe").json()["status"] == "ok"


def test_a_crash_fails_the_run_with_stderr_and_the_next_run_respawns(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)])
    pid = host.run("probe").json()["outputs"]["pid"]
    crashed = host.run("probe", {"action": "crash"}).json()
    assert crashed["status"] == "error" and crashed["error"]["code"] == "tool_crashed"
    assert "crashing on purpose" in crashed["error"]["stderr_tail"]
    assert host.record(crashed["run_id"])["stderr_tail"].count("crashing on purpose") == 1
    event = host.wait_event("crashed", "probe")
    assert event["returncode"] == 3
    assert host.tool("probe")["state"] == "crashed"
    again = host.run("probe").json()
    assert again["status"] == "ok" and again["outputs"]["pid"] != pid
    assert host.wait_event("restarted", "probe")["after"] == "crash"
    logs = host.client.get("/api/tools/probe/logs").json()
    assert "crashing on purpose" in logs["text"]

    failed = host.run("probe", {"action": "fail"}).json()  # a handler exception is a 500, not a crash
    assert failed["status"] == "error" and failed["error"]["status_code"] == 500
    assert "failing on purpose" in failed["error"]["stderr_tail"]
    assert host.run("probe").json()["outputs"]["pid"] == again["outputs"]["pid"]


def test_a_tool_that_cannot_start_enters_a_visible_crash_loop(hosts, tmp_path: Path) -> None:
    folder = make_probe(tmp_path)
    (folder / "main.py").write_text("import sys\nsys.stderr.write('probe: missing dependency\\n')\nsys.exit(1)\n")
    host = hosts([folder])
    for _ in range(3):
        result = host.run("probe").json()
        assert result["status"] == "error" and result["error"]["code"] == "tool_unavailable"
        assert "missing dependency" in result["error"]["stderr_tail"]
    info = host.tool("probe")
    assert info["state"] == "crashed" and info["crash_loop"] is True and info["retry_in_seconds"] > 0
    started = time.monotonic()
    refused = host.run("probe").json()
    assert time.monotonic() - started < 1.0  # refused at once: no fourth spawn inside the back-off
    assert "crashed 3 times in a row" in refused["error"]["detail"]
    assert len(host.wait_count("spawned", 3, "probe")) == 3


def test_cancel_of_a_stuck_run_kills_the_process(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)])
    run_id = host.start_run("probe", {"action": "stuck", "seconds": 60})
    host.wait_status(run_id, "running")
    pid = host.tool("probe")["pid"]
    started = time.monotonic()
    reply = host.client.post(f"/api/runs/{run_id}/cancel")
    assert reply.status_code == 200 and reply.json()["status"] == "cancelled"
    assert pid_gone(pid, within=3.0)
    assert time.monotonic() - started < 4.0  # the 2 s grace, then the kill
    record = host.record(run_id)
    assert record["status"] == "cancelled" and record["error"]["code"] == "cancelled"
    assert host.run("probe").json()["status"] == "ok"
    again = host.client.post(f"/api/runs/{run_id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "run_not_active"


def test_cancel_of_a_cooperative_run_keeps_the_process(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)])
    pid = host.run("probe").json()["outputs"]["pid"]
    run_id = host.start_run("probe", {"action": "sleep", "seconds": 60})
    host.wait_status(run_id, "running")
    started = time.monotonic()
    assert host.client.delete(f"/jobs/{run_id}").json()["status"] == "cancelled"
    assert time.monotonic() - started < 1.5
    assert host.run("probe").json()["outputs"]["pid"] == pid


def test_a_serial_tool_queues_runs_in_order_and_bounds_the_queue(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path, concurrent=False)], "--queue-limit", "2")
    host.run("probe")  # warm, so the queue is about runs and not the spawn
    ids = [host.start_run("probe", {"action": "sleep", "seconds": 0.6})]
    host.wait_status(ids[0], "running")
    ids += [host.start_run("probe", {"action": "sleep", "seconds": 0.3}) for _ in range(2)]
    queued = [host.record(i) for i in ids[1:]]
    assert [r["status"] for r in queued] == ["queued", "queued"]
    assert [r["queue_position"] for r in queued] == [1, 2]
    full = host.run("probe", {"action": "sleep"}, background="true")
    assert full.status_code == 429 and full.json()["code"] == "queue_full"
    assert "one at a time" in full.json()["detail"]
    records = [host.wait_status(i, "ok") for i in ids]
    spans = [(r["outputs"]["started"], r["outputs"]["finished"]) for r in records]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # FIFO, never overlapping

    # A queued run can be cancelled before it ever reaches the tool.
    blocker = host.start_run("probe", {"action": "sleep", "seconds": 1})
    host.wait_status(blocker, "running")
    waiting = host.start_run("probe", {"action": "sleep", "seconds": 0})
    assert host.client.post(f"/api/runs/{waiting}/cancel").json()["status"] == "cancelled"
    assert host.wait_status(blocker, "ok")["status"] == "ok"


def test_concurrent_tools_run_in_parallel(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)])
    host.run("probe")
    results: list[dict[str, object]] = []
    threads = [
        threading.Thread(target=lambda: results.append(host.run("probe", {"action": "sleep", "seconds": 0.5}).json()))
        for _ in range(3)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started < 1.4
    assert all(r["status"] == "ok" for r in results)


def test_idle_tools_stop_and_the_warm_cap_evicts_the_least_recent(hosts, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    make_probe(tools, "idle", warm_keep_seconds=1)
    for name in ("a", "b", "c"):
        make_probe(tools, name)
    make_probe(tools, "pinned", pinned_warm=True, warm_keep_seconds=0)
    host = hosts([tools], "--warm-cap", "3")
    host.wait_event("ready", "pinned")  # pinned_warm tools start with the host, before any run

    pid = host.run("idle").json()["outputs"]["pid"]
    host.wait_event("stopped", "idle", lambda e: e["reason"] == "idle")
    assert pid_gone(pid) and host.tool("idle")["state"] == "cold"

    host.run("a")
    host.run("b")  # running now: pinned, a, b (the cap is 3)
    host.run("c")  # a is the least recently used idle tool
    host.wait_event("stopped", "a", lambda e: e["reason"] == "evicted")
    states = {t["id"]: t["state"] for t in host.client.get("/api/tools").json()}
    assert states == {"a": "cold", "b": "ready", "c": "ready", "idle": "cold", "pinned": "ready"}
    time.sleep(1.2)
    assert host.tool("pinned")["state"] == "ready"  # warm_keep_seconds does not apply to a pinned tool
