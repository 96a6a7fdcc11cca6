"""Tools as a service: a TOML service end to end over real HTTP, SQL export, dry runs, config errors."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.host.conftest import EXAMPLES, ROOT, pixie_command

pytestmark = pytest.mark.subprocess

ECHO = ROOT / "tests" / "fixtures" / "tools" / "host" / "echo-file"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def write_service(folder: Path, db_url: str, *, name: str = "demo", extra: str = "") -> Path:
    config = folder / "service.toml"
    config.write_text(f"""
[[service]]
name = "{name}"
port = 0

[[service.routes]]
tool = "{EXAMPLES / "compound-interest"}"
path = "/interest"
inputs = ["principal", "years"]
outputs = ["final_value", "yearly_breakdown"]
[service.routes.export_sql]
db_connect = "{db_url}"
table = "interest_runs"

[[service.routes]]
tool = "{EXAMPLES / "compound-interest"}"
path = "/interest"
method = "get"
inputs = ["years", "rate"]
outputs = ["final_value"]

[[service.routes]]
tool = "{ECHO}"
path = "/echo"
uploadfile_inputs = ["upload"]
inputs = ["caption"]
outputs = ["picture"]
return_fileresponse = true

[[service.routes]]
tool = "{EXAMPLES / "streaming-story"}"
path = "/story"
inputs = ["topic", "sentences", "delay"]
background = true
{extra}
""")
    return config


def test_a_toml_service_end_to_end(hosts, tmp_path: Path) -> None:
    db = tmp_path / "export.sqlite3"
    config = write_service(tmp_path, f"sqlite:///{db}")
    host = hosts(["demo", "--config", str(config)])
    assert host.startup["service"] == "demo" and host.startup["routes"] == 4

    # JSON body: only the route's inputs, the rest keep their defaults; only its outputs come back.
    reply = host.client.post("/interest", json={"principal": 1000, "years": 2})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"final_value", "yearly_breakdown", "_pixie"}
    assert body["final_value"] == pytest.approx(1000 * (1 + 0.05 / 12) ** 24, rel=1e-3)
    run_id = body["_pixie"]["run_id"]
    assert body["_pixie"]["export"]["ok"] is True and body["_pixie"]["export"]["rows"] == 1
    record = host.record(run_id)
    assert record["source"] == "service" and record["meta"]["export"]["ok"] is True
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT run_id, principal, years, final_value FROM interest_runs").fetchone()
    assert row[0] == run_id and row[1:3] == (1000.0, 2.0) and row[3] == pytest.approx(body["final_value"])

    # `curl -d '{...}'` sends JSON labelled as a form: it is still read as JSON.
    curl_like = host.client.post("/interest", content=b'{"years": 1}',
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert curl_like.status_code == 200 and curl_like.json()["final_value"] > 0
    refused = host.client.post("/interest", json={"principal": 1000, "rate": 9})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "rate"]
    invalid = host.client.post("/interest", json={"years": 0})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_inputs"

    # GET reads the query string, typed by the manifest.
    got = host.client.get("/interest", params={"years": "1", "rate": "10"})
    assert got.status_code == 200 and got.json()["final_value"] == pytest.approx(11047.13, rel=1e-3)

    # A multipart upload in, the raw file back.
    echoed = host.client.post("/echo", files={"upload": ("dot.png", PNG, "image/png")}, data={"caption": "hi"})
    assert echoed.status_code == 200, echoed.text
    assert echoed.content == PNG and echoed.headers["content-type"] == "image/png"
    assert host.record(echoed.headers["x-pixie-run-id"])["status"] == "ok"
    too_big = host.client.post("/echo", files={"upload": ("big.png", b"x" * (4 * 2**20), "image/png")})
    assert too_big.status_code == 413 and too_big.json()["code"] == "body_too_large"

    # A background job, polled to done, with progress on the way.
    started = host.client.post("/story", json={"topic": "owls", "sentences": 6, "delay": 0.15})
    assert started.status_code == 202
    handle = started.json()
    assert handle["job_url"] == f"{host.url}/jobs/{handle['id']}"
    seen_progress = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = host.client.get(handle["job_url"]).json()
        seen_progress = seen_progress or "progress" in job
        if job["status"] == "done":
            break
        time.sleep(0.05)
    assert job["status"] == "done" and "owls" in job["result"]["outputs"]["story"]
    assert seen_progress
    cancelled = host.client.post("/story", json={"topic": "bees", "sentences": 20, "delay": 0.5}).json()
    assert host.client.delete(f"/jobs/{cancelled['id']}").json()["status"] == "cancelled"

    # The OpenAPI document types each route from the tool's manifest.
    spec = host.client.get("/openapi.json").json()
    post = spec["paths"]["/interest"]["post"]
    request = post["requestBody"]["content"]["application/json"]["schema"]
    assert set(request["properties"]) == {"principal", "years"}
    assert request["properties"]["years"]["type"] == "number" and request["properties"]["years"]["minimum"] == 1
    answer = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"type": "number"} in answer["properties"]["final_value"]["anyOf"]
    assert answer["properties"]["yearly_breakdown"]["type"] == "object"
    params = {p["name"]: p for p in spec["paths"]["/interest"]["get"]["parameters"]}
    assert set(params) == {"years", "rate"} and params["rate"]["schema"]["maximum"] == 20
    upload = spec["paths"]["/echo"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["upload"] == {"type": "string", "format": "binary"}


def test_export_methods_and_a_failed_export(hosts, tmp_path: Path) -> None:
    db = tmp_path / "merge.sqlite3"
    config = tmp_path / "merge.toml"
    config.write_text(f"""
