"""Real hosts for the host tests: ``pixie serve`` as a subprocess on a free port, its NDJSON events read live."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROBE = ROOT / "tests" / "fixtures" / "tools" / "host" / "probe"
FOREIGN = ROOT / "tests" / "fixtures" / "tools" / "good" / "foreign-tool"
#: A host that has not printed its start-up object in this long is broken.
START_DEADLINE_SECONDS = 20.0
#: Bound for waiting on an event or a state; generous, the tests assert what happened, not how fast.
WAIT_SECONDS = 30.0


class HostProcess:
    """A running ``pixie`` host and what it printed."""

    def __init__(self, proc: subprocess.Popen[str], data_dir: Path, stderr_path: Path) -> None:
        self.proc = proc
        self.data_dir = data_dir
        self.stderr_path = stderr_path
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if not first:
            proc.wait(5)
            raise RuntimeError(f"the host exited ({proc.returncode}) before starting:\n{self.stderr()}")
        self.startup: dict[str, Any] = json.loads(first)
        self.port = int(self.startup["port"])
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.client = httpx.Client(base_url=self.url, timeout=WAIT_SECONDS)
        self.wait_healthy()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            try:
                if self.client.get(httpx.URL(self.startup["url"]).path.rstrip("/") + "/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError(f"the host never answered /healthz:\n{self.stderr()}")

    def wait_event(
        self, name: str, tool: str | None = None, where: Callable[[dict[str, Any]], bool] = lambda e: True
    ) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        with self._cond:
            while True:
                for event in self.events:
                    if event["event"] == name and (tool is None or event["tool"] == tool) and where(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {name} event for {tool}; events: {self.events}\n{self.stderr()}")
                self._cond.wait(left)

    def wait_count(self, name: str, count: int, tool: str | None = None) -> list[dict[str, Any]]:
        """Wait until ``count`` events named ``name`` have arrived (the host writes events in batches)."""
        self.wait_event(name, tool, lambda e: len(self.named(name, tool)) >= count)
        return self.named(name, tool)

    def named(self, name: str, tool: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e["event"] == name and (tool is None or e["tool"] == tool)]

    def run(self, tool: str, inputs: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
        return self.client.post(f"/api/tools/{tool}/runs", json={"inputs": inputs or {}}, params=params)

    def start_run(self, tool: str, inputs: dict[str, Any] | None = None) -> str:
        reply = self.run(tool, inputs, background="true")
        assert reply.status_code == 202, reply.text
        return str(reply.json()["id"])

    def record(self, run_id: str) -> dict[str, Any]:
        reply = self.client.get(f"/api/runs/{run_id}")
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def wait_status(self, run_id: str, *statuses: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            record = self.record(run_id)
            if record["status"] in statuses:
                return record
            time.sleep(0.02)
        raise AssertionError(f"run {run_id} never reached {statuses}: {self.record(run_id)}")

    def tool(self, tool: str) -> dict[str, Any]:
        return dict(self.client.get(f"/api/tools/{tool}").json())

    def wait_tool(self, tool: str, where: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            info = self.tool(tool)
            if where(info):
                return info
            time.sleep(0.05)
        raise AssertionError(f"{tool} never got there: {self.tool(tool)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def pixie_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pixie_host", *args]


def start_host(
    paths: list[Path], data_dir: Path, *args: str, command: str = "serve", env: dict[str, str] | None = None
) -> HostProcess:
    stderr_path = data_dir.parent / f"{data_dir.name}-host.stderr"
    data_dir.mkdir(parents=True, exist_ok=True)
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            pixie_command(command, *map(str, paths), "--port", "0", "--json", "--data-dir", str(data_dir), *args),
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    return HostProcess(proc, data_dir, stderr_path)


def make_probe(parent: Path, tool_id: str = "probe", *, env: str | None = None, **manifest: Any) -> Path:
    """A copy of the probe tool with its id and manifest fields changed."""
    folder = parent / tool_id
    shutil.copytree(PROBE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    data = json.loads((folder / "tool.json").read_text())
    data.update(id=tool_id, **manifest)
    (folder / "tool.json").write_text(json.dumps(data))
    if env is not None:
        (folder / ".env").write_text(env)
    return folder


def pid_gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Callable[..., HostProcess]]:
    """Start hosts with ``hosts([paths], *args)``; every one is stopped (and its tools checked gone) at the end."""
    started: list[HostProcess] = []

    def start(
        paths: list[Path],
        *args: str,
        data_dir: Path | None = None,
        command: str = "serve",
        env: dict[str, str] | None = None,
    ) -> HostProcess:
        host = start_host(paths, data_dir or tmp_path / f"data{len(started)}", *args, command=command, env=env)
        started.append(host)
        return host

    yield start
    for host in started:
        pids = [e["pid"] for e in host.named("spawned") if e.get("pid")]
        host.stop()
        for pid in pids:
            if not pid_gone(pid):
                os.killpg(pid, signal.SIGKILL)
                raise AssertionError(f"tool process {pid} outlived its host")


#: Set by .ci/run, which installs and starts Debian's PostgreSQL; else a local cluster is tried.
POSTGRES_ENV = "PIXIE_TEST_POSTGRES_URL"


def _local_postgres() -> str | None:
    """Start Debian's PostgreSQL cluster (as root) and make a database for the tests, or None."""
    if shutil.which("pg_lsclusters") is None or os.geteuid() != 0:
        return None
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    fields = listing.stdout.split()
    if len(fields) < 2:
        return None
    version, cluster = fields[0], fields[1]
    subprocess.run(["pg_ctlcluster", version, cluster, "start"], capture_output=True)
    sql = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pixie') THEN "
        "CREATE ROLE pixie LOGIN PASSWORD 'pixie'; END IF; END $$;"
    )

    def psql(sql: str) -> subprocess.CompletedProcess[str]:
        # SQL on stdin: through `su -c` a `$$` would be the shell's pid.
        return subprocess.run(
            ["su", "postgres", "-c", "psql -qtA"], input=sql, capture_output=True, text=True, cwd="/tmp"
        )

    if psql(sql).returncode != 0:
        return None
    if psql("SELECT 1 FROM pg_database WHERE datname = 'pixie_test'").stdout.strip() != "1":
        psql("CREATE DATABASE pixie_test OWNER pixie")
    return "postgresql+psycopg://pixie:pixie@127.0.0.1:5432/pixie_test"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV) or _local_postgres()
    if not url:
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} (.ci/run installs and starts one)")
    return url
