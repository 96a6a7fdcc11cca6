"""The one spawn recipe for a tool process, shared by the validator, the conformance kit and the host.

``launch_spec`` resolves the interpreter and the environment (contract §5); ``ToolProcess``
starts ``<python> <entrypoint> --port N`` in its own process group with stdin closed,
keeps stdout+stderr in a 64 KiB ring (and optionally a log file), polls ``/healthz`` until
ready, and stops the group with SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict

from pixie_sdk.contract import ENV_ARTEFACTS_ROOT, ENV_PARENT_PID, ENV_TOOL_ID, LOOPBACK_HOST, ROUTE_HEALTHZ
from pixie_sdk.manifest import ToolManifest
from pixie_validate.errors import ToolStartError

__all__ = [
    "DEFAULT_READY_DEADLINE_SECONDS",
    "ENV_ALLOW_LIST",
    "STOP_GRACE_SECONDS",
    "Interpreter",
    "LaunchSpec",
    "OutputRing",
    "StopResult",
    "ToolProcess",
    "free_port",
    "launch_spec",
    "read_dotenv",
    "resolve_interpreter",
]

#: The contract's start-up deadline unless the tool's validator_timeout_override says otherwise.
DEFAULT_READY_DEADLINE_SECONDS = 30.0
#: First /healthz poll interval: most tools are up within tens of milliseconds of their imports.
FIRST_POLL_SECONDS = 0.01
#: Poll interval ceiling: the contract asks for at least one poll every 100 ms.
MAX_POLL_SECONDS = 0.1
#: The asynchronous poll (the host's) tries a TCP connect this often: a refused loopback connect
#: costs microseconds, and every millisecond of poll gap is start-up latency the user waits for.
ASYNC_CONNECT_POLL_SECONDS = 0.004
#: Per-request timeout of one /healthz poll; a tool that takes longer is not ready.
HEALTH_REQUEST_TIMEOUT_SECONDS = 1.0
#: SIGTERM to SIGKILL: the contract's shutdown grace.
STOP_GRACE_SECONDS = 5.0
#: After SIGKILL the kernel reaps fast; this only bounds a wedged wait.
KILL_WAIT_SECONDS = 2.0
#: The contract's output ring size per tool process.
RING_BYTES = 64 * 1024

#: Variables a tool inherits from the caller; everything else is withheld (secrets come from its .env).
ENV_ALLOW_LIST = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "TERM",
                  "SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR")  # fmt: skip


class OutputRing:
    """The last ``capacity`` bytes a process wrote (thread-safe)."""

    def __init__(self, capacity: int = RING_BYTES) -> None:
        self._capacity = capacity
        self._data = bytearray()
        self._lock = threading.Lock()
        self.total = 0

    def write(self, chunk: bytes) -> None:
        with self._lock:
            self.total += len(chunk)
            self._data += chunk
            if len(self._data) > self._capacity:
                del self._data[: len(self._data) - self._capacity]

    def text(self, limit: int | None = None) -> str:
        """The kept output as text (only the last ``limit`` characters when given)."""
        with self._lock:
            text = self._data.decode("utf-8", errors="replace")
        return text[-limit:] if limit else text


class Interpreter(BaseModel):
    """The Python a tool runs under, and where that choice came from."""

    model_config = ConfigDict(frozen=True)

    path: str
    source: Literal["--python", ".venv", "host"]


def resolve_interpreter(folder: Path, python: str | None = None) -> Interpreter:
    """``--python``, else the tool's ``.venv``, else the caller's own interpreter (contract §5)."""
    if python:
        return Interpreter(path=python, source="--python")
    for candidate in (folder / ".venv" / "bin" / "python", folder / ".venv" / "Scripts" / "python.exe"):
        if candidate.exists():
            return Interpreter(path=str(candidate), source=".venv")
    return Interpreter(path=sys.executable, source="host")


def read_dotenv(folder: Path) -> dict[str, str]:
    """The tool's ``.env`` (``KEY="value"`` lines); empty when there is none."""
    path = folder / ".env"
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK_HOST, 0))
        return int(s.getsockname()[1])


