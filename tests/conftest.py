from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: A tool that is not up in this long is broken; the contract's own deadline is 30 s.
READY_DEADLINE_SECONDS = 20.0
#: Time a stopped tool gets to exit after SIGTERM before the test kills it.
STOP_GRACE_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningTool:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def stderr_tail(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_tool(folder: Path, *, env: dict[str, str] | None = None) -> RunningTool:
    port = free_port()
    stderr_path = Path(tempfile.mkstemp(prefix=f"{folder.name}-", suffix=".stderr")[1])
    with stderr_path.open("wb") as stderr:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "main.py", "--port", str(port)],
            cwd=folder,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    tool = RunningTool(folder, port, proc, stderr_path)
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{folder.name} exited with {proc.returncode} before ready:\n{tool.stderr_tail()}")
        try:
            if httpx.get(f"{tool.url}/healthz", timeout=1).status_code == 200:
                return tool
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    tool.stop()
    raise RuntimeError(f"{folder.name} not ready in {READY_DEADLINE_SECONDS} s")


@pytest.fixture
def spawn() -> Iterator[Callable[..., RunningTool]]:
    started: list[RunningTool] = []

    def _spawn(folder: Path | str, **kwargs: object) -> RunningTool:
        tool = start_tool(Path(folder), **kwargs)  # type: ignore[arg-type]
        started.append(tool)
        return tool

    yield _spawn
    for tool in started:
        tool.stop()


@pytest.fixture(autouse=True)
def _clean_pixie_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("PIXIE_"):
            monkeypatch.delenv(key)
