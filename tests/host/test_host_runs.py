"""Runs through a real host: the JSON API, the run record in SQLite, jobs, the CLI reading history."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from tests.host.conftest import EXAMPLES, make_probe, pixie_command

pytestmark = pytest.mark.subprocess


def test_a_run_is_proxied_recorded_and_listed(hosts, tmp_path: Path) -> None:
    host = hosts([EXAMPLES / "compound-interest"])
    assert host.startup["status"] == "starting"
    assert host.startup["tools"] == ["compound-interest"]
    assert host.startup["docs_url"] == f"{host.startup['url']}/docs"
    assert host.tool("compound-interest")["state"] == "cold"

    reply = host.run("compound-interest", {"years": 2, "rate": 10, "compounding": 1})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["status"] == "ok" and result["error"] is None
    assert result["outputs"]["final_value"] == pytest.approx(12100.0)
    assert result["outputs"]["yearly_breakdown"]["rows"][2]["year"] == 2  # canonical table shape

    record = host.record(result["run_id"])
    assert record["tool_id"] == "compound-interest" and record["status"] == "ok" and record["source"] == "api"
    assert record["inputs"] == {"years": 2, "rate": 10, "compounding": 1}
    assert record["outputs"] == result["outputs"]
    assert record["queued_at"] <= record["started_at"] <= record["ready_at"] <= record["finished_at"]
    assert record["duration_ms"] > 0

    info = host.tool("compound-interest")
    assert info["state"] == "ready" and info["pid"] and info["manifest"]["id"] == "compound-interest"
    assert "serving Compound interest" in info["stderr_tail"]
    validated = host.wait_tool("compound-interest", lambda t: t["last_validation"] is not None)["last_validation"]
    assert validated["ok"] is True and validated["summary"]["scope"] == "static"
    assert validated["summary"]["counts"]["pass"] >= 5

    listed = host.client.get("/api/runs", params={"tool": "compound-interest", "status": "ok"}).json()
    assert [r["id"] for r in listed] == [result["run_id"]]
    assert host.client.get("/api/runs", params={"tool": "nope"}).json() == []

    host.wait_event("run_finished")  # events reach stdout in batches, a moment after the reply
    events = [e["event"] for e in host.events]
    assert events[:4] == ["spawned", "ready", "run_started", "run_finished"]
    finished = host.named("run_finished")[0]
    assert finished["run_id"] == result["run_id"] and finished["status"] == "ok" and finished["duration_ms"] > 0
    assert host.named("ready")[0]["ready_ms"] > 0

    # The history is a real SQLite file in WAL mode, readable by another process while the host runs.
    db = host.data_dir / "runs.sqlite3"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT status FROM runs WHERE id = ?", (result["run_id"],)).fetchone() == ("ok",)
    cli = subprocess.run(
        pixie_command("runs", "--json", "--data-dir", str(host.data_dir)), capture_output=True, text=True, check=True
    )
    assert json.loads(cli.stdout.splitlines()[0])["id"] == result["run_id"]
    shown = subprocess.run(
        pixie_command("runs", result["run_id"], "--data-dir", str(host.data_dir)), capture_output=True, text=True
    )
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "ok"


def test_two_first_runs_share_one_spawn(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)])
    results: list[dict[str, object]] = []

    def go() -> None:
        results.append(host.run("probe", {"action": "sleep", "seconds": 0.2}).json())

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r["status"] for r in results] == ["ok"] * 3
    assert len({r["outputs"]["pid"] for r in results}) == 1  # type: ignore[index]
    host.wait_count("run_finished", 3)  # events reach stdout a moment after the replies
    assert len(host.named("spawned")) == 1


def test_refusals_are_clear_and_failed_runs_recorded(hosts, tmp_path: Path) -> None:
    host = hosts([EXAMPLES / "compound-interest"])
    bad = host.run("compound-interest", {"years": "ten"})
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "invalid_inputs"
    assert body["detail"][0]["loc"] == ["body", "inputs", "years"]
    assert host.record(body["run_id"])["status"] == "error"
    assert host.record(body["run_id"])["error"]["code"] == "invalid_inputs"

    missing = host.run("no-such-tool")
    assert missing.status_code == 404 and missing.json()["code"] == "tool_not_found"
    shape = host.client.post("/api/tools/compound-interest/runs", json={"years": 3})
    assert shape.status_code == 422 and shape.json()["code"] == "invalid_request"
    assert "inputs" in shape.json()["detail"][0]["msg"]
    not_json = host.client.post("/api/tools/compound-interest/runs", content=b"{nope")
    assert not_json.status_code == 422 and "not JSON" in not_json.json()["detail"]
    unknown = host.client.get("/api/runs/does-not-exist")
    assert unknown.status_code == 404 and unknown.json()["code"] == "run_not_found"
    assert host.client.get("/api/nothing").json()["code"] == "not_found"


def test_background_job_is_polled_to_done(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)])
    reply = host.run("probe", {"action": "sleep", "seconds": 0.5}, background="true")
    assert reply.status_code == 202
    handle = reply.json()
    assert set(handle) == {"id", "job_url"} and handle["job_url"] == f"{host.url}/jobs/{handle['id']}"
    first = host.client.get(handle["job_url"]).json()
    assert first["id"] == handle["id"] and first["status"] in ("pending", "running")
    host.wait_status(handle["id"], "ok")
    job = host.client.get(handle["job_url"]).json()
    assert job["status"] == "done"
    assert job["result"]["outputs"]["message"] == "did sleep"
    assert host.client.get("/jobs/unknown").status_code == 404


def test_star_and_retention(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path, retain_runs=2)])
    ids = [host.run("probe").json()["run_id"] for _ in range(2)]
    assert host.client.post(f"/api/runs/{ids[0]}/star").json() == {"run_id": ids[0], "starred": True}
    later = [host.run("probe").json()["run_id"] for _ in range(3)]
    kept = {r["id"] for r in host.client.get("/api/runs", params={"tool": "probe"}).json()}
    # The newest two unstarred runs stay, and the starred one is never pruned.
    assert kept == {ids[0], *later[-2:]}
    assert host.client.get("/api/runs", params={"starred": "true"}).json()[0]["id"] == ids[0]
    gone = host.client.get(f"/api/runs/{ids[1]}")
    assert gone.status_code == 404
    assert not (host.data_dir / "artefacts" / "probe" / ids[1]).exists()


def test_artefacts_served_under_their_run_only(hosts, tmp_path: Path) -> None:
    host = hosts([make_probe(tmp_path)])
    result = host.run("probe", {"action": "artefact"}).json()
    run_id = result["run_id"]
    folder = Path(result["outputs"]["message"])
    assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700
    assert folder.parent.name == "probe" and folder.name == run_id
    assert host.client.get(f"/api/runs/{run_id}/artefacts").json()["artefacts"] == ["plot.png", "report.html"]

    html = host.client.get(f"/api/runs/{run_id}/artefacts/report.html")
    assert html.status_code == 200
    assert html.headers["content-disposition"].startswith("attachment")  # never rendered on the host's origin
    assert html.headers["x-content-type-options"] == "nosniff"
    png = host.client.get(f"/api/runs/{run_id}/artefacts/plot.png")
    assert png.headers["content-disposition"].startswith("inline") and png.headers["content-type"] == "image/png"

    other = host.run("probe").json()["run_id"]
    assert host.client.get(f"/api/runs/{other}/artefacts/report.html").status_code == 404
    for escape in ("../" + other, "..%2F..%2Fruns.sqlite3", "%2Fetc%2Fpasswd"):
        assert host.client.get(f"/api/runs/{run_id}/artefacts/{escape}").status_code == 404


def test_openapi_documents_the_api(hosts, tmp_path: Path) -> None:
    host = hosts([EXAMPLES / "compound-interest"], "--prefix", "/pixie")
    assert host.client.get("/pixie/healthz").json()["ok"] is True
    spec = host.client.get("/pixie/openapi.json").json()
    paths = spec["paths"]
    for route in ("/pixie/api/tools", "/pixie/api/tools/{tool_id}/runs", "/pixie/api/runs/{run_id}/events",
                  "/pixie/jobs/{job_id}", "/pixie/api/runs/{run_id}/cancel"):  # fmt: skip
        assert route in paths, route
    body = paths["/pixie/api/tools/{tool_id}/runs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "inputs" in body["properties"]
    assert host.client.get("/pixie/docs").status_code == 200