class LaunchSpec(BaseModel):
    """Everything needed to start one tool process."""

    model_config = ConfigDict(frozen=True)

    tool_id: str
    argv: list[str]
    cwd: str
    env: dict[str, str]
    port: int
    interpreter: Interpreter

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK_HOST}:{self.port}"


def launch_spec(
    folder: Path,
    manifest: ToolManifest | None,
    *,
    python: str | None = None,
    port: int | None = None,
    artefacts_root: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    parent_env: Mapping[str, str] | None = None,
) -> LaunchSpec:
    """The spawn recipe: ``<python> <entrypoint> --port N``, cwd the tool folder, allow-listed env + .env."""
    folder = folder.resolve()
    source = os.environ if parent_env is None else parent_env
    env = {k: v for k, v in source.items() if k in ENV_ALLOW_LIST or k.startswith("LC_")}
    env.update(read_dotenv(folder))
    tool_id = manifest.id if manifest is not None else folder.name
    env.update({"PYTHONUNBUFFERED": "1", ENV_TOOL_ID: tool_id, ENV_PARENT_PID: str(os.getpid())})
    if artefacts_root is not None:
        env[ENV_ARTEFACTS_ROOT] = str(artefacts_root)
    env.update(extra_env or {})
    interpreter = resolve_interpreter(folder, python)
    entrypoint = manifest.entrypoint if manifest is not None else "main.py"
    chosen = port or free_port()
    return LaunchSpec(
        tool_id=tool_id,
        argv=[interpreter.path, entrypoint, "--port", str(chosen)],
        cwd=str(folder),
        env=env,
        port=chosen,
        interpreter=interpreter,
    )


class StopResult(BaseModel):
    """How a stop went."""

    graceful: bool
    """The process exited within the grace period after SIGTERM."""
    returncode: int | None
    seconds: float