[[service]]
name = "m"
[[service.routes]]
tool = "{EXAMPLES / "compound-interest"}"
path = "/merge"
inputs = ["years"]
outputs = ["final_value"]
export_sql = {{ db_connect = "sqlite:///{db}", table = "by_years", method = "merge", key = ["years"] }}
[[service.routes]]
tool = "{EXAMPLES / "compound-interest"}"
path = "/broken"
inputs = ["years"]
outputs = ["final_value"]
export_sql = {{ db_connect = "sqlite:///{tmp_path / "missing" / "dir" / "x.db"}", table = "t" }}
""")
    host = hosts(["m", "--config", str(config), "--port", "0"])
    for years in (1, 2, 1):
        assert host.client.post("/merge", json={"years": years}).json()["_pixie"]["export"]["ok"] is True
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT years, final_value FROM by_years ORDER BY years").fetchall()
    assert [r[0] for r in rows] == [1.0, 2.0]  # merged on the key, not inserted twice

    broken = host.client.post("/broken", json={"years": 1})
    assert broken.status_code == 200  # the run succeeded; only its export failed
    export = broken.json()["_pixie"]["export"]
    assert export["ok"] is False and "OperationalError" in export["error"]
    record = host.record(broken.json()["_pixie"]["run_id"])
    assert record["status"] == "ok" and record["meta"]["export"]["ok"] is False


def test_export_to_postgresql(hosts, tmp_path: Path, postgres_url: str) -> None:
    config = write_service(tmp_path, postgres_url, name="pg")
    host = hosts(["pg", "--config", str(config)])
    body = host.client.post("/interest", json={"principal": 500, "years": 3}).json()
    assert body["_pixie"]["export"]["ok"] is True, body
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT principal, years, final_value FROM interest_runs WHERE run_id = :r"),
                {"r": body["_pixie"]["run_id"]},
            ).one()
            conn.execute(sa.text("DROP TABLE interest_runs"))
            conn.commit()
    finally:
        engine.dispose()
    assert row[0] == 500 and row[1] == 3 and row[2] == pytest.approx(body["final_value"])


def test_single_route_mode(hosts, tmp_path: Path) -> None:
    host = hosts(
        [
            "tool",
            str(EXAMPLES / "compound-interest"),
            "--path",
            "/x",
            "--inputs",
            "years",
            "rate",
            "--outputs",
            "final_value",
        ]
    )
    assert host.startup["routes"] == 1
    body = host.client.post("/x", json={"years": 1, "rate": 10}).json()
    assert set(body) == {"final_value", "_pixie"}


def test_dry_run_resolves_everything_and_starts_nothing(tmp_path: Path) -> None:
    config = write_service(tmp_path, f"sqlite:///{tmp_path / 'e.db'}")
    data = tmp_path / "data"
    proc = subprocess.run(
        pixie_command("serve", "demo", "--config", str(config), "--dry-run", "--json", "--data-dir", str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["service"] == "demo" and report["ok"] is True
    assert [r["label"] for r in report["routes"]] == [
        "[compound-interest] POST /interest",
        "[compound-interest] GET /interest",
        "[echo-file] POST /echo",
        "[streaming-story] POST /story",
    ]
    assert report["routes"][0]["export_sql"]["table"] == "interest_runs"
    assert not (tmp_path / "e.db").exists() and not (data / "logs").exists()
    human = subprocess.run(
        pixie_command("serve", "demo", "--config", str(config), "--dry-run", "--data-dir", str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Routes (4):" in human.stdout and "[echo-file] POST /echo" in human.stdout


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ('background = true\nreturn_fileresponse = true\noutputs = ["picture"]', "background and return_fileresponse"),
        ('inputs = ["nope"]', "echo-file has no input 'nope'"),
        ('outputs = ["size"]\nreturn_fileresponse = true', "exactly one image, audio, video or file output"),
        ('export_sql = { db_connect = "nodriver://x", table = "t" }\noutputs = ["size"]', "export_sql.db_connect"),
    ],
)
def test_invalid_routes_are_refused_naming_the_route(tmp_path: Path, route: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(f'[[service]]\nname = "bad"\n[[service.routes]]\ntool = "{ECHO}"\npath = "/bad"\n{route}\n')
    proc = subprocess.run(
        pixie_command("serve", "bad", "--config", str(config), "--dry-run"), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "route /bad" in proc.stderr and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_configs_merge_and_flags_override(hosts, tmp_path: Path) -> None:
    first = tmp_path / "a.toml"
    first.write_text(
        f'[[service]]\nname = "s"\nport = 1\n[[service.routes]]\ntool = "{EXAMPLES / "compound-interest"}"\n'
        'path = "/a"\noutputs = ["final_value"]\n'
    )
    second = tmp_path / "b.toml"
    second.write_text(
        f'[[service]]\nname = "s"\nprefix = "/v1"\n[[service.routes]]\ntool = "{ECHO}"\npath = "/b"\n'
        'uploadfile_inputs = ["upload"]\noutputs = ["size"]\n'
    )
    host = hosts(["s", "--config", str(first), "--config", str(second), "--port", "0"])
    assert host.startup["routes"] == 2 and host.startup["url"].endswith("/v1")
    assert host.client.post("/v1/a", json={}).json()["final_value"] > 0
    assert host.client.post("/v1/b", files={"upload": ("p.png", PNG, "image/png")}).json()["size"] == len(PNG)
    missing = subprocess.run(
        pixie_command("serve", "other", "--config", str(first), "--dry-run"), capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "no service 'other'" in missing.stderr and "services: s" in missing.stderr


def test_the_readme_example_service_resolves(tmp_path: Path) -> None:
    proc = subprocess.run(
        pixie_command("serve", "examples", "--config", str(EXAMPLES / "service.toml"), "--dry-run", "--json",
                      "--data-dir", str(tmp_path)),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [r["label"] for r in report["routes"]] == [
        "[compound-interest] POST /interest",
        "[compound-interest] GET /interest",
        "[artefact-writer] GET /chart.png",
        "[streaming-story] POST /story",
    ]
