"""The host's own life: shutdown stops every tool, a SIGKILLed host leaves no orphans, a reopened data dir
loses nothing; the CLI's taken-port, dry-run and usage answers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.host.conftest import EXAMPLES, FOREIGN, ROOT, make_probe, pid_gone, pixie_command

pytestmark = pytest.mark.subprocess


def test_sigterm_stops_every_tool(hosts, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    make_probe(tools, "one")
    make_probe(tools, "two")
    host = hosts([tools])
    pids = [host.run(t).json()["outputs"]["pid"] for t in ("one", "two")]
    assert host.stop(signal.SIGTERM) == 0
    assert all(pid_gone(p, within=0.5) for p in pids)  # stopped before the host exited, not after
    assert {e["tool"] for e in host.named("stopped")} == {"one", "two"}


def test_a_sigkilled_host_leaves_no_tool_alive(hosts, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    make_probe(tools, "sdk-tool")
    (tools / "foreign").mkdir()
    for name in ("main.py", "tool.json", "pyproject.toml"):
        (tools / "foreign" / name).write_text((FOREIGN / name).read_text())
    host = hosts([tools])
    assert host.run("sdk-tool").json()["status"] == "ok"
    assert host.run("foreign-tool", {"name": "x"}).json()["status"] == "ok"
    pids = [e["pid"] for e in host.wait_count("spawned", 2)]
    assert len(pids) == 2
    host.proc.send_signal(signal.SIGKILL)
    host.proc.wait(5)
    # SDK tools watch their parent; the foreign one is taken down by the host's watchdog.
    assert all(pid_gone(p, within=2.0) for p in pids), pids


def test_the_data_dir_survives_a_killed_host(hosts, tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = make_probe(tmp_path)
    host = hosts([folder], data_dir=data)
    done = host.run("probe").json()["run_id"]
    starred = host.run("probe").json()["run_id"]
    host.client.post(f"/api/runs/{starred}/star")
    running = host.start_run("probe", {"action": "sleep", "seconds": 60})
    host.wait_status(running, "running")
    host.proc.send_signal(signal.SIGKILL)
    host.proc.wait(5)
    left = {f.name for f in (data / "artefacts" / "probe").iterdir()}
    assert {done, starred, running} < left  # and the folders made ready for runs that never came
    for leftover in (data / "artefacts" / "probe").iterdir():  # as if a while ago: fresh ones may be a live host's
        os.utime(leftover, (time.time() - 120, time.time() - 120))

    again = hosts([folder], data_dir=data)
    assert {f.name for f in (data / "artefacts" / "probe").iterdir()} == {done, starred, running}
    assert again.record(done)["status"] == "ok"
    assert again.record(starred)["starred"] is True
    interrupted = again.record(running)
    assert interrupted["status"] == "interrupted" and interrupted["finished_at"] is not None
    assert again.run("probe").json()["status"] == "ok"
    assert len(again.client.get("/api/runs").json()) == 4


def test_runs_in_flight_at_shutdown_are_recorded_interrupted(hosts, tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = make_probe(tmp_path)
    host = hosts([folder], data_dir=data)
    running = host.start_run("probe", {"action": "sleep", "seconds": 60})
    host.wait_status(running, "running")
    assert host.stop(signal.SIGINT) == 0
    # A clean stop leaves only the folders of recorded runs (none made ahead and unused).
    assert [f.name for f in (data / "artefacts" / "probe").iterdir()] == [running]
    again = hosts([folder], data_dir=data)
    assert again.record(running)["status"] == "interrupted"


def test_a_taken_port_exits_4_with_the_eaddrinuse_object(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            pixie_command("run", str(EXAMPLES / "compound-interest"), "--port", str(port), "--data-dir", str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 4
    error = json.loads(proc.stderr.strip().splitlines()[-1])
    assert error == {"status": "error", "code": "EADDRINUSE", "port": port, "message": f"port {port} is already in use"}


def test_dry_run_loads_and_checks_without_starting(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    make_probe(tools, "fine")
    make_probe(tools, "needy", secrets=[{"key": "NEEDY_KEY", "required": True}])
    (tools / "broken").mkdir()
    (tools / "broken" / "tool.json").write_text('{"id": "broken", "inputs": []}')
    proc = subprocess.run(
        pixie_command(
            "serve", str(tools), "--dry-run", "--json", "--python", sys.executable, "--data-dir", str(tmp_path / "d")
        ),  # fmt: skip
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["status"] == "dry-run" and report["ok"] is False
    by_id = {t["id"]: t for t in report["tools"]}
    assert by_id["fine"]["ok"] is True
    assert by_id["fine"]["argv"] == [sys.executable, "main.py", "--port", "<port>"]
    assert by_id["fine"]["interpreter"]["source"] == "--python"
    assert by_id["needy"]["secrets_missing"] == ["NEEDY_KEY"]
    assert by_id["broken"]["ok"] is False and "outputs" in by_id["broken"]["error"]
    assert not (tmp_path / "d" / "logs").exists()  # nothing was spawned

    human = subprocess.run(pixie_command("serve", str(tools / "fine"), "--dry-run", "--data-dir", str(tmp_path / "d")),
                           capture_output=True, text=True, timeout=30)  # fmt: skip
    assert human.returncode == 0 and "ok  fine" in human.stdout


def test_usage_errors_name_the_problem(tmp_path: Path) -> None:
    missing = subprocess.run(pixie_command("run", str(tmp_path / "nope")), capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    not_tool = subprocess.run(pixie_command("run", str(EXAMPLES)), capture_output=True, text=True)
    assert not_tool.returncode == 2 and "pixie serve" in not_tool.stderr
    flags = subprocess.run(pixie_command("serve", str(EXAMPLES), "--inputs", "a"), capture_output=True, text=True)
    assert flags.returncode == 2 and "pixie serve tool PATH" in flags.stderr
    assert "Traceback" not in missing.stderr + not_tool.stderr + flags.stderr
    no_history = subprocess.run(pixie_command("runs", "--data-dir", str(tmp_path)), capture_output=True, text=True)
    assert no_history.returncode == 2 and "no run history" in no_history.stderr


def test_sync_builds_the_tool_venv_with_uv(hosts, tmp_path: Path) -> None:
    folder = tmp_path / "stdlib-tool"
    (folder).mkdir()
    source = ROOT / "tests" / "fixtures" / "tools" / "host" / "stdlib-tool"
    for name in ("main.py", "tool.json", "pyproject.toml"):
        (folder / name).write_text((source / name).read_text())
    host = hosts([folder], "--sync")
    # The first run waits for `uv sync` to build the venv, which on a busy machine takes a while.
    reply = host.client.post("/api/tools/stdlib-tool/runs", json={"inputs": {"text": "abc"}}, timeout=180)
    result = reply.json()
    assert result["status"] == "ok", result
    assert result["outputs"]["reversed"] == "cba"
    argv = host.wait_event("spawned")["argv"]  # events reach stdout a moment after the reply
    assert argv[0] == str(folder / ".venv" / "bin" / "python")
    assert (folder / ".venv").is_dir()