class ToolProcess:
    """One running tool process (a context manager: it is stopped on exit)."""

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        log_file: Path | None = None,
        on_exit: Callable[[int | None], None] | None = None,
        log_filter: Callable[[str], str] | None = None,
    ) -> None:
        self.spec = spec
        self._log_filter = log_filter
        self.output = OutputRing()
        self._log_file = log_file
        self._on_exit = on_exit
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self.started_at: float | None = None
        self.ready_ms: float | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def url(self) -> str:
        return self.spec.url

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Spawn the process (own session and process group, stdin closed, output captured).

        Raises:
            ToolStartError: the interpreter or entrypoint cannot be executed.
        """
        self.started_at = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                self.spec.argv,
                cwd=self.spec.cwd,
                env=self.spec.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ToolStartError(f"cannot execute {self.spec.argv[0]}: {exc.strerror}", returncode=None) from None
        self._reader = threading.Thread(target=self._pump, name=f"pixie-output-{self.spec.tool_id}", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stream = self._proc.stdout
        log = self._log_file.open("ab") if self._log_file else None
        pending = b""
        try:
            # os.read returns what is there (up to 4 KiB) instead of waiting to fill a buffer.
            for chunk in iter(lambda: os.read(stream.fileno(), 4096), b""):
                self.output.write(chunk)
                if log:
                    pending = self._log(log, pending + chunk, final=False)
        finally:
            if log:
                self._log(log, pending, final=True)
                log.close()
            stream.close()
            if self._on_exit is not None:
                # EOF means the process closed its output: it is exiting, so the wait is short.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(KILL_WAIT_SECONDS)
                self._on_exit(self._proc.poll())

    def _log(self, log: Any, data: bytes, *, final: bool) -> bytes:
        """Write whole lines (so a filter, such as secret masking, sees each line entire); return the rest."""
        if self._log_filter is None:
            log.write(data)
            log.flush()
            return b""
        cut = len(data) if final else data.rfind(b"\n") + 1
        if cut:
            log.write(self._log_filter(data[:cut].decode("utf-8", errors="replace")).encode())
            log.flush()
        return data[cut:]

    def _raise_if_failed(self, deadline_seconds: float) -> None:
        """The start-up has failed when the process exited or the deadline passed: raise, with the output."""
        assert self.started_at is not None, "start() first"
        elapsed = time.monotonic() - self.started_at
        code = self.returncode
        if code is not None:
            raise ToolStartError(
                f"the tool exited with status {code} after {elapsed:.1f} s, before answering {ROUTE_HEALTHZ}",
                returncode=code, output=self.output.text(), elapsed=elapsed)  # fmt: skip
        if elapsed > deadline_seconds:
            raise ToolStartError(
                f"no 200 from {ROUTE_HEALTHZ} within {deadline_seconds:g} s",
                returncode=None, output=self.output.text(), elapsed=elapsed)  # fmt: skip

    def wait_ready(self, deadline_seconds: float = DEFAULT_READY_DEADLINE_SECONDS) -> float:
        """Poll ``/healthz`` until it answers 200; return milliseconds since spawn.

        Raises:
            ToolStartError: the process exited, or the deadline passed (with the output tail).
        """
        assert self.started_at is not None, "start() first"
        interval = FIRST_POLL_SECONDS
        url = self.url + ROUTE_HEALTHZ
        import httpx  # here: the host polls with wait_ready_async and never needs httpx

        from pixie_validate.client import shared_ssl_context

        with httpx.Client(timeout=HEALTH_REQUEST_TIMEOUT_SECONDS, verify=shared_ssl_context()) as client:
            while True:
                if self.returncode is not None:
                    self._join_reader()
                self._raise_if_failed(deadline_seconds)
                try:
                    if client.get(url).status_code == 200:
                        self.ready_ms = (time.monotonic() - self.started_at) * 1000
                        return self.ready_ms
                except httpx.TransportError:
                    pass
                time.sleep(interval)
                interval = min(interval * 1.5, MAX_POLL_SECONDS)

    async def wait_ready_async(self, deadline_seconds: float = DEFAULT_READY_DEADLINE_SECONDS) -> float:
        """``wait_ready`` for an event loop: connect-poll the port, then ``GET /healthz``; ms since spawn.

        Raises:
            ToolStartError: the process exited, or the deadline passed (with the output tail).
        """
        assert self.started_at is not None, "start() first"
        request = f"GET {ROUTE_HEALTHZ} HTTP/1.1\r\nHost: {LOOPBACK_HOST}\r\nConnection: close\r\n\r\n".encode()
        while True:
            if self.returncode is not None:
                await asyncio.to_thread(self.join_output, 1.0)  # its last words, before they are reported
            self._raise_if_failed(deadline_seconds)
            if await _healthz_ok(self.spec.port, request):
                self.ready_ms = (time.monotonic() - self.started_at) * 1000
                return self.ready_ms
            await asyncio.sleep(ASYNC_CONNECT_POLL_SECONDS)

    def kill(self) -> None:
        """SIGKILL the whole process group now (a run over its limits; nothing to wait for)."""
        if self._proc is not None:
            self._signal(signal.SIGKILL)

    def _join_reader(self) -> None:
        self.join_output(1.0)

    def join_output(self, timeout: float) -> None:
        """Wait (up to ``timeout``) until everything the exited process wrote is in the ring."""
        if self._reader is not None:
            self._reader.join(timeout=timeout)

    def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> StopResult:
        """SIGTERM the process group, wait ``grace_seconds``, then SIGKILL it."""
        started = time.monotonic()
        if self._proc is None or self._proc.poll() is not None:
            self._join_reader()
            return StopResult(graceful=True, returncode=self.returncode, seconds=0.0)
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(grace_seconds)
            graceful = True
        except subprocess.TimeoutExpired:
            graceful = False
            self._signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(KILL_WAIT_SECONDS)
        # The group may hold children the tool started; they go with it.
        self._signal(signal.SIGKILL)
        self._join_reader()
        return StopResult(graceful=graceful, returncode=self._proc.returncode, seconds=time.monotonic() - started)

    def _signal(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    def __enter__(self) -> ToolProcess:
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _healthz_ok(port: int, request: bytes) -> bool:
    try:
        async with asyncio.timeout(HEALTH_REQUEST_TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection(LOOPBACK_HOST, port)
            try:
                writer.write(request)
                status_line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return False
    parts = status_line.split()
    return len(parts) >= 2 and parts[1] == b"200"
